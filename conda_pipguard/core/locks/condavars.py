"""The env's ``conda env config vars``: ``conda-meta/state``, applied on activation.

The soft lock names its constraints file in ``PIP_CONSTRAINT`` and ``UV_CONSTRAINT`` there, since
uv does not read ``pip.conf`` and an activated ``PIP_CONSTRAINT`` replaces pip.conf's value. A
variable replaces whatever the user's shell set, so what was in force before stays listed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..disk.activation import ENV_STATE, UNSET, state_variables
from ..errors import CannotLock, LockError

ENV_VAR_NAMES = ("PIP_CONSTRAINT", "UV_CONSTRAINT")


def load_state(data: bytes | None, path: Path) -> dict[str, Any]:
    """The state file's object ({} when absent).

    Raises:
        LockError: It is not what ``conda env config vars`` writes.
    """
    if data is None:
        return {}
    try:
        state = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        state = None
    if not isinstance(state, dict) or not isinstance(state.get("env_vars", {}), dict):
        raise CannotLock(
            "set PIP_CONSTRAINT/UV_CONSTRAINT in",
            path,
            "it is not what `conda env config vars` writes",
            "fix or remove it, then run `conda pipguard mark --soft` again",
        )
    return state


def dump_state(state: Mapping[str, Any]) -> bytes:
    """The state file as conda writes it (``json.dumps(state, ensure_ascii=False)``)."""
    return json.dumps(state, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class VarsPlan:
    """The state file with our variables set.

    Attributes:
        data: The new bytes.
        variables: Per variable, ``previous`` (the state's value, None when unset there) and
            ``written``.
        pristine: False when the state already named our file (a repair): its bytes are not
            the user's original, so ``unmark`` trims instead of restoring a copy.
    """

    data: bytes
    variables: dict[str, dict[str, str | None]]
    pristine: bool


def set_constraint_vars(
    original: bytes | None,
    path: Path,
    ref: str,
    names_ours: Callable[[str], bool],
    inherited: Mapping[str, Sequence[str]],
) -> VarsPlan:
    """Add *ref* to ``PIP_CONSTRAINT`` and ``UV_CONSTRAINT`` in the state file *original*.

    A value the state has already keeps its tokens; a variable it does not set starts from
    *inherited* (what applied before activation set it: the shell's value, pip's configuration).

    Raises:
        LockError: The state file is not what conda writes.
    """
    state = load_state(original, path)
    env_vars = dict(state.get("env_vars", {}))
    pristine = True
    variables: dict[str, dict[str, str | None]] = {}
    for name in ENV_VAR_NAMES:
        previous = env_vars.get(name)
        if previous is not None and previous != UNSET:
            words = str(previous).split()
            base = [t for t in words if not names_ours(t)]
            if len(base) != len(words):
                pristine = False
                previous = " ".join(base) or None
        else:
            base = [t for t in inherited.get(name, ()) if not names_ours(t)]
        value = " ".join([*base, ref])
        env_vars[name] = value
        variables[name] = {"previous": previous, "written": value}
    return VarsPlan(dump_state({**state, "env_vars": env_vars}), variables, pristine)


def trim_constraint_vars(
    current: bytes,
    path: Path,
    variables: Mapping[str, Any],
    names_ours: Callable[[str], bool],
) -> bytes:
    """Take our variables out of an edited state file (a value we wrote goes back as it was)."""
    try:
        state = load_state(current, path)
    except LockError:
        return current
    env_vars = dict(state.get("env_vars", {}))
    for name in ENV_VAR_NAMES:
        value = env_vars.get(name)
        if value is None:
            continue
        facts = variables.get(name, {})
        if isinstance(facts, dict) and facts and value == facts.get("written"):
            previous = facts.get("previous")
            if previous is None:
                del env_vars[name]
            else:
                env_vars[name] = previous
            continue
        words = str(value).split()
        kept = [t for t in words if not names_ours(t)]
        if len(kept) != len(words):
            if kept:
                env_vars[name] = " ".join(kept)
            else:
                del env_vars[name]
    return dump_state({**state, "env_vars": env_vars})


def activated_vars(data: bytes | None) -> dict[str, str]:
    """The variables activation sets from state file *data* ({} when it cannot be read)."""
    try:
        return state_variables(load_state(data, Path(ENV_STATE)))
    except LockError:
        return {}


def vars_name_ours(data: bytes | None, path: Path, names_ours: Callable[[str], bool]) -> bool:
    """Whether both variables of the state file name our constraints file."""
    try:
        env_vars = load_state(data, path).get("env_vars", {})
    except LockError:
        return False
    return all(
        any(names_ours(t) for t in str(env_vars.get(name, "")).split()) for name in ENV_VAR_NAMES
    )

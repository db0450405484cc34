"""The soft lock: pip may add PyPI-only packages but may not replace conda's.

pip reads a site configuration file, ``<sys.prefix>/pip.conf`` (``pip.ini`` on Windows). The
soft lock writes a constraints file pinning every Python distribution conda owns (decided by
files, like the scanner) to its installed version, and names it in that file's
``[install] constraint``. Then ``pip install -U numpy`` is a no-op, ``pip install numpy==2`` is
refused, a package that needs numpy reuses conda's, and a PyPI-only package installs as before.
uv does not read ``pip.conf``: ``UV_CONSTRAINT`` and ``PIP_CONSTRAINT`` go into the env's
``conda env config vars`` (``conda-meta/state``, applied on activation).

pip keeps one value per option, so that value also lists every constraint pip applied before
(the global and user configuration's, the shell's ``PIP_CONSTRAINT``/``UV_CONSTRAINT``): a cap
in force stays in force. Everything we change is recorded in a ledger next to the constraints
file, with byte copies of the files we edited, so that ``unmark`` restores them exactly; a file
the user edited after ``mark`` only loses what we added. Every write is atomic, inside the
prefix, under the env lock, and a failure rolls back what was done.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..disk.pypinames import NameTable, name_table
from ..errors import CannotLock
from ..plurals import count_of
from .condavars import (
    ENV_STATE,
    ENV_VAR_NAMES,
    activated_vars,
    set_constraint_vars,
    vars_name_ours,
)
from .inifile import add_constraint
from .pins import Pin, named_pins, parse_pins, pins_delta, pins_for, render_constraints
from .pipconfig import PipConfig, PipConfigFiles, config_basename
from .results import LockAction
from .softfiles import (
    CONSTRAINTS,
    ENV_STATE_BACKUP,
    LEDGER,
    LEDGER_FORMAT,
    PIP_CONF_BACKUP,
    STATE_DIR,
    constraint_ref,
    is_soft_locked,
    names_ours,
    read_ledger,
    sha256,
    without_ours,
)
from .softholds import WRITTEN, held_sentence
from .writer import Change, apply, env_lock, inside, mode_of, read_bytes

if TYPE_CHECKING:
    from ..disk.distributions import Distribution
    from ..disk.environment import Environment
    from ..disk.records import CondaRecord


def conda_owned(env: Environment) -> list[Distribution]:
    """The distributions conda owns in *env* (runs the analysis: pass them in when you have it)."""
    from ..rules.analysis import analyze

    return list(analyze(env).conda_distributions)


# --------------------------------------------------------------------------- mark --soft


def _plan_pip_conf(
    prefix: Path, ref: str, files: PipConfigFiles, entry: Mapping[str, Any] | None
) -> tuple[list[Change], dict[str, Any] | None, list[str]]:
    """pip.conf with our constraint and every constraint pip applied before.

    Returns:
        The changes (none when pip.conf is right), the new ledger entry (None when unchanged)
        and what pip applied before (for ``PIP_CONSTRAINT``).
    """
    path = inside(prefix, config_basename())
    current = read_bytes(path)
    try:
        text = current.decode("utf-8") if current is not None else None
    except UnicodeDecodeError:
        raise CannotLock("add the soft lock to", path, "it is not UTF-8 text") from None
    entry = entry or {}
    pristine = current is not None and sha256(current) == entry.get("written_sha256")
    backup = read_bytes(inside(prefix, PIP_CONF_BACKUP)) if entry.get("existed") else None
    if pristine and backup is not None:
        base: str | None = backup.decode("utf-8", errors="surrogateescape")
    elif pristine and not entry.get("existed"):
        base = None
    else:  # edited since, or its copy is gone: what is there without our part
        base = without_ours(prefix, text, entry.get("added_lines", ()))
    before = PipConfig.load(files, site_text=base or "").setting("constraint")
    inherited = [t for t in before.tokens if not names_ours(t, prefix)]
    now = PipConfig.load(files, site_text=text or "").setting("constraint").tokens
    if text is not None and ref in now and all(t in now for t in inherited):
        return [], None, inherited  # ours, and every cap in force: leave the user's text be
    new_text, added = add_constraint(base, ref, path, inherited)
    if new_text == text:
        return [], None, inherited
    new = new_text.encode("utf-8", errors="surrogateescape")
    mode = mode_of(path)
    changes = [Change(config_basename(), new, mode)]
    if base is not None:
        changes.insert(0, Change(PIP_CONF_BACKUP, base.encode("utf-8", "surrogateescape"), mode))
    new_entry = {
        "path": config_basename(),
        "existed": base is not None,
        "mode": mode,
        "written_sha256": sha256(new),
        "added_lines": added,
    }
    return changes, new_entry, inherited


def _plan_env_vars(
    prefix: Path,
    ref: str,
    inherited: Mapping[str, list[str]],
    entry: Mapping[str, Any] | None,
    fresh: bool,
) -> tuple[list[Change], dict[str, Any] | None]:
    """``conda-meta/state`` with our variables, keeping what applied before activation.

    A state file as we left it is planned again from its original (a cap added since is
    listed); one that names our file after the user edited it is left alone.

    Returns:
        The changes, and the new ledger entry (None when nothing changes).
    """
    path = inside(prefix, ENV_STATE)
    current = read_bytes(path)
    entry = entry or {}
    ours = lambda token: names_ours(token, prefix)  # noqa: E731
    pristine = current is not None and sha256(current) == entry.get("written_sha256")
    if pristine:
        original = read_bytes(inside(prefix, ENV_STATE_BACKUP)) if entry.get("existed") else None
        if entry.get("existed") and original is None:
            return [], None  # the copy is gone: unmark trims
    elif fresh or not vars_name_ours(current, path, ours):
        original = current
    else:
        return [], None
    plan = set_constraint_vars(original, path, ref, ours, inherited)
    if plan.data == current:
        return [], None
    mode = mode_of(path)
    changes = []
    if original is not None and plan.pristine and not pristine:
        changes.append(Change(ENV_STATE_BACKUP, original, mode))
    changes.append(Change(ENV_STATE, plan.data, mode))
    new_entry = {
        "existed": original is not None,
        "mode": mode,
        "written_sha256": sha256(plan.data) if plan.pristine else None,
        "variables": plan.variables,
    }
    return changes, new_entry


def write_soft_lock(
    prefix: Path,
    target: str,
    *,
    env: Environment | None = None,
    conda_distributions: Iterable[Distribution] | None = None,
    environ: Mapping[str, str] | None = None,
    pip_files: PipConfigFiles | None = None,
    dry_run: bool = False,
    names: Callable[[], NameTable | None] = name_table,
) -> LockAction:
    """Soft-lock *prefix*: pin conda's distributions for pip (pip.conf) and uv (variables).

    Idempotent: when the env is soft-locked already, only what is missing is put back, the
    pins are brought up to date, and a cap of the global or user configuration added since is
    listed again. An env without Python is skipped.

    Args:
        prefix: The environment.
        target: How commands name the env (``-n NAME`` or ``-p PATH``), for the header.
        env: The environment as already read (read from *prefix* when not given).
        conda_distributions: What conda owns (``Analysis.conda_distributions``); the analysis
            runs when not given.
        environ: The variables pip and uv see now (default: ``os.environ``): their
            ``PIP_CONSTRAINT``/``UV_CONSTRAINT`` are kept by the activated variables.
        pip_files: Where pip reads its configuration (default: where it would with *environ*).
        dry_run: Change nothing; report what would be done.
        names: conda-pypi's name table (default: conda-pypi's, when installed): conda packages
            without Python metadata are pinned under their PyPI names too.

    Raises:
        LockError: A file cannot be read, understood or written, or leads out of the prefix
            (nothing is left changed).
    """
    from ..disk.environment import load_environment

    prefix = Path(os.path.abspath(prefix))
    env = env if env is not None else load_environment(prefix, include_user_site=False)
    if env.python is None:
        return LockAction(
            str(prefix), None, "skipped", "the environment has no Python", lock="soft"
        )
    dists = conda_owned(env) if conda_distributions is None else list(conda_distributions)
    environ = os.environ if environ is None else environ
    files = pip_files or PipConfigFiles.for_prefix(prefix, environ)
    inside(prefix, CONSTRAINTS)  # before reading anything there
    table = names()
    pins = _with_named(pins_for(dists), env.records, dists, table)
    with env_lock(prefix):
        return _write(prefix, target, pins, environ, files, dry_run, table)


def _with_named(
    pins: list[Pin],
    records: Iterable[CondaRecord],
    dists: Iterable[Distribution],
    table: NameTable | None,
) -> list[Pin]:
    """*pins* and, with conda-pypi's *table*, the PyPI names of conda packages without metadata."""
    if table is None:
        return pins
    return sorted([*pins, *named_pins(records, dists, table)], key=lambda pin: pin.key)


def _write(
    prefix: Path,
    target: str,
    pins: list[Pin],
    environ: Mapping[str, str],
    files: PipConfigFiles,
    dry_run: bool,
    table: NameTable | None = None,
) -> LockAction:
    ref = constraint_ref(prefix)
    ledger = read_ledger(prefix) or {}
    fresh = not ledger
    if table is not None:  # the refresh after each conda transaction reads the table again
        ledger["name_table"] = table.path
    else:
        ledger.pop("name_table", None)
    changes: list[Change] = []
    constraints = render_constraints(pins, target).encode("utf-8")
    if read_bytes(inside(prefix, CONSTRAINTS)) != constraints:
        changes.append(Change(CONSTRAINTS, constraints))
    more, entry, inherited = _plan_pip_conf(prefix, ref, files, ledger.get("pip_conf"))
    changes += more
    if entry is not None:
        ledger["pip_conf"] = entry
    # the shell's values, unless they are what activating this env set
    activated = activated_vars(read_bytes(inside(prefix, ENV_STATE)))
    shell = {
        name: environ.get(name, "").split() if environ.get(name) != activated.get(name) else []
        for name in ENV_VAR_NAMES
    }
    # PIP_CONSTRAINT replaces pip.conf's value for an activated pip: keep what that gave
    shell["PIP_CONSTRAINT"] = shell["PIP_CONSTRAINT"] or inherited
    more, entry = _plan_env_vars(prefix, ref, shell, ledger.get("env_vars"), fresh)
    changes += more
    if entry is not None:
        ledger["env_vars"] = entry
    if not changes:
        return LockAction(
            str(prefix),
            CONSTRAINTS,
            "unchanged",
            f"already soft-locked by conda-pipguard: {held_sentence(WRITTEN, len(pins))}",
            lock="soft",
            extra=_extra(len(pins)),
        )
    ledger.update(format=LEDGER_FORMAT, target=target, constraint_ref=ref)
    if fresh:  # unmark removes these again when they are empty
        ledger["created_dirs"] = [d for d in ("etc", STATE_DIR) if not (prefix / d).exists()]
    ledger_change = Change(LEDGER, (json.dumps(ledger, indent=2) + "\n").encode("utf-8"))
    # The ledger goes first: whatever happens next, unmark knows what to undo.
    changes = [ledger_change, *changes]
    said = held_sentence(WRITTEN, len(pins))
    reason = said if fresh else f"soft lock repaired or brought up to date: {said}"

    if not dry_run:
        apply(prefix, changes, f"ask its owner to run: conda pipguard mark --soft {target}")
    return LockAction(
        str(prefix), CONSTRAINTS, "written", reason, dry_run, lock="soft", extra=_extra(len(pins))
    )


def _extra(pins: int) -> dict[str, Any]:
    """The JSON facts of a soft-lock action: how many pins, and who is held when."""
    return {"pins": pins, "held": [hold.to_dict() for hold in WRITTEN]}


# --------------------------------------------------------------------------- refresh


def refresh_soft_lock(
    prefix: Path,
    *,
    conda_distributions: Iterable[Distribution] | None = None,
    names: Callable[[], NameTable | None] = name_table,
) -> LockAction | None:
    """Bring the pins of a soft-locked env up to date (the post-transaction job).

    Only the constraints file changes; pip.conf and the variables are left as they are.
    conda-pypi's name table is read only when ``mark --soft`` used one.

    Args:
        prefix: The environment, after the transaction.
        conda_distributions: What conda owns now; the analysis runs when not given.
        names: conda-pypi's name table (default: conda-pypi's, when installed).

    Returns:
        ``written`` (pins changed) or ``unchanged``; None when the env is not soft-locked.

    Raises:
        LockError: The constraints file cannot be written.
    """
    from ..disk.environment import load_environment

    prefix = Path(os.path.abspath(prefix))
    if not is_soft_locked(prefix):
        return None
    env = None
    if conda_distributions is None:
        env = load_environment(prefix, include_user_site=False)
        conda_distributions = conda_owned(env) if env.python else ()
    conda_distributions = list(conda_distributions)
    pins = pins_for(conda_distributions)
    table = names() if (read_ledger(prefix) or {}).get("name_table") else None
    if table is not None:
        env = env or load_environment(prefix, include_user_site=False)
        pins = _with_named(pins, env.records, conda_distributions, table)
    with env_lock(prefix):
        if not is_soft_locked(prefix):  # unmarked meanwhile
            return None
        ledger = read_ledger(prefix) or {}
        target = str(ledger.get("target") or f"-p {prefix}")
        new = render_constraints(pins, target).encode("utf-8")
        old = read_bytes(inside(prefix, CONSTRAINTS))
        if old == new:
            return LockAction(
                str(prefix),
                CONSTRAINTS,
                "unchanged",
                f"{count_of(len(pins), 'pin')} current",
                lock="soft",
            )
        old_pins = parse_pins(old.decode("utf-8", errors="replace")) if old else []
        delta = pins_delta(old_pins, pins)
        apply(
            prefix,
            [Change(CONSTRAINTS, new)],
            f"ask its owner to run: conda pipguard mark --soft {target}",
        )
    return LockAction(
        str(prefix),
        CONSTRAINTS,
        "written",
        f"pins updated: {delta}" if delta else "constraints file rewritten",
        lock="soft",
        extra={"pins": len(pins)},
    )

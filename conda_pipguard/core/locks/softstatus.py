"""The soft lock compared with what conda owns now and with what pip and uv would apply (read-only).

Two ways it can fail to do what the user expects, both reported by ``status``:

* something **bypasses** it: a variable or a configuration file that replaces our constraint;
* it **overrides** a cap already in force: pip keeps one ``constraint`` value, so a global or
  user configuration (or shell variable) that gained a constraint after ``mark --soft`` is
  silently replaced by the env's pip.conf; and a constraints file the lock kept listing that no
  longer exists makes every ``pip install`` fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..disk.activation import Activation
from ..disk.distributions import Distribution
from ..disk.names import canonicalize_name
from ..disk.pypinames import NameTable, name_table
from ..disk.records import CondaRecord
from ..errors import LockError
from .condavars import ENV_VAR_NAMES
from .pins import Pin, named_pins, parse_pins
from .pipconfig import PipConfig, PipConfigFiles, config_basename
from .softfiles import (
    CONSTRAINTS,
    is_soft_locked,
    names_ours,
    pip_conf_names_ours,
    read_ledger,
    site_text,
    without_ours,
)
from .softholds import Hold, held_sentence, holds_of
from .writer import inside, read_bytes


@dataclass(frozen=True)
class SoftLockStatus:
    """The soft lock of an environment, for ``status``.

    Attributes:
        constraints: Prefix-relative path of the constraints file.
        pins: How many pins it holds.
        stale_pins: Pins that no longer match what conda installed, with the reason.
        unpinned: Distributions conda owns that have no pin (``name version``).
        bypassed_by: What makes pip or uv ignore the pins.
        overrides: Caps in force that the soft lock replaces, or that it names and are gone.
        held: When pip and uv honour the pins (:mod:`.softholds`).
    """

    constraints: str
    pins: int = 0
    stale_pins: tuple[str, ...] = ()
    unpinned: tuple[str, ...] = ()
    bypassed_by: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    held: tuple[Hold, ...] = ()

    def held_text(self) -> str:
        """Who the pins hold, and when, in one clause (``status``'s soft-lock line)."""
        return held_sentence(self.held, self.pins)

    def to_dict(self) -> dict[str, Any]:
        """The keys the soft lock adds to the ``marker`` JSON object."""
        return {
            "constraints": self.constraints,
            "pins": self.pins,
            "stale_pins": list(self.stale_pins),
            "unpinned": list(self.unpinned),
            "overrides": list(self.overrides),
            "held": [hold.to_dict() for hold in self.held],
        }


def _bypasses(
    prefix: Path, files: PipConfigFiles, config: PipConfig, activation: Activation
) -> list[str]:
    found = []
    merged = activation.merged
    setting = config.setting("constraint")
    if not files.disabled and not any(names_ours(t, prefix) for t in setting.tokens):
        if pip_conf_names_ours(prefix):
            found.append(
                f"pip configuration {setting.source} replaces the constraint of {config_basename()}"
            )
        else:
            found.append(f"{config_basename()} no longer names {CONSTRAINTS}")
    for name in ENV_VAR_NAMES:
        value = merged.get(name)
        where = " (conda env config vars)" if name in activation.env_vars else ""
        if value is None and name == "UV_CONSTRAINT":
            found.append("UV_CONSTRAINT is not set (uv ignores pip.conf)")
        elif value is not None and not any(names_ours(t, prefix) for t in value.split()):
            found.append(f"{name}{where} does not name {CONSTRAINTS}")
    if files.disabled and not any(
        names_ours(t, prefix) for t in merged.get("PIP_CONSTRAINT", "").split()
    ):
        found.append(f"PIP_CONFIG_FILE={os.devnull}")
    return found


def _missing(token: str) -> bool:
    """Whether a ``constraint`` token names a local file that does not exist."""
    url = urlparse(token)
    if url.scheme in ("http", "https"):
        return False
    path = url.path if url.scheme == "file" else token
    return not os.path.exists(path)


def _overrides(
    prefix: Path, files: PipConfigFiles, config: PipConfig, activation: Activation, target: str
) -> list[str]:
    found = []
    environ, env_vars = activation.environ, activation.env_vars
    fix = f"keep it: conda pipguard mark --soft {target}"
    ledger = read_ledger(prefix) or {}
    entry = ledger.get("pip_conf") if isinstance(ledger.get("pip_conf"), dict) else {}
    now = config.setting("constraint")
    base = without_ours(prefix, site_text(prefix), entry.get("added_lines", ()))
    before = PipConfig.load(files, site_text=base or "").setting("constraint")
    # an activated PIP_CONSTRAINT replaces pip.conf; unless the shell set its own, it must
    # list what the configuration gave
    pip_var = env_vars.get("PIP_CONSTRAINT", "").split()
    shell_var = environ.get("PIP_CONSTRAINT")
    check_var = any(names_ours(t, prefix) for t in pip_var) and (
        not shell_var or shell_var.split() == pip_var
    )
    for token in before.tokens:
        if names_ours(token, prefix):
            continue
        places = [config_basename()] if now.kind == "site" and token not in now.tokens else []
        places += ["PIP_CONSTRAINT"] if check_var and token not in pip_var else []
        if places:
            found.append(
                f"constraint {token} of {before.source} is overridden by the soft lock's "
                f"{' and '.join(places)}; {fix}"
            )
    for name in ENV_VAR_NAMES:
        shell, activated = environ.get(name), env_vars.get(name)
        if shell and activated and any(t not in activated.split() for t in shell.split()):
            found.append(
                f"{name} of this shell ({shell}) is replaced by the soft lock's on activation; "
                f"{fix}"
            )
    named = [*now.tokens, *(t for name in ENV_VAR_NAMES for t in env_vars.get(name, "").split())]
    for token in dict.fromkeys(named):
        if not names_ours(token, prefix) and _missing(token):
            found.append(
                f"constraints file {token} that the soft lock keeps naming does not exist: "
                "pip and uv refuse every install"
            )
    return found


def soft_lock_status(
    prefix: Path,
    conda_distributions: Iterable[Distribution],
    *,
    activation: Activation | None = None,
    pip_files: PipConfigFiles | None = None,
    records: Iterable[CondaRecord] = (),
    names: Callable[[], NameTable | None] = name_table,
) -> SoftLockStatus | None:
    """The soft lock of *prefix* compared with what conda owns now; None when not soft-locked.

    Args:
        prefix: The environment.
        conda_distributions: The distributions conda owns (``Analysis.conda_distributions``).
        activation: The process environment and the env's ``conda env config vars``
            (default: ``os.environ`` alone).
        pip_files: Where pip reads its configuration (default: where it would, activated).
        records: The env's conda records, for the pins under PyPI's names of conda packages
            without Python metadata (:func:`.pins.named_pins`).
        names: conda-pypi's name table; read only when the lock has such pins, or used one.
    """
    if not is_soft_locked(prefix):
        return None
    try:
        data = read_bytes(inside(prefix, CONSTRAINTS))
    except LockError:
        data = None
    pins = parse_pins(data.decode("utf-8", errors="replace")) if data else []
    conda = {canonicalize_name(d.name): d for d in conda_distributions}
    ledger = read_ledger(prefix) or {}
    named: dict[str, Pin] = {}
    if any(pin.key not in conda for pin in pins) or ledger.get("name_table"):
        table = names()
        records = list(records)
        if table is not None and records:
            named = {pin.key: pin for pin in named_pins(records, conda.values(), table)}
    expected = {key: dist.version for key, dist in conda.items()}
    expected.update({key: pin.version for key, pin in named.items()})
    stale = []
    for pin in pins:
        version = expected.get(pin.key)
        if version is None:
            stale.append(f"{pin.requirement} (not a conda-owned distribution any more)")
        elif version != pin.version:
            stale.append(f"{pin.requirement} (conda has {version})")
    pinned = {pin.key for pin in pins}
    unpinned = [f"{d.name} {d.version}" for key, d in sorted(conda.items()) if key not in pinned]
    unpinned += [f"{p.name} {p.version}" for key, p in sorted(named.items()) if key not in pinned]
    activation = activation if activation is not None else Activation(os.environ)
    files = pip_files or PipConfigFiles.for_prefix(prefix, activation.merged)
    config = PipConfig.load(files)
    target = str(ledger.get("target") or f"-p {prefix}")
    bypassed = _bypasses(prefix, files, config, activation)
    overrides = _overrides(prefix, files, config, activation, target)
    configured = [] if files.disabled else config.setting("constraint").tokens
    return SoftLockStatus(
        CONSTRAINTS,
        len(pins),
        tuple(stale),
        tuple(unpinned),
        tuple(bypassed),
        tuple(overrides),
        holds_of(prefix, configured, activation.env_vars),
    )

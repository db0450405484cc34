"""Where the soft lock keeps its files, and how to recognise them (read-only)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..disk.places import STATE_DIR, config_basename
from ..errors import LockError
from .inifile import effective_constraints, remove_constraint
from .writer import inside, read_bytes

#: The constraints file, prefix-relative (its path shows in ``pip config list``).
CONSTRAINTS = f"{STATE_DIR}/constraints.txt"
#: What the soft lock changed, and how to undo it.
LEDGER = f"{STATE_DIR}/soft-lock.json"
PIP_CONF_BACKUP = f"{STATE_DIR}/pip-conf.orig"
ENV_STATE_BACKUP = f"{STATE_DIR}/conda-meta-state.orig"
LEDGER_FORMAT = 1


def sha256(data: bytes) -> str:
    """The hex SHA-256 of *data* (how the ledger recognises a file as we left it)."""
    import hashlib  # not at import: see containment.Within.sha256

    return hashlib.sha256(data).hexdigest()


def constraint_ref(prefix: Path) -> str:
    """How pip.conf and the variables name the constraints file.

    pip splits a ``constraint`` value on whitespace, so a path with spaces is given as a
    ``file:`` URL (pip reads those too).
    """
    path = Path(os.path.abspath(prefix)) / CONSTRAINTS
    return path.as_uri() if re.search(r"\s", str(path)) else str(path)


def names_ours(token: str, prefix: Path) -> bool:
    """Whether a ``constraint`` token names our constraints file."""
    return token in (constraint_ref(prefix), str(Path(os.path.abspath(prefix)) / CONSTRAINTS))


def read_ledger(prefix: Path) -> dict[str, Any] | None:
    """The ledger; None when absent or outside the prefix, {} when unreadable."""
    try:
        path = inside(prefix, LEDGER)
    except LockError:
        return None
    try:
        data = read_bytes(path)
    except LockError:
        return {}
    if data is None:
        return None
    try:
        ledger = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return ledger if isinstance(ledger, dict) else {}


def site_text(prefix: Path) -> str | None:
    """The env's pip.conf as text (None when absent or not readable as a regular file)."""
    try:
        data = read_bytes(inside(prefix, config_basename()))
    except LockError:
        return None
    return data.decode("utf-8", errors="replace") if data is not None else None


def pip_conf_names_ours(prefix: Path) -> bool:
    """Whether the env's pip.conf, on its own, gives pip our constraints file."""
    text = site_text(prefix)
    try:
        tokens = effective_constraints(text, prefix / config_basename())
    except LockError:
        return False
    return any(names_ours(token, prefix) for token in tokens)


def is_soft_locked(prefix: Path) -> bool:
    """Whether *prefix* carries our soft lock (our ledger, or pip.conf naming our file)."""
    return read_ledger(prefix) is not None or pip_conf_names_ours(prefix)


def without_ours(prefix: Path, text: str | None, added: Iterable[str]) -> str | None:
    """pip.conf *text* with the soft lock's part taken out (what it was before, as text)."""
    if text is None:
        return None
    return remove_constraint(text, lambda token: names_ours(token, prefix), list(added))


def without_lock_vars(prefix: Path, env_vars: Mapping[str, str]) -> dict[str, str]:
    """*env_vars* as they were before the soft lock (for ``export``): its own values left out.

    A variable the lock wrote and nobody changed since goes back to its value before the lock
    (or goes); otherwise only the tokens naming our constraints file are taken out.
    """
    ledger = read_ledger(prefix) or {}
    entry = ledger.get("env_vars") if isinstance(ledger.get("env_vars"), dict) else {}
    facts = entry.get("variables") if isinstance(entry.get("variables"), dict) else {}
    kept: dict[str, str] = {}
    for name, value in env_vars.items():
        known = facts.get(name) if isinstance(facts.get(name), dict) else {}
        if known and value == known.get("written"):
            previous = known.get("previous")
            if isinstance(previous, str):
                kept[name] = previous
            continue
        words = str(value).split()
        ours = [t for t in words if names_ours(t, prefix)]
        if not ours:
            kept[name] = value
        elif len(ours) != len(words):
            kept[name] = " ".join(t for t in words if not names_ours(t, prefix))
    return kept

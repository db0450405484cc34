"""Lifting the soft lock: the files it edited come back, the files it added go.

pip.conf and ``conda-meta/state`` come back byte for byte when nobody edited them after
``mark --soft`` (from the copies the ledger points at); otherwise only our constraint and
variables are taken out of them. Every path is checked inside the prefix, under the env lock.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import CannotLock
from .condavars import ENV_STATE, trim_constraint_vars
from .inifile import remove_constraint
from .pipconfig import config_basename
from .results import LockAction
from .softfiles import (
    CONSTRAINTS,
    ENV_STATE_BACKUP,
    LEDGER,
    PIP_CONF_BACKUP,
    STATE_DIR,
    is_soft_locked,
    names_ours,
    read_ledger,
    sha256,
)
from .writer import Change, apply, env_lock, inside, mode_of, read_bytes, remove_empty_dirs


def _restore_or_trim(
    prefix: Path, rel: str, backup_rel: str, entry: Mapping[str, Any], trim: Any
) -> tuple[list[Change], str | None]:
    """The changes that undo our edit of *rel*, and a note for the user (or None).

    The original bytes come back when the file is as we left it; otherwise *trim* takes our
    part out of its current content.
    """
    path = inside(prefix, rel)
    current = read_bytes(path)
    changes: list[Change] = []
    note = None
    try:
        mode = int(entry.get("mode", 0o644)) & 0o7777
    except (TypeError, ValueError):
        mode = 0o644
    if current is not None and sha256(current) == entry.get("written_sha256"):
        if entry.get("existed"):
            original = read_bytes(inside(prefix, backup_rel))
            if original is None:
                raise CannotLock(
                    "restore",
                    path,
                    f"its copy {prefix / backup_rel} is gone",
                    "remove the conda-pipguard lines from it by hand",
                )
            changes.append(Change(rel, original, mode))
        else:
            changes.append(Change(rel, None))
    elif current is not None:
        trimmed = trim(current)
        if trimmed != current:
            changes.append(Change(rel, trimmed, mode_of(path, mode)))
        if entry.get("written_sha256"):
            note = f"{rel} was edited after mark; only the soft lock's part was taken out"
    changes.append(Change(backup_rel, None))
    return changes, note


def remove_soft_lock(prefix: Path, *, dry_run: bool = False, target: str = "") -> LockAction | None:
    """Lift the soft lock: restore what it edited, delete what it added. None when not soft-locked.

    pip.conf and ``conda-meta/state`` come back byte for byte when nobody edited them after
    ``mark --soft``; otherwise only our constraint and variables are taken out of them.

    Raises:
        LockError: A file cannot be written, or leads out of the prefix (nothing is left
            changed).
    """
    prefix = Path(os.path.abspath(prefix))
    with env_lock(prefix):
        if not is_soft_locked(prefix):
            return None
        return _remove(prefix, dry_run, target)


def _remove(prefix: Path, dry_run: bool, target: str) -> LockAction:
    ledger = read_ledger(prefix) or {}
    ours = lambda token: names_ours(token, prefix)  # noqa: E731
    pip_entry = ledger.get("pip_conf")
    pip_entry = pip_entry if isinstance(pip_entry, dict) else {"existed": True}

    def trim_pip_conf(current: bytes) -> bytes:
        text = current.decode("utf-8", errors="surrogateescape")
        out = remove_constraint(text, ours, list(pip_entry.get("added_lines", ())))
        return out.encode("utf-8", errors="surrogateescape")

    vars_entry = ledger.get("env_vars")
    vars_entry = vars_entry if isinstance(vars_entry, dict) else {"existed": True}
    variables = vars_entry.get("variables", {})

    def trim_vars(current: bytes) -> bytes:
        return trim_constraint_vars(current, prefix / ENV_STATE, variables, ours)

    changes: list[Change] = []
    notes: list[str] = []
    for rel, backup, entry, trim in (
        (config_basename(), PIP_CONF_BACKUP, pip_entry, trim_pip_conf),
        (ENV_STATE, ENV_STATE_BACKUP, vars_entry, trim_vars),
    ):
        more, note = _restore_or_trim(prefix, rel, backup, entry, trim)
        changes += more
        notes += [note] if note else []
    changes += [Change(CONSTRAINTS, None), Change(LEDGER, None)]  # the ledger goes last
    if not dry_run:
        apply(prefix, changes, f"ask its owner to run: conda pipguard unmark {target}".rstrip())
        created = ledger.get("created_dirs")
        created = (
            [d for d in created if d in ("etc", STATE_DIR)] if isinstance(created, list) else []
        )
        remove_empty_dirs(prefix, [STATE_DIR, *created])
    reason = "pip and uv may change conda's packages again"
    if notes:
        reason += "; " + "; ".join(notes)
    return LockAction(str(prefix), CONSTRAINTS, "removed", reason, dry_run, lock="soft")

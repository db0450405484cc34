"""The hard lock: a PEP 668 ``EXTERNALLY-MANAGED`` file in the env's stdlib directory.

pip (>= 23.0) and uv refuse to install into an interpreter whose ``sysconfig`` stdlib directory
holds this file, unless told to break system packages. We write it atomically, stamp it so that
we never touch a marker someone else wrote (a distro's, or conda-forge's ``conda-managed-env``
package, which conda owns), never follow a symlink at its path and never write or delete outside
the prefix (a stdlib directory symlinked elsewhere is refused). Every change holds the env lock.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..disk.places import MARKER_NAME
from ..disk.python import PythonLayout
from ..errors import LinkRefused, LockError, NotARegularFile
from .pipconfig import PipConfigFiles, break_system_packages, is_true
from .results import LockAction, LockStatus
from .writer import atomic_write, env_lock, inside, read_head, status_of, write_error

if TYPE_CHECKING:
    from ..disk.activation import Activation
    from .softstatus import SoftLockStatus

#: First line of every marker we write; how we recognise ours.
STAMP = "# conda-pipguard: written by `conda pipguard mark`; `conda pipguard unmark` removes it"
_MAX_MARKER = 1 << 16


# --------------------------------------------------------------------------- the marker


def marker_path(layout: PythonLayout) -> str:
    """Prefix-relative path of the marker for *layout*."""
    return f"{layout.stdlib}/{MARKER_NAME}"


def render(target: str) -> str:
    """The marker text; *target* is how commands name the env (``-n NAME`` or ``-p PATH``).

    pip and uv print the ``Error`` value with each line's leading whitespace stripped (that is
    how ``configparser`` reads continuation lines), so lines carry no indentation to lose and a
    line never starts with ``#`` or ``;`` (it would be read as a comment and dropped).
    """
    return f"""{STAMP}
[externally-managed]
Error=conda-pipguard locked this conda environment against pip: pip would
 replace packages that conda installed, and conda would not know.

 Install with conda:  conda install {target} <package>
 Only on PyPI?  Let conda-pipguard check it first; it installs only
 what harms none of conda's packages:
 conda pipguard pip {target} install <package>

 See what pip already changed:  conda pipguard status {target}
 Lift this lock:  conda pipguard unmark {target}
"""


def is_ours(text: str) -> bool:
    """Whether a marker's text carries our stamp."""
    return text.startswith(STAMP)


def _read(path: Path) -> str | None:
    """The marker's text; None when absent.

    Raises:
        LinkRefused: A symbolic link is at *path* (it is never followed).
        LockError: The file cannot be read.
    """
    info = status_of(path)
    if info is None:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise LinkRefused(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotARegularFile(path)
    data = read_head(path, _MAX_MARKER)
    return None if data is None else data.decode("utf-8", errors="replace")


def marker_owner(records: Iterable[Any], rel_path: str) -> str | None:
    """Name of the conda record whose files include *rel_path*, if any."""
    for record in records:
        if any(file.path == rel_path for file in record.files):
            return str(record.name)
    return None


# --------------------------------------------------------------------------- bypasses


def bypasses(
    prefix: Path, activation: Activation, pip_files: PipConfigFiles | None = None
) -> list[str]:
    """What would make pip or uv ignore the hard marker in *prefix*.

    Args:
        prefix: The environment.
        activation: The process environment and the env's ``conda env config vars``
            (applied on activation, so they win).
        pip_files: Where pip reads its configuration (default: where it would, activated).
    """
    found = []
    merged = activation.merged
    for name in ("PIP_BREAK_SYSTEM_PACKAGES", "UV_BREAK_SYSTEM_PACKAGES"):
        if is_true(merged.get(name)):
            where = " (conda env config vars)" if name in activation.env_vars else ""
            found.append(f"{name}{where}")
    files = pip_files or PipConfigFiles.for_prefix(prefix, merged)
    setting = break_system_packages(files)
    if setting is not None:
        found.append(f"pip configuration {setting.source}")
    return found


# --------------------------------------------------------------------------- status


def read_status(
    prefix: Path,
    layout: PythonLayout | None,
    *,
    records: Iterable[Any] = (),
    activation: Activation | None = None,
    soft: SoftLockStatus | None = None,
    pip_files: PipConfigFiles | None = None,
) -> LockStatus:
    """The lock state of *prefix* (read-only).

    Args:
        prefix: The environment.
        layout: Its Python, or None.
        records: Its conda records (to name the owner of a foreign marker).
        activation: The process environment and the env's ``conda env config vars``
            (default: ``os.environ`` alone).
        soft: The soft lock's status (:func:`.softstatus.soft_lock_status`), when it has one.
        pip_files: Where pip reads its configuration (default: where it would, activated).
    """
    if layout is None:
        return LockStatus("absent", None)
    rel = marker_path(layout)
    owner = None
    try:
        text = _read(prefix / rel)
    except LockError:  # a symlink or an unreadable file: not ours, whatever it says
        state = "foreign"
        owner = marker_owner(records, rel)
    else:
        if text is None:
            state = "soft" if soft is not None else "absent"
        elif is_ours(text):
            state = "pipguard"
        else:
            state = "foreign"
            owner = marker_owner(records, rel)
    if state == "absent":
        bypassed: tuple[str, ...] = ()
    elif state == "soft":
        bypassed = soft.bypassed_by if soft is not None else ()
    else:
        if activation is None:
            from ..disk.activation import Activation

            activation = Activation(os.environ)
        bypassed = tuple(bypasses(prefix, activation, pip_files))
    return LockStatus(state, rel, bypassed, owner, soft)


# --------------------------------------------------------------------------- mark / unmark


def write_marker(
    prefix: Path, layout: PythonLayout, target: str, *, dry_run: bool = False
) -> LockAction:
    """Write our marker for *layout* (idempotent; a foreign marker or a symlink is left alone).

    Raises:
        LockError: The stdlib directory resolves outside *prefix*, or cannot be written.
    """
    rel = marker_path(layout)
    if not (prefix / rel).parent.is_dir():
        return LockAction(str(prefix), rel, "skipped", f"{layout.stdlib} does not exist")
    path = inside(prefix, rel)
    with env_lock(prefix):
        return _write_marker(prefix, rel, path, target, dry_run)


def _write_marker(prefix: Path, rel: str, path: Path, target: str, dry_run: bool) -> LockAction:
    try:
        existing = _read(path)
    except LinkRefused:
        return LockAction(
            str(prefix), rel, "skipped", "foreign: a symbolic link is there; it is not followed"
        )
    text = render(target)
    if existing is not None and not is_ours(existing):
        return LockAction(
            str(prefix), rel, "skipped", "foreign: a marker conda-pipguard did not write is there"
        )
    if existing == text:
        return LockAction(str(prefix), rel, "unchanged", "already locked by conda-pipguard")
    reason = "pip now refuses to install here" if existing is None else "updated the message"
    if not dry_run:
        try:
            atomic_write(path, text.encode("utf-8"))
        except OSError as err:
            raise write_error(
                path, err, f"ask its owner to run: conda pipguard mark {target}"
            ) from None
    return LockAction(str(prefix), rel, "written", reason, dry_run)


def remove_marker(
    prefix: Path,
    layout: PythonLayout,
    *,
    records: Iterable[Any] = (),
    force: bool = False,
    dry_run: bool = False,
    target: str = "",
) -> LockAction:
    """Remove our marker; a foreign one only with *force* and when no conda record owns it.

    A symlink at the marker path counts as foreign: *force* removes the link, never its target.

    Raises:
        LockError: The marker cannot be removed (read-only env).
    """
    rel = marker_path(layout)
    try:
        path = inside(prefix, rel)
    except LockError:
        return LockAction(
            str(prefix), rel, "skipped", f"{layout.stdlib} resolves outside the environment"
        )
    with env_lock(prefix):
        return _remove_marker(prefix, rel, path, records, force, dry_run, target)


def _remove_marker(
    prefix: Path,
    rel: str,
    path: Path,
    records: Iterable[Any],
    force: bool,
    dry_run: bool,
    target: str,
) -> LockAction:
    try:
        existing = _read(path)
    except LinkRefused:
        existing = ""  # foreign
    if existing is None:
        return LockAction(str(prefix), rel, "unchanged", "no marker")
    if not is_ours(existing):
        owner = marker_owner(records, rel)
        if owner:
            return LockAction(
                str(prefix),
                rel,
                "skipped",
                f"foreign: conda package {owner} owns it; remove that package instead",
            )
        if not force:
            return LockAction(
                str(prefix),
                rel,
                "skipped",
                "foreign: conda-pipguard did not write it (--force removes it)",
            )
    if not dry_run:
        try:
            path.unlink()
        except FileNotFoundError:
            return LockAction(str(prefix), rel, "unchanged", "no marker")
        except OSError as err:
            fix = f"ask its owner to run: conda pipguard unmark {target}".rstrip()
            raise write_error(path, err, fix) from None
    return LockAction(str(prefix), rel, "removed", "pip may install here again", dry_run)


def _our_stale_markers(prefix: Path, current: str | None) -> list[str]:
    found = []
    for candidate in sorted((prefix / "lib").glob(f"python3*/{MARKER_NAME}")):
        rel = f"lib/{candidate.parent.name}/{MARKER_NAME}"
        if rel == current:
            continue
        try:
            inside(prefix, rel)
            text = _read(candidate)
        except LockError:
            continue
        if text is not None and is_ours(text):
            found.append(rel)
    return found


def has_hard_marker(prefix: Path) -> bool:
    """Whether any PEP 668 marker (ours or not) sits in a stdlib directory of *prefix*."""
    return (
        any(prefix.glob(f"lib/python3*/{MARKER_NAME}")) or (prefix / "Lib" / MARKER_NAME).exists()
    )


def stale_markers(prefix: Path, layout: PythonLayout | None) -> list[str]:
    """Our markers in stdlib directories of Pythons the env no longer has (prefix-relative)."""
    return _our_stale_markers(prefix, marker_path(layout) if layout else None)


def _remove_stale(prefix: Path, rel: str, why: str) -> LockAction:
    path = inside(prefix, rel)
    try:
        path.unlink()
    except FileNotFoundError:
        return LockAction(str(prefix), rel, "unchanged", "no marker")
    except OSError as err:
        raise write_error(path, err, "remove it by hand") from None
    with contextlib.suppress(OSError):  # conda left the directory only because of our file
        path.parent.rmdir()
    return LockAction(str(prefix), rel, "removed", why)


def sync_hard_marker(prefix: Path, layout: PythonLayout | None, target: str) -> list[LockAction]:
    """Keep our marker exactly where the env's Python looks for it (the post-transaction job).

    When the env carries our marker anywhere (its current stdlib directory, or a
    ``lib/python3.*`` directory of a Python it had before), make sure it sits at *layout*'s
    stdlib directory and nowhere else: after a Python minor upgrade it moves; when the env has
    no Python any more it goes. An env without our marker is left alone (this never marks), and
    foreign markers are never touched. A stale directory that held nothing but our marker goes
    with it.

    Args:
        prefix: The environment, after the transaction.
        layout: Its Python now (None when it has none).
        target: How commands name the env (``-n NAME`` or ``-p PATH``), for the marker text.

    Returns:
        What was done; empty when nothing needed doing.

    Raises:
        LockError: A marker cannot be written or removed.
    """
    with env_lock(prefix):
        return _sync(prefix, layout, target)


def _sync(prefix: Path, layout: PythonLayout | None, target: str) -> list[LockAction]:
    current = marker_path(layout) if layout else None
    stale = _our_stale_markers(prefix, current)
    has_current = False
    if current is not None:
        with contextlib.suppress(LockError):
            text = _read(inside(prefix, current))
            has_current = text is not None and is_ours(text)
    if not stale and not has_current:
        return []
    actions: list[LockAction] = []
    if layout is not None:
        action = write_marker(prefix, layout, target)
        if action.action != "unchanged":
            actions.append(action)
    why = (
        f"the env's Python is now {layout.version}; moved to {current}"
        if layout is not None
        else "the env has no Python any more"
    )
    actions += [_remove_stale(prefix, rel, why) for rel in stale]
    return actions

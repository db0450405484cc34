"""The hard lock: a PEP 668 ``EXTERNALLY-MANAGED`` file in the env's stdlib directory.

pip (>= 23.0) and uv refuse to install into an interpreter whose ``sysconfig`` stdlib directory
holds this file, unless told to break system packages. We write it atomically, stamp it so that
we never touch a marker someone else wrote (a distro's, or conda-forge's ``conda-managed-env``
package, which conda owns), never follow a symlink at its path and never write outside the prefix.

This module also holds what the soft lock (:mod:`.softlock`) shares with it: the result types
of ``mark``/``unmark`` and the atomic file writes.
"""

from __future__ import annotations

import configparser
import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import PipguardError
from .python import PythonLayout

if TYPE_CHECKING:
    from .softlock import SoftLockStatus

MARKER_NAME = "EXTERNALLY-MANAGED"
#: First line of every marker we write; how we recognise ours.
STAMP = "# conda-pipguard: written by `conda pipguard mark`; `conda pipguard unmark` removes it"

#: What pip's ``strtobool`` (and uv's boolean variables) take as true.
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_BREAK_OPTION = "break-system-packages"


class MarkerError(PipguardError):
    """A lock cannot be written or removed (read-only env, symlink, outside the prefix)."""


@dataclass(frozen=True)
class MarkerStatus:
    """The lock state of an environment.

    Attributes:
        state: ``absent``, ``pipguard`` (our hard lock), ``soft`` (only our soft lock) or
            ``foreign`` (a marker conda-pipguard did not write).
        path: Prefix-relative path where the hard marker is (or would be).
        bypassed_by: What makes pip or uv ignore the lock (variables, configuration files).
        owner: The conda package that owns a foreign marker, if any.
        soft: The soft lock, when the env carries one (alone or under a hard marker).
    """

    state: str
    path: str | None
    bypassed_by: tuple[str, ...] = ()
    owner: str | None = None
    soft: SoftLockStatus | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``marker`` object of the JSON contract (soft-lock keys only when soft-locked)."""
        data: dict[str, Any] = {
            "state": self.state,
            "path": self.path,
            "bypassed_by": list(self.bypassed_by),
        }
        if self.owner:
            data["owner"] = self.owner
        if self.soft is not None:
            data.update(self.soft.to_dict())
        return data


@dataclass(frozen=True)
class MarkerAction:
    """What ``mark``/``unmark`` did (or would do) to one environment.

    Attributes:
        prefix: The environment.
        path: Prefix-relative path of the lock file (None when the env has no Python).
        action: ``written``, ``unchanged``, ``removed`` or ``skipped``.
        reason: Why, in one line.
        dry_run: True when nothing was changed on purpose.
        lock: ``hard`` (the PEP 668 marker) or ``soft`` (the pip constraints).
        extra: Further JSON-ready facts.
    """

    prefix: str
    path: str | None
    action: str
    reason: str
    dry_run: bool = False
    lock: str = "hard"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: prefix, lock, path, action, reason, dry_run and any extra facts."""
        return {
            "prefix": self.prefix,
            "lock": self.lock,
            "path": self.path,
            "action": self.action,
            "reason": self.reason,
            "dry_run": self.dry_run,
            **self.extra,
        }


# --------------------------------------------------------------------------- file operations


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace *path* with *data*: a temporary file in the same directory, then a rename.

    Readers see the old content or the new one, never a part. A symlink at *path* is replaced,
    never followed. On any failure the temporary file is removed and *path* is untouched.

    Raises:
        OSError: The directory is not writable (or another system error).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _sync_dir(path.parent)


def _sync_dir(directory: Path) -> None:
    """Make a rename in *directory* durable (best effort: not every platform allows it)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_error(path: Path, err: OSError, fix: str) -> MarkerError:
    """A one-line error for a failed write or removal of *path*, ending with *fix*."""
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return MarkerError(
            f"cannot change {path}: the environment is read-only for you "
            f"({err.strerror or err}); {fix}"
        )
    return MarkerError(f"cannot change {path}: {err.strerror or err}")


def is_inside(prefix: Path, directory: Path) -> bool:
    """Whether *directory*, with symlinks resolved, lies inside *prefix* (also resolved)."""
    real_prefix = os.path.realpath(prefix)
    real_dir = os.path.realpath(directory)
    return os.path.commonpath([real_prefix, real_dir]) == real_prefix


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
 Only on PyPI?  After all conda installs, add it without its dependencies:
 python -m pip install --no-deps --break-system-packages <package>

 See what pip already changed:  conda pipguard status {target}
 Lift this lock:  conda pipguard unmark {target}
"""


def is_ours(text: str) -> bool:
    """Whether a marker's text carries our stamp."""
    return text.startswith(STAMP)


class _Symlink(MarkerError):
    """A symbolic link sits at the marker path."""


def _read(path: Path) -> str | None:
    """The marker's text; None when absent.

    Raises:
        _Symlink: A symbolic link is at *path* (it is never followed).
        MarkerError: The file cannot be read.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise MarkerError(f"cannot read {path}: {err.strerror or err}") from None
    if stat.S_ISLNK(info.st_mode):
        raise _Symlink(f"{path} is a symbolic link; conda-pipguard does not follow it")
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise MarkerError(f"cannot read {path}: {err.strerror or err}") from None


def marker_owner(records: Iterable[Any], rel_path: str) -> str | None:
    """Name of the conda record whose files include *rel_path*, if any."""
    for record in records:
        if any(file.path == rel_path for file in record.files):
            return str(record.name)
    return None


# --------------------------------------------------------------------------- bypasses


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def pip_config_files(prefix: Path, environ: Mapping[str, str]) -> list[Path]:
    """The configuration files pip would read for the env's interpreter, in pip's order.

    As pip (23.x) does on POSIX: ``PIP_CONFIG_FILE``; the global files
    (``$XDG_CONFIG_DIRS/pip/pip.conf``, ``/etc/pip.conf``); the user files
    (``~/.pip/pip.conf``, ``$XDG_CONFIG_HOME/pip/pip.conf``), skipped when ``PIP_CONFIG_FILE``
    names an existing file; the site file ``<prefix>/pip.conf`` (``pip.ini`` on Windows).
    ``PIP_CONFIG_FILE=os.devnull`` turns every file off.
    """
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    files: list[Path] = [Path(env_file)] if env_file else []
    dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files += [Path(d) / "pip" / "pip.conf" for d in dirs.split(os.pathsep) if d]
    files.append(Path("/etc/pip.conf"))
    home = environ.get("HOME")
    if home and not (env_file and os.path.exists(env_file)):
        files.append(Path(home) / ".pip" / "pip.conf")
        config_home = environ.get("XDG_CONFIG_HOME") or str(Path(home) / ".config")
        files.append(Path(config_home) / "pip" / "pip.conf")
    files.append(prefix / ("pip.ini" if os.name == "nt" else "pip.conf"))
    return files


def _option_name(key: str) -> str:
    """A configuration key as pip normalises it (``--break_system_packages`` → ...)."""
    return key.strip().lower().replace("_", "-").removeprefix("--")


def config_breaks(path: Path) -> bool:
    """Whether the pip configuration file *path* sets break-system-packages for installs."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return False
    return any(
        _option_name(key) == _BREAK_OPTION and _truthy(value)
        for section in ("global", "install")
        if parser.has_section(section)
        for key, value in parser.items(section)
    )


def bypasses(prefix: Path, environ: Mapping[str, str], env_vars: Mapping[str, str]) -> list[str]:
    """What would make pip or uv ignore the hard marker in *prefix*.

    Args:
        prefix: The environment.
        environ: The process environment.
        env_vars: The env's ``conda env config vars`` (applied on activation, so they win).
    """
    found = []
    merged = {**environ, **env_vars}
    for name in ("PIP_BREAK_SYSTEM_PACKAGES", "UV_BREAK_SYSTEM_PACKAGES"):
        if _truthy(merged.get(name)):
            where = " (conda env config vars)" if name in env_vars else ""
            found.append(f"{name}{where}")
    for path in pip_config_files(prefix, merged):
        if path.is_file() and config_breaks(path):
            found.append(f"pip configuration {path}")
    return found


# --------------------------------------------------------------------------- status


def read_status(
    prefix: Path,
    layout: PythonLayout | None,
    *,
    records: Iterable[Any] = (),
    environ: Mapping[str, str] | None = None,
    env_vars: Mapping[str, str] | None = None,
    soft: SoftLockStatus | None = None,
) -> MarkerStatus:
    """The lock state of *prefix* (read-only).

    Args:
        prefix: The environment.
        layout: Its Python, or None.
        records: Its conda records (to name the owner of a foreign marker).
        environ: The process environment (default: ``os.environ``).
        env_vars: The env's ``conda env config vars``.
        soft: The soft lock's status (:func:`.softlock.soft_lock_status`), when it has one.
    """
    if layout is None:
        return MarkerStatus("absent", None)
    rel = marker_path(layout)
    environ = os.environ if environ is None else environ
    owner = None
    try:
        text = _read(prefix / rel)
    except MarkerError:  # a symlink or an unreadable file: not ours, whatever it says
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
        bypassed = tuple(bypasses(prefix, environ, env_vars or {}))
    return MarkerStatus(state, rel, bypassed, owner, soft)


# --------------------------------------------------------------------------- mark / unmark


def write_marker(
    prefix: Path, layout: PythonLayout, target: str, *, dry_run: bool = False
) -> MarkerAction:
    """Write our marker for *layout* (idempotent; a foreign marker or a symlink is left alone).

    Raises:
        MarkerError: The stdlib directory resolves outside *prefix*, or cannot be written.
    """
    rel = marker_path(layout)
    path = prefix / rel
    if not path.parent.is_dir():
        return MarkerAction(str(prefix), rel, "skipped", f"{layout.stdlib} does not exist")
    if not is_inside(prefix, path.parent):
        raise MarkerError(f"{path.parent} resolves outside {prefix}; refusing to write there")
    try:
        existing = _read(path)
    except _Symlink:
        return MarkerAction(
            str(prefix), rel, "skipped", "foreign: a symbolic link is there; it is not followed"
        )
    text = render(target)
    if existing is not None and not is_ours(existing):
        return MarkerAction(
            str(prefix), rel, "skipped", "foreign: a marker conda-pipguard did not write is there"
        )
    if existing == text:
        return MarkerAction(str(prefix), rel, "unchanged", "already locked by conda-pipguard")
    reason = "pip now refuses to install here" if existing is None else "updated the message"
    if not dry_run:
        try:
            atomic_write(path, text.encode("utf-8"))
        except OSError as err:
            raise write_error(
                path, err, f"ask its owner to run: conda pipguard mark {target}"
            ) from None
    return MarkerAction(str(prefix), rel, "written", reason, dry_run)


def remove_marker(
    prefix: Path,
    layout: PythonLayout,
    *,
    records: Iterable[Any] = (),
    force: bool = False,
    dry_run: bool = False,
    target: str = "",
) -> MarkerAction:
    """Remove our marker; a foreign one only with *force* and when no conda record owns it.

    A symlink at the marker path counts as foreign: *force* removes the link, never its target.

    Raises:
        MarkerError: The marker cannot be removed (read-only env).
    """
    rel = marker_path(layout)
    path = prefix / rel
    try:
        existing = _read(path)
    except _Symlink:
        existing = ""  # foreign
    if existing is None:
        return MarkerAction(str(prefix), rel, "unchanged", "no marker")
    if not is_ours(existing):
        owner = marker_owner(records, rel)
        if owner:
            return MarkerAction(
                str(prefix),
                rel,
                "skipped",
                f"foreign: conda package {owner} owns it; remove that package instead",
            )
        if not force:
            return MarkerAction(
                str(prefix),
                rel,
                "skipped",
                "foreign: conda-pipguard did not write it (--force removes it)",
            )
    if not dry_run:
        try:
            path.unlink()
        except FileNotFoundError:
            return MarkerAction(str(prefix), rel, "unchanged", "no marker")
        except OSError as err:
            fix = f"ask its owner to run: conda pipguard unmark {target}".rstrip()
            raise write_error(path, err, fix) from None
    return MarkerAction(str(prefix), rel, "removed", "pip may install here again", dry_run)


def _our_stale_markers(prefix: Path, current: str | None) -> list[str]:
    found = []
    for candidate in sorted((prefix / "lib").glob(f"python3*/{MARKER_NAME}")):
        rel = f"lib/{candidate.parent.name}/{MARKER_NAME}"
        if rel == current:
            continue
        try:
            text = _read(candidate)
        except MarkerError:
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


def _remove_stale(prefix: Path, rel: str, why: str) -> MarkerAction:
    path = prefix / rel
    try:
        path.unlink()
    except FileNotFoundError:
        return MarkerAction(str(prefix), rel, "unchanged", "no marker")
    except OSError as err:
        raise write_error(path, err, "remove it by hand") from None
    with contextlib.suppress(OSError):  # conda left the directory only because of our file
        path.parent.rmdir()
    return MarkerAction(str(prefix), rel, "removed", why)


def sync_hard_marker(prefix: Path, layout: PythonLayout | None, target: str) -> list[MarkerAction]:
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
        MarkerError: A marker cannot be written or removed.
    """
    current = marker_path(layout) if layout else None
    stale = _our_stale_markers(prefix, current)
    has_current = False
    if current is not None:
        with contextlib.suppress(MarkerError):
            text = _read(prefix / current)
            has_current = text is not None and is_ours(text)
    if not stale and not has_current:
        return []
    actions: list[MarkerAction] = []
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

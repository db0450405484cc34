"""The hard lock: a PEP 668 ``EXTERNALLY-MANAGED`` file in the env's stdlib directory.

pip (>= 23.0) and uv refuse to install into an interpreter whose ``sysconfig`` stdlib directory
holds this file, unless told to break system packages. We write it atomically, stamp it so that
we never touch a marker someone else wrote (a distro's, or conda-forge's ``conda-managed-env``
package, which conda owns), never follow a symlink at its path and never write outside the prefix.
"""

from __future__ import annotations

import configparser
import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PipguardError
from .python import PythonLayout

MARKER_NAME = "EXTERNALLY-MANAGED"
#: First line of every marker we write; how we recognise ours.
STAMP = "# conda-pipguard: written by `conda pipguard mark`; `conda pipguard unmark` removes it"

_TRUE = {"1", "true", "yes", "on", "y"}


class MarkerError(PipguardError):
    """The marker cannot be written or removed (read-only env, symlink, outside the prefix)."""


@dataclass(frozen=True)
class MarkerStatus:
    """The lock state of an environment.

    Attributes:
        state: ``absent``, ``pipguard`` (our hard lock), ``soft`` (our soft lock) or ``foreign``.
        path: Prefix-relative path where the hard marker is (or would be).
        bypassed_by: What makes pip ignore the marker (variables, pip configuration files).
        owner: The conda package that owns a foreign marker, if any.
    """

    state: str
    path: str | None
    bypassed_by: tuple[str, ...] = ()
    owner: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``marker`` object of the JSON contract."""
        data: dict[str, Any] = {
            "state": self.state,
            "path": self.path,
            "bypassed_by": list(self.bypassed_by),
        }
        if self.owner:
            data["owner"] = self.owner
        return data


@dataclass(frozen=True)
class MarkerAction:
    """What ``mark``/``unmark`` did (or would do) to one environment.

    Attributes:
        prefix: The environment.
        path: Prefix-relative marker path (None when the env has no Python).
        action: ``written``, ``unchanged``, ``removed`` or ``skipped``.
        reason: Why, in one line.
        dry_run: True when nothing was changed on purpose.
        extra: Further JSON-ready facts.
    """

    prefix: str
    path: str | None
    action: str
    reason: str
    dry_run: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: prefix, marker path, action, reason."""
        return {
            "prefix": self.prefix,
            "path": self.path,
            "action": self.action,
            "reason": self.reason,
            "dry_run": self.dry_run,
            **self.extra,
        }


def marker_path(layout: PythonLayout) -> str:
    """Prefix-relative path of the marker for *layout*."""
    return f"{layout.stdlib}/{MARKER_NAME}"


def render(target: str) -> str:
    """The marker text; *target* is how commands name the env (``-n NAME`` or ``-p PATH``)."""
    return f"""{STAMP}
[externally-managed]
Error=This conda environment is locked against pip by conda-pipguard: pip would replace
 packages that conda installed, and conda would not know.

 Install with conda instead:
     conda install {target} <package>
 For a package that exists only on PyPI, after all conda installs:
     python -m pip install --no-deps --break-system-packages <package>
 See what pip has already changed:
     conda pipguard status {target}
 Lift the lock:
     conda pipguard unmark {target}
"""


def is_ours(text: str) -> bool:
    """Whether a marker's text carries our stamp."""
    return text.startswith(STAMP)


def _read(path: Path) -> str | None:
    """The marker's text; None when absent. A symlink or unreadable file raises MarkerError."""
    if path.is_symlink():
        raise MarkerError(f"{path} is a symbolic link; conda-pipguard does not follow it")
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise MarkerError(f"cannot read {path}: {err.strerror or err}") from None


def _inside(prefix: Path, directory: Path) -> bool:
    real_prefix = os.path.realpath(prefix)
    real_dir = os.path.realpath(directory)
    return os.path.commonpath([real_prefix, real_dir]) == real_prefix


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def pip_config_files(prefix: Path, environ: Mapping[str, str]) -> list[Path]:
    """The pip configuration files pip would read for the env's interpreter, in pip's order."""
    if environ.get("PIP_CONFIG_FILE") == os.devnull:
        return []
    files: list[Path] = []
    dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files += [Path(d) / "pip" / "pip.conf" for d in dirs if d]
    files.append(Path("/etc/pip.conf"))
    home = environ.get("HOME")
    if home:
        files.append(Path(home) / ".pip" / "pip.conf")
        config_home = environ.get("XDG_CONFIG_HOME") or str(Path(home) / ".config")
        files.append(Path(config_home) / "pip" / "pip.conf")
    files.append(prefix / ("pip.ini" if os.name == "nt" else "pip.conf"))
    if environ.get("PIP_CONFIG_FILE"):
        files.append(Path(environ["PIP_CONFIG_FILE"]))
    return files


def _config_breaks(path: Path) -> bool:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return False
    return any(
        _truthy(parser.get(section, "break-system-packages", fallback=None))
        or _truthy(parser.get(section, "break_system_packages", fallback=None))
        for section in ("global", "install")
        if parser.has_section(section)
    )


def bypasses(prefix: Path, environ: Mapping[str, str], env_vars: Mapping[str, str]) -> list[str]:
    """What would make pip or uv ignore the marker in *prefix*."""
    found = []
    merged = {**environ, **env_vars}
    for name in ("PIP_BREAK_SYSTEM_PACKAGES", "UV_BREAK_SYSTEM_PACKAGES"):
        if _truthy(merged.get(name)):
            where = " (conda env config vars)" if name in env_vars else ""
            found.append(f"{name}{where}")
    for path in pip_config_files(prefix, merged):
        if path.is_file() and _config_breaks(path):
            found.append(f"pip configuration {path}")
    return found


def marker_owner(records: Iterable[Any], rel_path: str) -> str | None:
    """Name of the conda record whose files include *rel_path*, if any."""
    for record in records:
        if any(file.path == rel_path for file in record.files):
            return str(record.name)
    return None


def read_status(
    prefix: Path,
    layout: PythonLayout | None,
    *,
    records: Iterable[Any] = (),
    environ: Mapping[str, str] | None = None,
    env_vars: Mapping[str, str] | None = None,
    soft: bool = False,
) -> MarkerStatus:
    """The lock state of *prefix* (read-only)."""
    if layout is None:
        return MarkerStatus("absent", None)
    rel = marker_path(layout)
    environ = os.environ if environ is None else environ
    bypassed = tuple(bypasses(prefix, environ, env_vars or {}))
    try:
        text = _read(prefix / rel)
    except MarkerError:
        return MarkerStatus("foreign", rel, bypassed)
    if text is None:
        return MarkerStatus("soft" if soft else "absent", rel, bypassed if soft else ())
    if is_ours(text):
        return MarkerStatus("pipguard", rel, bypassed)
    return MarkerStatus("foreign", rel, bypassed, owner=marker_owner(records, rel))


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{MARKER_NAME}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_error(path: Path, err: OSError, fix: str) -> MarkerError:
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return MarkerError(f"cannot write {path}: the environment is read-only for you; {fix}")
    return MarkerError(f"cannot write {path}: {err.strerror or err}")


def write_marker(
    prefix: Path, layout: PythonLayout, target: str, *, dry_run: bool = False
) -> MarkerAction:
    """Write our marker for *layout* (idempotent; a foreign marker is left alone)."""
    rel = marker_path(layout)
    path = prefix / rel
    if not path.parent.is_dir():
        return MarkerAction(str(prefix), rel, "skipped", f"{layout.stdlib} does not exist")
    if not _inside(prefix, path.parent):
        raise MarkerError(f"{path.parent} resolves outside {prefix}; refusing to write there")
    existing = _read(path)
    text = render(target)
    if existing is not None and not is_ours(existing):
        return MarkerAction(
            str(prefix), rel, "skipped", "foreign: a marker conda-pipguard did not write is there"
        )
    if existing == text:
        return MarkerAction(str(prefix), rel, "unchanged", "already locked by conda-pipguard")
    if not dry_run:
        try:
            _atomic_write(path, text)
        except OSError as err:
            raise _write_error(
                path, err, f"ask its owner to run: conda pipguard mark {target}"
            ) from None
    return MarkerAction(str(prefix), rel, "written", "pip now refuses to install here", dry_run)


def remove_marker(
    prefix: Path,
    layout: PythonLayout,
    *,
    records: Iterable[Any] = (),
    force: bool = False,
    dry_run: bool = False,
) -> MarkerAction:
    """Remove our marker; a foreign one only with *force* and when no conda record owns it."""
    rel = marker_path(layout)
    path = prefix / rel
    existing = _read(path)
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
            raise _write_error(path, err, "ask its owner to run: conda pipguard unmark") from None
    return MarkerAction(str(prefix), rel, "removed", "pip may install here again", dry_run)


def stale_markers(prefix: Path, layout: PythonLayout | None) -> list[str]:
    """Our markers in stdlib directories of Pythons the env no longer has."""
    current = marker_path(layout) if layout else None
    found = []
    for candidate in sorted((prefix / "lib").glob(f"python3*/{MARKER_NAME}")):
        rel = f"lib/{candidate.parent.name}/{MARKER_NAME}"
        if rel == current or candidate.is_symlink():
            continue
        text = _read(candidate)
        if text is not None and is_ours(text):
            found.append(rel)
    return found

"""Where the environment's Python keeps its standard library, site-packages and scripts.

Derived from the ``python`` record (never by running the interpreter), so that it works for an
env whose Python cannot run here and costs no subprocess in a hook:

* POSIX: ``lib/pythonX.Y`` (``lib/pythonX.Yt`` for a free-threaded build), site-packages below it;
* Windows: ``Lib`` and ``Lib/site-packages``, scripts in ``Scripts``;
* ``python_site_packages_path`` in the record, when the package sets it, wins for site-packages,
  unless it leads out of the prefix (absolute, ``..``, or through a symlink): then it is ignored,
  and reported as ``ignored_site_packages``, so that nothing outside the env is scanned.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .records import CondaRecord
from .safeio import is_within

if TYPE_CHECKING:
    from .condameta import CondaMeta

_FREE_THREADED = re.compile(r"(?:^|_)cp3\d+t(?:$|_)")
_LIB_PYTHON = re.compile(r"^python(?P<version>3\.\d+)(?P<abi>t?)$")


@dataclass(frozen=True)
class PythonLayout:
    """The directories of the env's Python, prefix-relative with forward slashes.

    Attributes:
        version: ``major.minor``, e.g. ``3.11``.
        full_version: The python package version, e.g. ``3.11.7`` ('' when unknown).
        free_threaded: True for a free-threaded (``t``) build.
        windows: True for a Windows layout.
        stdlib: The ``sysconfig`` stdlib directory (where PEP 668's marker lives).
        site_packages: The ``purelib`` directory.
        scripts: The scripts directory.
        from_record: False when guessed from directories because no python record exists.
        ignored_site_packages: A ``python_site_packages_path`` that leads out of the prefix,
            ignored ('' when none).
    """

    version: str
    full_version: str = ""
    free_threaded: bool = False
    windows: bool = False
    stdlib: str = ""
    site_packages: str = ""
    scripts: str = "bin"
    from_record: bool = True
    ignored_site_packages: str = ""

    @classmethod
    def build(
        cls,
        version: str,
        *,
        full_version: str = "",
        free_threaded: bool = False,
        windows: bool = False,
        site_packages: str | None = None,
        from_record: bool = True,
    ) -> PythonLayout:
        """Compute the directories of a Python *version* (``X.Y``)."""
        if windows:
            stdlib, default_site, scripts = "Lib", "Lib/site-packages", "Scripts"
        else:
            stdlib = f"lib/python{version}{'t' if free_threaded else ''}"
            default_site, scripts = f"{stdlib}/site-packages", "bin"
        return cls(
            version=version,
            full_version=full_version,
            free_threaded=free_threaded,
            windows=windows,
            stdlib=stdlib,
            site_packages=(site_packages or default_site).replace("\\", "/").strip("/"),
            scripts=scripts,
            from_record=from_record,
        )

    @property
    def executable(self) -> str:
        """The interpreter, prefix-relative."""
        return "python.exe" if self.windows else f"bin/python{self.version}"

    def marker_environment(self, platform_values: dict[str, str] | None = None) -> dict[str, str]:
        """PEP 508 marker values of this Python (platform values from *platform_values*).

        Args:
            platform_values: ``sys_platform``, ``platform_system``, ... of the machine the env
                runs on; defaults to this machine's.
        """
        from packaging.markers import default_environment

        values: dict[str, str] = dict(default_environment())
        if platform_values:
            values.update(platform_values)
        values["python_version"] = self.version
        values["python_full_version"] = self.full_version or f"{self.version}.0"
        values["implementation_version"] = values["python_full_version"]
        return values

    def to_dict(self) -> dict[str, Any]:
        """The ``python`` object of the JSON contract."""
        data = {
            "version": self.version,
            "site_packages": self.site_packages,
            "stdlib": self.stdlib,
        }
        if self.ignored_site_packages:
            data["ignored_site_packages"] = self.ignored_site_packages
        return data


def minor_version(version: str) -> str | None:
    """``major.minor`` of a version string (``3.11.7`` -> ``3.11``); None when it has none."""
    match = re.match(r"^(\d+)\.(\d+)", version)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _is_free_threaded(python: CondaRecord, records: dict[str, CondaRecord]) -> bool:
    if _FREE_THREADED.search(python.build):
        return True
    abi = records.get("python_abi")
    if abi is not None and _FREE_THREADED.search(abi.build):
        return True
    return any(
        dep.startswith("python_abi") and "cp3" in dep and dep.rstrip().endswith("t")
        for dep in python.depends
    )


def _is_windows(python: CondaRecord) -> bool:
    if python.subdir.startswith("win-"):
        return True
    return any(file.path.lower() == "python.exe" for file in python.files)


def leaves_prefix(rel: str, prefix: Path | None = None) -> bool:
    """Whether prefix-relative *rel* leads out of the prefix.

    Lexically (absolute, a drive, ``..``), and with *prefix* also once symlinks are resolved.
    """
    path = rel.replace("\\", "/")
    if not path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return True
    if posixpath.normpath(path).split("/")[0] == "..":
        return True
    return prefix is not None and not is_within(prefix, Path(prefix) / path)


def layout_from_records(
    records: dict[str, CondaRecord], prefix: Path | None = None
) -> PythonLayout | None:
    """The layout of the env's Python, from its ``python`` record; None without one.

    Args:
        records: The env's records by name.
        prefix: The env, to check a ``python_site_packages_path`` also through symlinks.
    """
    python = records.get("python")
    if python is None:
        return None
    version = minor_version(python.version)
    if version is None:
        return None
    site = python.python_site_packages_path
    layout = PythonLayout.build(
        version,
        full_version=python.version,
        free_threaded=_is_free_threaded(python, records),
        windows=_is_windows(python),
    )
    if site is None:
        return layout
    if leaves_prefix(site, prefix):
        return replace(layout, ignored_site_packages=site)
    return replace(layout, site_packages=site.replace("\\", "/").strip("/"))


def layout_from_disk(prefix: Path) -> PythonLayout | None:
    """Guess the layout from the directories on disk (no python record); None if none."""
    if (prefix / "Lib" / "site-packages").is_dir() and (prefix / "python.exe").exists():
        return PythonLayout.build("3", windows=True, from_record=False)
    candidates = sorted(
        (match.group("version"), match.group("abi"))
        for path in (prefix / "lib").glob("python3.*")
        if (match := _LIB_PYTHON.match(path.name)) and (path / "site-packages").is_dir()
    )
    if len(candidates) != 1:
        return None
    version, abi = candidates[0]
    return PythonLayout.build(version, free_threaded=bool(abi), from_record=False)


def has_interpreter(prefix: Path) -> bool:
    """Whether *prefix* holds a Python interpreter (``python.exe`` or ``bin/python``)."""
    return (prefix / "python.exe").exists() or (prefix / "bin" / "python").exists()


def discover(meta: CondaMeta) -> PythonLayout | None:
    """The env's Python: from its ``python`` record, else from its directories.

    The one way every reader finds it (the full read, the guard's first look, the records
    ``conda list`` deletes, the post-transaction hook). The records are parsed without their
    file lists; the directories are guessed from only when an interpreter is there.
    """
    layout = layout_from_records(meta.named(("python", "python_abi"), files=False), meta.prefix)
    if layout is None and has_interpreter(meta.prefix):
        layout = layout_from_disk(meta.prefix)
    return layout


def other_site_packages(prefix: Path, layout: PythonLayout | None) -> list[str]:
    """Prefix-relative site-packages directories of Pythons the env no longer has."""
    found = []
    lib = prefix / "lib"
    if lib.is_dir():
        for path in sorted(lib.glob("python3.*")):
            site = path / "site-packages"
            rel = f"lib/{path.name}/site-packages"
            if (
                _LIB_PYTHON.match(path.name)
                and site.is_dir()
                and (layout is None or rel != layout.site_packages)
            ):
                found.append(rel)
    return found

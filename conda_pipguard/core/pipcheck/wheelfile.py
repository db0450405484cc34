"""A wheel read without extracting it: the files pip would write, where, and what they hold.

Only the archive's directory and three small members (``METADATA``, ``RECORD``,
``entry_points.txt``) are read; a member's bytes are hashed only when a question needs it
(:meth:`WheelFile.member_sha256`). Every member is placed as pip places it in a conda env
(``*.data/scripts`` in the scripts directory, ``*.data/data`` at the prefix, ``headers`` under
``include``, the rest in site-packages), its path normalised; a wheel with a member that would
land outside the env, or in ``conda-meta``, is refused as a whole, as pip refuses one that
leaves its target.
"""

from __future__ import annotations

import configparser
import hashlib
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..disk import safeio
from ..disk.metafiles import csv_rows, first, parse_headers
from ..disk.names import canonicalize_name
from ..disk.python import PythonLayout
from ..errors import CannotCheck

#: The largest wheel read (its directory is at its end: the size costs nothing).
WHEEL_LIMIT = 16 * 1024 * safeio.MiB
#: The most members a wheel may have.
MAX_MEMBERS = 500_000
#: A script pip rewrites (its first line becomes the env's interpreter).
_PYTHON_SHEBANG = b"#!python"
_WHEEL_NAME = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$"
)


@dataclass(frozen=True)
class Member:
    """One file a wheel installs.

    Attributes:
        name: Its name in the archive ('' for a script pip generates).
        path: Prefix-relative path where pip writes it.
        size: Its size there; None when pip writes other bytes (a rewritten or generated
            script).
        digest: RECORD's ``sha256`` of it (urlsafe base64), when RECORD has one and pip writes
            the member's bytes as they are.
    """

    name: str
    path: str
    size: int | None
    digest: str | None = None


@dataclass(frozen=True)
class WheelFile:
    """What one wheel would install.

    Attributes:
        path: The wheel.
        name: The project name its metadata gives.
        version: Its version.
        dist_info: Prefix-relative path of the metadata directory pip writes.
        requires: Its ``Requires-Dist``.
        members: Every file pip would write, generated scripts included.
    """

    path: Path
    name: str
    version: str
    dist_info: str
    requires: tuple[str, ...]
    members: tuple[Member, ...]

    @property
    def key(self) -> str:
        """The canonical project name."""
        return canonicalize_name(self.name)

    def member_sha256(self, name: str) -> str | None:
        """Hex SHA-256 of member *name*'s bytes, read from the archive; None if unreadable."""
        digest = hashlib.sha256()
        try:
            with safeio.open_regular(self.path, limit=WHEEL_LIMIT) as handle:
                archive = zipfile.ZipFile(handle)
                info = archive.getinfo(name)
                left = info.file_size + 1
                with archive.open(info) as stream:
                    while left > 0 and (block := stream.read(min(left, 1 << 20))):
                        digest.update(block)
                        left -= len(block)
                if left <= 0:
                    return None  # longer than the archive says
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
            return None
        return digest.hexdigest()


def wheel_name_version(filename: str) -> tuple[str, str] | None:
    """``(canonical name, version)`` a wheel's file name spells, or None."""
    match = _WHEEL_NAME.match(filename)
    if match is None:
        return None
    return canonicalize_name(match.group("name")), match.group("version")


def _refuse(wheel: Path, why: str) -> CannotCheck:
    return CannotCheck(f"{wheel.name}: {why}; pip would not be asked to install it")


def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> str | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise zipfile.BadZipFile(f"{name} is larger than {limit} bytes")
    with archive.open(info) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise zipfile.BadZipFile(f"{name} is larger than {limit} bytes")
    return data.decode("utf-8", errors="replace")


def _scripts(text: str | None) -> list[str]:
    """The names of the console and GUI scripts an ``entry_points.txt`` declares."""
    if not text:
        return []
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    return [
        name.strip()
        for section in ("console_scripts", "gui_scripts")
        if parser.has_section(section)
        for name in parser.options(section)
    ]


class _Placer:
    """Where pip writes each member of one wheel in an env with *layout*."""

    def __init__(self, wheel: Path, layout: PythonLayout, project: str, data_dir: str) -> None:
        self.wheel = wheel
        self.site = layout.site_packages
        self.scripts = layout.scripts
        include = "Include" if layout.windows else f"include/python{layout.version}"
        suffix = "t" if layout.free_threaded and not layout.windows else ""
        self.headers = f"{include}{suffix}/{project}"
        self.data_dir = f"{data_dir}/"

    def place(self, name: str) -> tuple[str, bool]:
        """``(prefix-relative path, is a script)`` of member *name*.

        Raises:
            CannotCheck: The member would land outside the env, or in ``conda-meta``.
        """
        if "\x00" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            raise _refuse(self.wheel, f"member {name!r} has an absolute path")
        script = False
        if name.startswith(self.data_dir):
            scheme, _, rest = name[len(self.data_dir) :].partition("/")
            bases = {
                "purelib": self.site,
                "platlib": self.site,
                "scripts": self.scripts,
                "data": "",
                "headers": self.headers,
            }
            if scheme not in bases or not rest:
                raise _refuse(self.wheel, f"member {name!r} is in an unknown scheme {scheme!r}")
            base, script = bases[scheme], scheme == "scripts"
        else:
            base, rest = self.site, name
        path = posixpath.normpath(f"{base}/{rest}" if base else rest)
        if path == "." or path == ".." or path.startswith(("../", "/")):
            raise _refuse(self.wheel, f"member {name!r} would be written outside the env")
        if path == "conda-meta" or path.startswith("conda-meta/"):
            raise _refuse(self.wheel, f"member {name!r} would be written into conda-meta")
        return path, script


def _dist_info(archive: zipfile.ZipFile, wheel: Path) -> str:
    """The archive's ``NAME-VERSION.dist-info`` directory (the one pip reads)."""
    found = {
        name.split("/", 1)[0]
        for name in archive.namelist()
        if name.split("/", 1)[0].endswith(".dist-info") and name.count("/") == 1
    }
    spelled = wheel_name_version(wheel.name)
    if spelled is not None:
        found = {d for d in found if canonicalize_name(d[:-10].rsplit("-", 1)[0]) == spelled[0]}
    if len(found) != 1:
        raise _refuse(wheel, "it has no single .dist-info directory for its project")
    return found.pop()


def read_wheel(path: Path, layout: PythonLayout, *, root: str | None = None) -> WheelFile:
    """Read the wheel at *path* as pip would install it into an env with *layout*.

    Args:
        path: The wheel.
        layout: The env's Python.
        root: The directory the wheel must be inside (the check's scratch directory).

    Raises:
        CannotCheck: The wheel cannot be read, or a member would land outside the env.
    """
    try:
        with safeio.open_regular(path, limit=WHEEL_LIMIT, root=root) as handle:
            archive = zipfile.ZipFile(handle)
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise _refuse(path, f"it has more than {MAX_MEMBERS} members")
            dist_info = _dist_info(archive, path)
            metadata = parse_headers(
                _read_member(archive, f"{dist_info}/METADATA", safeio.METADATA_LIMIT) or ""
            )
            record = _read_member(archive, f"{dist_info}/RECORD", safeio.DIST_RECORD_LIMIT)
            entry_points = _read_member(
                archive, f"{dist_info}/entry_points.txt", safeio.SMALL_LIMIT
            )
            name, version = first(metadata, "name"), first(metadata, "version")
            if not name or not version:
                raise _refuse(path, "its METADATA has no Name or Version")
            placer = _Placer(path, layout, name, f"{dist_info[:-10]}.data")
            digests = {row[0]: row[1] for row in csv_rows(record or "") if len(row) > 1}
            members = []
            for info in infos:
                if info.is_dir():
                    continue
                target, script = placer.place(info.filename)
                if script:
                    with archive.open(info) as stream:
                        rewritten = stream.read(len(_PYTHON_SHEBANG)) == _PYTHON_SHEBANG
                    if rewritten:
                        members.append(Member(info.filename, target, None))
                        continue
                digest = digests.get(info.filename, "")
                members.append(
                    Member(
                        info.filename,
                        target,
                        info.file_size,
                        digest[7:] if digest.startswith("sha256=") else None,
                    )
                )
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, RuntimeError) as err:
        raise _refuse(path, f"it cannot be read ({err})") from None
    for script in _scripts(entry_points):
        generated = f"{script}.exe" if layout.windows else script
        target, _ = placer.place(f"{dist_info[:-10]}.data/scripts/{generated}")
        members.append(Member("", target, None))
    return WheelFile(
        path,
        name,
        version,
        f"{layout.site_packages}/{dist_info}",
        tuple(metadata.get("requires-dist", ())),
        tuple(members),
    )

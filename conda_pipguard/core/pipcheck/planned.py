"""The env as it would be after pip installs the checked wheels, for the same rules as ``status``.

Two things change when pip installs: the distributions (each wheel's in place of the installed
copy of its project, which pip uninstalls first unless ``--ignore-installed``) and the files
(what the wheels write, and what the uninstall deletes). :func:`after_install` builds the
first as an :class:`~..disk.environment.Environment` whose new distributions carry their whole
installed ``RECORD`` (the wheel's files, placed, with the wheel's hashes and sizes), and the
second as a :class:`PlannedLedger`: the disk's ledger, answering for the paths pip would write
from the wheels instead of the disk, and for the paths it would delete as missing.
"""

from __future__ import annotations

import csv
import io
import os
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..disk.distributions import Distribution
from ..disk.environment import Environment
from ..disk.metafiles import RecordListing
from ..disk.records import RecordFile
from ..model.ledger import Ledger
from .resolution import Planned
from .wheelfile import Member, WheelFile

#: What pip writes in a metadata directory besides the wheel's own files.
_PIP_WRITES = ("INSTALLER", "REQUESTED", "RECORD")
#: A time later than any record: a planned file was written after conda wrote its record.
_NOW = 1 << 62


class _Stat:
    """The ``stat`` of a planned file: its size, written now."""

    def __init__(self, size: int) -> None:
        self.st_size = size
        self.st_mtime_ns = self.st_ctime_ns = _NOW
        self.st_mode = 0o100644


class PlannedEntry:
    """A directory entry for a file (or a directory) a planned install would write.

    Answers as much of :class:`os.DirEntry` as the ledger and the rules ask: the name, whether
    it is a file or a directory, and its size (-1 when pip writes bytes nobody knows in advance,
    which matches no recorded size).
    """

    def __init__(self, prefix: str, path: str, size: int | None, directory: bool = False) -> None:
        self.name = path.rpartition("/")[2]
        self.path = f"{prefix}/{path}"
        self._size = -1 if size is None else size
        self._directory = directory

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        """Whether it is a directory."""
        return self._directory

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        """Whether it is a file."""
        return not self._directory

    def is_symlink(self) -> bool:
        """Never: pip writes files."""
        return False

    def stat(self, *, follow_symlinks: bool = True) -> _Stat:
        """Its size, and a time after every record."""
        return _Stat(self._size)


@dataclass(frozen=True)
class PlannedFile:
    """A file a planned install writes: which wheel member, and how large it is.

    Attributes:
        wheel: The wheel it comes from (None for one pip generates).
        member: Its member (None likewise).
    """

    wheel: WheelFile | None
    member: Member | None

    @property
    def size(self) -> int | None:
        """Its size once written, when known."""
        return self.member.size if self.member is not None else None


class PlannedLedger(Ledger):
    """The ledger of the env after a planned install: the disk, but for what pip would change.

    Shares the disk ledger's memo (listings, directory times, hashes), so that the same
    question asked before and after the install costs the disk once.

    Args:
        base: The ledger of the env now.
        writes: Prefix-relative path -> the file pip would write there.
        deletes: Prefix-relative paths pip would delete (and not write again).
    """

    def __init__(self, base: Ledger, writes: dict[str, PlannedFile], deletes: set[str]) -> None:
        super().__init__(base.prefix)
        self._listings = base._listings
        self._dir_mtimes = base._dir_mtimes
        self._record_times = base._record_times
        self._digests = base._digests
        self.writes = writes
        self.deletes = deletes - writes.keys()
        self._planned_digests: dict[str, str | None] = {}
        self._touched: dict[str, dict[str, PlannedEntry | None]] = {}
        for path in writes:
            self._mark(path, PlannedEntry(self.prefix, path, writes[path].size))
        for path in self.deletes:
            self._mark(path, None)

    def _mark(self, path: str, entry: PlannedEntry | None) -> None:
        directory, _, name = path.rpartition("/")
        self._touched.setdefault(directory, {})[name] = entry
        while entry is not None and directory:  # its directories exist then
            parent, _, name = directory.rpartition("/")
            names = self._touched.setdefault(parent, {})
            if isinstance(names.get(name), PlannedEntry):
                break
            names[name] = PlannedEntry(self.prefix, directory, None, directory=True)
            directory = parent

    def listing(self, directory: str) -> dict[str, os.DirEntry[str]] | None:
        """The directory's entries after the install."""
        changes = self._touched.get(directory)
        found = super().listing(directory)
        if changes is None:
            return found
        merged: dict[str, object] = dict(found or {})
        for name, entry in changes.items():
            if entry is None:
                merged.pop(name, None)
            else:
                merged[name] = entry
        return merged  # type: ignore[return-value]

    def untouched_since(self, directory: str, since: int) -> bool:
        """False where the install adds or removes an entry."""
        return directory not in self._touched and super().untouched_since(directory, since)

    def digest(self, path: str) -> str | None:
        """The hash of what would be at *path*: the wheel member's, where pip writes one."""
        planned = self.writes.get(path)
        if planned is None:
            return None if path in self.deletes else super().digest(path)
        try:
            return self._planned_digests[path]
        except KeyError:
            value = None
            if planned.wheel is not None and planned.member is not None:
                self.hashed += 1
                value = planned.wheel.member_sha256(planned.member.name)
            self._planned_digests[path] = value
            return value

    def holds(self, path: str, file: RecordFile, since: int) -> bool:
        """Whether *path* would still hold what conda linked there."""
        if path in self.writes:
            return file.sha256 is not None and self.digest(path) == file.sha256
        return path not in self.deletes and super().holds(path, file, since)


def _record_text(site: str, members: Iterable[Member]) -> str:
    """The ``RECORD`` pip writes: paths relative to site-packages, hashes and sizes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for member in members:
        rel = posixpath.relpath(member.path, site)
        writer.writerow(
            [
                rel,
                f"sha256={member.digest}" if member.digest else "",
                "" if member.size is None else member.size,
            ]
        )
    return out.getvalue()


def planned_distribution(wheel: WheelFile, item: Planned, site: str) -> Distribution:
    """The distribution pip would write for *wheel*, its RECORD whole."""
    generated = [
        Member("", f"{wheel.dist_info}/{name}", None)
        for name in _PIP_WRITES
        if name != "REQUESTED" or item.requested
    ]
    members = [m for m in wheel.members if m.path not in {g.path for g in generated}]
    return Distribution(
        name=wheel.name,
        version=wheel.version,
        path=wheel.dist_info,
        kind="dist-info",
        site_packages=site,
        installer="pip",
        requested=item.requested,
        requires=wheel.requires,
        listing=RecordListing(site, _record_text(site, [*members, *generated])),
    )


def after_install(
    env: Environment,
    ledger: Ledger,
    wheels: Sequence[tuple[WheelFile, Planned]],
    *,
    ignore_installed: bool = False,
) -> tuple[Environment, PlannedLedger]:
    """*env* and its ledger as they would be once pip installed *wheels*.

    Args:
        env: The env now.
        ledger: Its ledger now (its memo is shared).
        wheels: Each checked wheel with what pip's report said of it.
        ignore_installed: ``-I``: pip writes over the installed copy without uninstalling it.
    """
    assert env.python is not None
    site = env.python.site_packages
    new = [planned_distribution(wheel, item, site) for wheel, item in wheels]
    keys = {dist.key for dist in new}
    paths = {dist.path for dist in new}
    writes: dict[str, PlannedFile] = {}
    for (wheel, _), dist in zip(wheels, new, strict=True):
        by_path = {member.path: member for member in wheel.members}
        for entry in dist.files or ():
            member = by_path.get(entry.path)
            writes[entry.path] = PlannedFile(wheel if member else None, member)
    deletes: set[str] = set()
    kept: list[Distribution] = []
    for dist in env.distributions:
        if dist.key in keys and not ignore_installed:  # pip uninstalls it first
            deletes.update(entry.path for entry in dist.files or ())
        elif dist.path not in paths:  # (-I over the same version: its metadata is rewritten)
            kept.append(dist)
    after = replace(env, distributions=(*kept, *new))
    return after, PlannedLedger(ledger, writes, deletes)

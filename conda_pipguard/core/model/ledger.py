"""What is on disk now, file by file, where pip writes.

The ledger answers, for a path a conda record lists or a distribution's ``RECORD`` lists, whose
content is there: conda's, the distribution's, both (the same bytes), something else
(*altered*) or nothing (*missing*). It stays cheap by asking the disk as little as the answer
needs, in this order:

1. A directory whose modification time is not later than the moment conda wrote the record of
   a file in it has had no entry added, removed or renamed since: pip and uv unlink or rename
   before they write, and conda relinks the same way, so the file is conda's. One ``stat`` per
   directory.
2. Otherwise one ``os.scandir`` of the directory tells which names exist (the listing is kept for
   every file of that directory) and one ``lstat`` per file gives its size, compared with the
   size conda (``size_in_bytes``) and RECORD recorded.
3. A hash only where the sizes agree and the answer depends on it: a file both conda and a
   distribution claim, or a conda file changed after conda linked it.

Answers are memoised, so the order in which rules ask does not change them. Paths are plain
prefix-relative strings; nothing here builds ``pathlib`` objects. A directory that leads out of
the prefix through a link is neither listed nor stated, and a file is hashed only through
:class:`~.containment.Within`: what lies behind such a link reads as missing, and is never read.
"""

from __future__ import annotations

import enum
import os

from ..disk.containment import Within
from ..disk.distributions import RecordEntry
from ..disk.records import CondaRecord, RecordFile
from .ownership import holds


class Content(enum.Enum):
    """Whose bytes a path holds now."""

    CONDA = "conda"  # conda's (by hash, or by size where the sizes tell)
    DIST = "dist"  # the distribution's and not conda's
    BOTH = "both"  # the same bytes as both, or nothing tells them apart
    ALTERED = "altered"  # neither's
    MISSING = "missing"
    PRESENT = "present"  # there; whose it is was not needed


_NO_LISTING: dict[str, os.DirEntry[str]] = {}


class Ledger:
    """Lazy, memoised answers about the files of one prefix.

    Args:
        prefix: The environment's absolute path.
    """

    def __init__(self, prefix: str | os.PathLike[str]) -> None:
        self.prefix = os.fspath(prefix)
        self.within = Within(self.prefix)
        self._listings: dict[str, dict[str, os.DirEntry[str]] | None] = {}
        self._dir_mtimes: dict[str, int | None] = {}
        self._record_times: dict[str, int] = {}
        self._digests: dict[str, str | None] = {}
        self.hashed = 0  # how many files were hashed: for tests and the benchmark

    # -- the disk ---------------------------------------------------------------------------

    def listing(self, directory: str) -> dict[str, os.DirEntry[str]] | None:
        """Entries of a prefix-relative directory by name; None when it is not a directory."""
        try:
            return self._listings[directory]
        except KeyError:
            pass
        real = self.within.real_dir(directory)  # None: it leads out, and is not listed
        found: dict[str, os.DirEntry[str]] | None = None
        if real is not None:
            try:
                with os.scandir(real) as it:
                    found = {entry.name: entry for entry in it}
            except OSError:
                found = None
        self._listings[directory] = found
        return found

    def entry(self, path: str) -> os.DirEntry[str] | None:
        """The directory entry of a prefix-relative path, or None when nothing is there."""
        directory, _, name = path.rpartition("/")
        return (self.listing(directory) or _NO_LISTING).get(name)

    def exists(self, path: str) -> bool:
        """Whether something (a file, a link, even a dangling one) is at *path*."""
        return self.entry(path) is not None

    def digest(self, path: str) -> str | None:
        """Hex SHA-256 of the file at *path*, memoised."""
        try:
            return self._digests[path]
        except KeyError:
            self.hashed += 1
            value = self._digests[path] = self.within.sha256(path)
            return value

    def holds(self, path: str, file: RecordFile, since: int) -> bool:
        """Whether *path* still holds what conda linked there (:func:`.ownership.holds`)."""
        return holds(self.within, path, file, since, lambda: self.digest(path))

    def record_time(self, record: CondaRecord) -> int:
        """When conda wrote *record* (ns): after it linked the record's files."""
        return self.file_time(record.record_path)

    def file_time(self, path: str) -> int:
        """The modification time of the file at *path* (ns), memoised; 0 when unknown.

        For a record, when conda wrote it; 0 sends every question about its files to the disk.
        """
        try:
            return self._record_times[path]
        except KeyError:
            try:
                value = os.stat(f"{self.prefix}/{path}").st_mtime_ns
            except OSError:
                value = 0
            self._record_times[path] = value
            return value

    def untouched_since(self, directory: str, since: int) -> bool:
        """Whether no entry of *directory* was added, removed or renamed after *since* (ns).

        Then every file conda linked there before *since* is still the one it linked, unless
        written in place (an edit, not what installers do).
        """
        try:
            mtime = self._dir_mtimes[directory]
        except KeyError:
            real = self.within.real_dir(directory)
            try:
                mtime = os.stat(real).st_mtime_ns if real is not None else None
            except OSError:
                mtime = None
            self._dir_mtimes[directory] = mtime
        return unchanged_since(mtime, since)

    # -- answers ------------------------------------------------------------------------------

    def conda_state(self, record: CondaRecord, file: RecordFile) -> Content:
        """Whose content *file* of *record* holds: ``CONDA``, ``ALTERED`` or ``MISSING``."""
        since = self.record_time(record)
        directory = file.path.rpartition("/")[0]
        if self.untouched_since(directory, since):
            return Content.CONDA
        entry = self.entry(file.path)
        if entry is None:
            return Content.MISSING
        size = getattr(file, "size", None)
        if size is None and file.sha256 is None:
            return Content.CONDA  # nothing to compare with
        try:
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            return Content.MISSING
        if size is not None and stat.st_size != size:
            return Content.ALTERED
        if file.sha256 and max(stat.st_mtime_ns, stat.st_ctime_ns) >= since:
            return Content.CONDA if self.digest(file.path) == file.sha256 else Content.ALTERED
        return Content.CONDA

    def dist_state(self, entry: RecordEntry, conda_file: RecordFile | None) -> Content:
        """Whose content a path a distribution's RECORD lists holds.

        Without a conda file at that path the content is not needed: ``PRESENT`` or ``MISSING``.
        """
        found = self.entry(entry.path)
        if found is None:
            return Content.MISSING
        if conda_file is None:
            return Content.PRESENT
        try:
            size = found.stat(follow_symlinks=False).st_size
        except OSError:
            return Content.MISSING
        conda_size = getattr(conda_file, "size", None)
        like_conda = conda_size is None or size == conda_size
        like_dist = entry.size is None or size == entry.size
        if like_conda and not like_dist:
            return Content.CONDA
        if like_dist and not like_conda:
            return Content.DIST
        if not (like_conda or like_dist):
            return Content.ALTERED
        actual = self.digest(entry.path)
        is_conda = conda_file.sha256 is None or actual == conda_file.sha256
        dist_hash = entry.sha256
        is_dist = dist_hash is None or actual == dist_hash
        if is_conda and is_dist:
            return Content.BOTH
        if is_conda:
            return Content.CONDA
        return Content.DIST if is_dist else Content.ALTERED


def unchanged_since(mtime: int | None, since: int) -> bool:
    """Whether a directory changed at *mtime* has had no entry added or removed after *since*.

    The ledger's first rule (times in ns): *mtime* None or *since* 0 means unknown, so no.
    """
    return mtime is not None and since > 0 and mtime <= since

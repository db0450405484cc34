"""Who owns what: conda records own the paths they list, and the distributions linked there.

A distribution on disk belongs to conda when its metadata directory is among the files of a conda
record *and* the metadata files conda recorded hashes for are still the ones conda linked; pip
reinstalling a package over conda's copy rewrites ``INSTALLER`` and ``RECORD``, so a same-version
``--force-reinstall`` is caught too. Everything else is *non-conda*, whatever its ``INSTALLER``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..disk.containment import Within
from ..disk.distributions import Distribution
from ..disk.environment import Environment
from ..disk.names import canonicalize_name
from ..disk.records import CondaRecord, RecordFile

#: Metadata files whose change shows that another installer reinstalled a distribution.
_SIGNATURE_FILES = ("INSTALLER", "RECORD", "METADATA", "PKG-INFO")
BYTECODE = (".pyc", ".pyo")


def dist_dir_of(path: str) -> str | None:
    """The dist-info/egg-info directory (or egg-info file) a prefix-relative path lies in."""
    for marker in (".dist-info", ".egg-info"):
        index = path.find(marker)
        if index != -1:
            end = index + len(marker)
            if end == len(path) or path[end] == "/":
                return path[:end]
    return None


def project_key(dist_dir: str) -> str:
    """The canonical project name a dist-info/egg-info path spells."""
    stem = dist_dir.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return canonicalize_name(stem.split("-", 1)[0])


def countable(file: RecordFile) -> bool:
    """Whether a missing or changed *file* counts: not byte code, not a directory."""
    return file.path_type not in ("pyc_file", "directory") and not file.path.endswith(BYTECODE)


def installer_of(dist: Distribution) -> str:
    """The distribution's ``INSTALLER``, or ``unknown installer``."""
    return dist.installer or "unknown installer"


def label(dist: Distribution) -> str:
    """``name version (installer)``, how every message names a distribution."""
    return f"{dist.name} {dist.version} ({installer_of(dist)})"


class PathIndex:
    """Prefix-relative path -> the record that linked it and what it expects there.

    An env's records list tens of thousands of paths, and the analysis asks about the few that
    non-conda RECORDs list: :meth:`prime` indexes those in one pass. A path asked about without
    priming makes the index whole first, so every answer is right; priming only makes it cheap.
    Where records list one path twice, the later record is its owner (the last one linked).

    Args:
        records: The records, in the order conda lists them.
    """

    def __init__(self, records: Iterable[CondaRecord]) -> None:
        self._records = tuple(records)
        self._found: dict[str, tuple[CondaRecord, RecordFile]] = {}
        self._primed: set[str] = set()
        self._whole = False

    def prime(self, paths: Iterable[str]) -> None:
        """Index *paths* (the ones the caller is about to ask about) in one pass."""
        wanted = set(paths) - self._primed
        if self._whole or not wanted:
            return
        found = self._found
        for record in self._records:
            for file in record.files:
                if file.path in wanted:
                    found[file.path] = (record, file)
        self._primed |= wanted

    def _get(self, path: str) -> tuple[CondaRecord, RecordFile] | None:
        if path not in self._primed and not self._whole:
            self._found = {file.path: (r, file) for r in self._records for file in r.files}
            self._whole = True
        return self._found.get(path)

    def owner(self, path: str) -> CondaRecord | None:
        """The record that linked *path*, or None when no record lists it."""
        hit = self._get(path)
        return hit[0] if hit else None

    def file(self, path: str) -> RecordFile | None:
        """What the record that linked *path* expects there, or None."""
        hit = self._get(path)
        return hit[1] if hit else None


@dataclass(frozen=True)
class Ownership:
    """Which conda record owns which file and which Python project.

    Attributes:
        paths: Prefix-relative path -> the record that linked it and its file entry.
        dist_dir_owner: Metadata directory -> the record that linked it.
        provides: Canonical project name -> records that linked metadata of that project.
        dist_dir_files: Metadata directory -> the files its record linked in it.
    """

    paths: PathIndex
    dist_dir_owner: dict[str, CondaRecord]
    provides: dict[str, list[CondaRecord]]
    dist_dir_files: dict[str, list[RecordFile]]

    @classmethod
    def of(cls, records: Iterable[CondaRecord]) -> Ownership:
        """Index the metadata directories of *records* (their other paths on demand)."""
        records = tuple(records)
        dist_dir_owner: dict[str, CondaRecord] = {}
        dist_dir_files: dict[str, list[RecordFile]] = defaultdict(list)
        provides: dict[str, list[CondaRecord]] = defaultdict(list)
        for record in records:
            for file in record.files:
                path = file.path
                if ".dist-info" not in path and ".egg-info" not in path:
                    continue
                dist_dir = dist_dir_of(path)
                if dist_dir is None:
                    continue
                if dist_dir not in dist_dir_owner:
                    dist_dir_owner[dist_dir] = record
                    key = project_key(dist_dir)
                    if record not in provides[key]:
                        provides[key].append(record)
                if dist_dir_owner[dist_dir] is record:
                    dist_dir_files[dist_dir].append(file)
        return cls(PathIndex(records), dist_dir_owner, dict(provides), dict(dist_dir_files))


#: Whether a prefix-relative path still holds what conda linked there (see :func:`holds`).
Holds = Callable[[str, RecordFile, int], bool]


def holds(
    within: Within,
    path: str,
    file: RecordFile,
    since: int,
    digest: Callable[[], str | None] | None = None,
) -> bool:
    """Whether the file at prefix-relative *path* still holds what conda linked (*file*'s hash).

    A file of the same size that was neither written nor relinked after conda wrote the record
    (*since*, in ns; 0 when unknown) is conda's without reading it: pip and uv write new files
    (a new inode, a new ctime), and an edit in place moves the mtime. Otherwise it is hashed
    (by *digest* when the caller keeps the hashes it made). Reached through a link that leads
    out of the prefix, it is not conda's, and not read.
    """
    if since and file.size is not None:
        found = within.lstat(path)
        if found is None or found.st_size != file.size:
            return False
        if max(found.st_mtime_ns, found.st_ctime_ns) < since:
            return True
    return (digest() if digest is not None else within.sha256(path)) == file.sha256


def is_intact(
    prefix: Path,
    dist: Distribution,
    owner: CondaRecord,
    since: int = 0,
    inside: Iterable[RecordFile] | None = None,
    check: Holds | None = None,
) -> bool:
    """Whether the metadata conda linked for *dist* is still conda's.

    Compares INSTALLER/RECORD/METADATA with the record (see :func:`holds`; *since* is when
    conda wrote *owner*'s record, in ns); for a record without hashes, a RECORD that lists
    files the record does not own means another installer wrote it. *inside* are the files
    *owner* linked in *dist*'s metadata directory, when the caller has them indexed; *check*
    answers for one prefix-relative path (the ledger's :meth:`~.ledger.Ledger.holds`, which a
    planned install answers from its wheels; default: the disk, through the prefix's
    containment check).
    """
    if inside is None:
        inside = [f for f in owner.files if dist_dir_of(f.path) == dist.path]
    hashed = [f for f in inside if f.sha256 and f.path.rsplit("/", 1)[-1] in _SIGNATURE_FILES]
    if hashed:
        if check is None:
            within = Within(prefix)
            return all(holds(within, f.path, f, since) for f in hashed)
        return all(check(f.path, f, since) for f in hashed)
    if dist.files is None:
        return True
    owned = {f.path for f in owner.files}
    return all(entry.path in owned or entry.path.endswith(BYTECODE) for entry in dist.files)


def classify(
    env: Environment,
    owners: Ownership,
    record_time: Callable[[CondaRecord], int] | None = None,
    check: Holds | None = None,
) -> tuple[list[Distribution], list[Distribution]]:
    """Split the env's distributions into conda's (owned and intact) and the others.

    Args:
        env: The environment.
        owners: Its records' files.
        record_time: When conda wrote a record (ns), which spares hashing metadata files
            untouched since (see :func:`is_intact`); without it every one is hashed.
        check: Whether a path still holds what conda linked (the ledger's; default: the disk).
    """
    if check is None:
        within = Within(env.prefix)

        def check(path: str, file: RecordFile, since: int) -> bool:
            return holds(within, path, file, since)

    conda: list[Distribution] = []
    foreign: list[Distribution] = []
    for dist in env.distributions:
        owner = owners.dist_dir_owner.get(dist.path)
        since = record_time(owner) if owner is not None and record_time is not None else 0
        inside = owners.dist_dir_files.get(dist.path, ())
        if owner is not None and is_intact(env.prefix, dist, owner, since, inside, check):
            conda.append(dist)
        else:
            foreign.append(dist)
    return conda, foreign


def counterparts(owners: Ownership, dist: Distribution) -> list[CondaRecord]:
    """The conda records whose Python project a non-conda *dist* replaced or sits on top of."""
    owner = owners.dist_dir_owner.get(dist.path)
    return [owner] if owner else list(owners.provides.get(dist.key, ()))

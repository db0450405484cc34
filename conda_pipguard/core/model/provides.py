"""What conda's packages and the non-conda distributions provide under the same name.

Two kinds of twins, read from file lists alone (the records' ``files``, the distributions'
RECORD), so that the same model serves ``status``, the guard and a checked ``pip install``:

* import names (:mod:`.importnames`): a top-level package, module or extension module that a
  conda record and a non-conda distribution of another project both provide in one
  site-packages, and which of the two Python imports;
* shared libraries: a ``lib*.so*``, ``*.dylib`` or ``*.dll`` a non-conda distribution ships under
  a file name a conda record also ships anywhere in the prefix.

The names the non-conda distributions provide are collected first (they are few); then one pass
over the records' files keeps the records' paths under those names, and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..disk.distributions import Distribution
from ..disk.python import PythonLayout
from ..disk.records import CondaRecord
from .importnames import ImportTwin, Suffixes, contest
from .ledger import Ledger

#: ``libcudnn.so.9.1.0`` -> (``libcudnn``, ``.9.1.0``); extension modules are left out below.
_SO = re.compile(r"^(?P<stem>lib.+?)\.so(?P<version>(?:\.[0-9]+)*)$")
#: ``libfoo.1.2.dylib`` -> (``libfoo``, ``.1.2``).
_DYLIB = re.compile(r"^(?P<stem>lib[^.]+)(?P<version>(?:\.[0-9]+)*)\.dylib$")
#: Markers of a Python extension module (a module, not a library the loader shares).
_EXTENSION_TAGS = (".cpython-", ".abi3.", ".cp3", ".pypy")


@dataclass(frozen=True)
class LibraryName:
    """A shared library's file name as the loader knows it.

    ``libcudnn.so.9`` and ``libcudnn.so.9.1.0`` are one library: the loader looks a library up
    by its soname, and a file ``libX.so.9.1.0`` is (by the universal convention, which conda's
    and PyPI's builds follow) the real file behind the soname ``libX.so.9``. So a name matches
    another that only adds version numbers to it; ``libssl.so.1.1`` does not match
    ``libssl.so.3`` nor ``libssl.so.1.0.2``, and a bare ``libX.so`` (the link-time name) matches
    only ``libX.so``. Copies that auditwheel or delocate vendored under a hashed name
    (``numpy.libs/libgfortran-040039e1.so.5.0.0``) have their own soname and match nothing.

    Attributes:
        stem: ``libcudnn`` (a ``.dll``'s whole name, lower-cased).
        version: ``(9, 1, 0)``; empty for an unversioned name.
        kind: ``so``, ``dylib`` or ``dll``.
    """

    stem: str
    version: tuple[int, ...]
    kind: str

    @classmethod
    def parse(cls, filename: str) -> LibraryName | None:
        """The library a file name names, or None when it is not a shared library's."""
        if any(tag in filename for tag in _EXTENSION_TAGS):
            return None
        if filename[-4:].lower() == ".dll":  # Windows file names: case does not matter
            return cls(filename.lower(), (), "dll")
        match = _SO.match(filename) or _DYLIB.match(filename)
        if match is None:
            return None
        digits = match.group("version")
        version = tuple(int(part) for part in digits.split(".")[1:]) if digits else ()
        return cls(match.group("stem"), version, "dylib" if filename.endswith("dylib") else "so")

    def matches(self, other: LibraryName) -> bool:
        """Whether the loader takes both names for one library (see the class)."""
        if (self.stem, self.kind) != (other.stem, other.kind):
            return False
        short, long = sorted((self.version, other.version), key=len)
        return short == long or (bool(short) and long[: len(short)] == short)


def _could_be_library(path: str) -> bool:
    """A cheap first look: whether *path*'s name may be a shared library's at all."""
    return ".so" in path or path.endswith(".dylib") or path[-4:].lower() == ".dll"


@dataclass(frozen=True)
class LibraryTwin:
    """A shared library a non-conda distribution and a conda record both ship.

    Attributes:
        dist: The non-conda distribution.
        record: The conda record.
        pairs: ``(the distribution's path, the record's path)``, prefix-relative.
    """

    dist: Distribution
    record: CondaRecord
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Twins:
    """The twins of one environment.

    Attributes:
        imports: Import names a conda record and a non-conda distribution both provide.
        libraries: Shared libraries both ship.
    """

    imports: tuple[ImportTwin, ...] = ()
    libraries: tuple[LibraryTwin, ...] = ()

    def of(self, dist: Distribution) -> list[ImportTwin]:
        """The import twins *dist* is one side of."""
        return [t for t in self.imports if dist is t.winner or dist is t.loser]


@dataclass(frozen=True)
class Wanted:
    """What the non-conda distributions provide: the names conda's records are searched for.

    Owners are keyed by their metadata path (a distribution) or record path (a record): both
    unique strings.

    Attributes:
        dists: Key -> the distribution.
        own: Key -> names of the conda packages of its own project (never its twins: a copy of
            the same project is ``shadowed``, not a twin).
        paths: Key -> its files below site-packages, relative to it.
        tops: The first components of those paths, up to a dot (``numpy``, ``cv2``).
        libraries: Key -> the shared libraries it ships (name, prefix-relative path).
        stems: The library names' stems.
    """

    dists: dict[str, Distribution] = field(default_factory=dict)
    own: dict[str, frozenset[str]] = field(default_factory=dict)
    paths: dict[str, list[str]] = field(default_factory=dict)
    tops: frozenset[str] = frozenset()
    libraries: dict[str, list[tuple[LibraryName, str]]] = field(default_factory=dict)
    stems: frozenset[str] = frozenset()


def wanted_names(
    python: PythonLayout | None, dists: Iterable[tuple[Distribution, Iterable[str]]]
) -> Wanted:
    """The import and library names of *dists* (each with its own project's conda names)."""
    site = f"{python.site_packages}/" if python else None
    found = Wanted()
    tops: set[str] = set()
    stems: set[str] = set()
    for dist, own_names in dists:
        if dist.kind != "dist-info" or dist.editable or not dist.files:
            continue  # an egg-info's SOURCES.txt lists sources, not what was installed
        key = dist.path
        found.dists[key] = dist
        found.own[key] = frozenset(own_names)
        meta = f"{dist.path}/"
        if site is not None:
            paths = [
                e.path[len(site) :]
                for e in dist.files
                if e.path.startswith(site) and not e.path.startswith(meta)
            ]
            found.paths[key] = paths
            tops.update(path.partition("/")[0].partition(".")[0] for path in paths)
        for entry in dist.files:
            if _could_be_library(entry.path):
                name = LibraryName.parse(entry.path.rpartition("/")[2])
                if name is not None:
                    found.libraries.setdefault(key, []).append((name, entry.path))
                    stems.add(name.stem)
    tops.discard("")
    return replace(found, tops=frozenset(tops), stems=frozenset(stems))


def find_twins(
    python: PythonLayout | None,
    records: Sequence[CondaRecord],
    wanted: Wanted,
    record_paths: dict[str, list[str]],
    ledger: Ledger,
) -> Twins:
    """The twins between *records* and the non-conda distributions of *wanted*.

    Args:
        python: The env's Python (import names need its site-packages and suffixes).
        records: Every conda record.
        wanted: What the non-conda distributions provide.
        record_paths: Record path -> its files below site-packages under ``wanted.tops``
            (relative to site-packages), from the pass over conda's files
            (:func:`.condafiles.scan_conda_files`).
        ledger: What is on disk (a listed file that is gone provides nothing).
    """
    if not wanted.dists:
        return Twins()
    own = wanted.own
    records_by_key = {record.record_path: record for record in records}
    imports: list[ImportTwin] = []
    if python is not None and record_paths:
        site = f"{python.site_packages}/"
        suffixes = Suffixes.of(
            python.version, windows=python.windows, free_threaded=python.free_threaded
        )

        def rival(a: str, b: str) -> bool:
            dist, record = (a, b) if a in own else (b, a)
            return (
                dist in own
                and record in records_by_key
                and (records_by_key[record].name not in own[dist])
            )

        def exists(rel: str) -> bool:
            return ledger.exists(f"{site}{rel.rstrip('/')}")

        found = contest({**record_paths, **wanted.paths}, rival, suffixes, exists)
        owner = {**records_by_key, **wanted.dists}
        imports = [replace(t, winner=owner[t.winner], loser=owner[t.loser]) for t in found]
    libraries: list[LibraryTwin] = []
    if wanted.stems:  # a pass of its own: the libraries lie anywhere in the prefix
        shipped: list[tuple[CondaRecord, LibraryName, str]] = []
        for record in records:
            for file in record.files:
                path = file.path
                if _could_be_library(path):
                    name = LibraryName.parse(path.rpartition("/")[2])
                    if name is not None and name.stem in wanted.stems:
                        shipped.append((record, name, path))
        pairs = _library_twins(wanted.libraries, shipped, own, ledger)
        libraries = [LibraryTwin(wanted.dists[key], record, paths) for key, record, paths in pairs]
    return Twins(tuple(imports), tuple(libraries))


def _library_twins(
    libraries: dict[str, list[tuple[LibraryName, str]]],
    found: list[tuple[CondaRecord, LibraryName, str]],
    own: dict[str, frozenset[str]],
    ledger: Ledger,
) -> list[tuple[str, CondaRecord, tuple[tuple[str, str], ...]]]:
    twins = []
    for key, shipped in libraries.items():
        by_record: dict[str, tuple[CondaRecord, list[tuple[str, str]]]] = {}
        for name, path in shipped:
            matches = [
                (record, conda_path)
                for record, other, conda_path in found
                # the same file is an overwrite; the same project's a shadow: not twins
                if conda_path != path and record.name not in own[key] and name.matches(other)
            ]
            if not matches or not ledger.exists(path):
                continue
            # one copy is enough to name: the same file name first (libX.so.9, not its target)
            filename = path.rpartition("/")[2]
            matches.sort(key=lambda match: match[1].rpartition("/")[2] != filename)
            for record, conda_path in matches:
                if ledger.exists(conda_path):
                    by_record.setdefault(record.record_path, (record, []))[1].append(
                        (path, conda_path)
                    )
                    break
        twins.extend((key, record, tuple(pairs)) for record, pairs in by_record.values())
    return twins

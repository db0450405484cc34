"""The guard's first look at an env, from directory listings: which distributions are not conda's.

The pre-command hook runs inside every ``conda install``; it only has to decide whether to print
one line and which distribution to name in it. So it reads no record it does not need:

1. ``conda-meta``'s file names (``name-version-build.json``) give every conda package's name and
   version; the ``python``/``python_abi`` records give the site-packages directory.
2. site-packages' dist-info/egg-info names give every distribution's name and version.
3. A distribution is conda's when a record of the same project (conda and PyPI names mapped as
   :func:`~.ownership.name_keys` maps them) has its version and was written after the metadata
   directory last changed (pip's ``--force-reinstall`` of the same version makes a new one).
4. Only the others are read further: the records of their project (when there is one) are
   searched for their directory's name and, where it occurs, parsed to decide ownership as
   :func:`~.ownership.classify` does; without such a record, ``INSTALLER`` decides.
5. The first non-conda distribution of a conda package's project is read against that record
   with the ledger (:func:`~.overlay.layer_of`), to tell a live layer from stale metadata.

The full analysis decides ownership from every record's file list; this look agrees with it
(tests compare the two) except where a conda package provides a project of an unrelated name
*and* another installer rewrote its metadata, or where a record is unreadable or was deleted by
``conda list``/``export`` (the full read reports those itself).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..disk import safeio
from ..disk.containment import Within
from ..disk.distributions import (
    DistDir,
    Distribution,
    list_dist_dirs,
    shallow_distribution,
    with_metadata,
)
from ..disk.environment import Environment
from ..disk.names import canonicalize_name
from ..disk.python import PythonLayout, layout_from_disk, layout_from_records
from ..disk.records import CondaRecord, PathMapper, parse_record
from ..rules.impact import risk_text
from .ledger import Ledger
from .overlay import Layer, layer_of
from .ownership import Ownership, dist_dir_of, is_intact, project_key


@dataclass(frozen=True)
class Glance:
    """What the directory listings of one env say about its non-conda distributions.

    Attributes:
        env: The env as far as it was read: its Python, the records that were needed (not all
            of them) and, as distributions (names and versions only), the non-conda ones and
            conda's pip (whether pip is there is all the fix commands ask of the others).
        foreign: The distributions that are not conda's, in the env's order.
        named: The one the warning names: the first live layer over a conda package, else the
            first stale one; None when no conda package's project is involved.
        theirs: Conda packages of the non-conda distributions' projects (by name).
        meta: The ``conda-meta`` index the look used; it keeps the records it parsed, and
            parses those :meth:`records_for` asks for.
    """

    env: Environment
    foreign: tuple[Distribution, ...]
    named: Layer | None
    theirs: tuple[str, ...] = field(default=(), repr=False)
    meta: _Meta | None = field(default=None, repr=False, compare=False)

    def risk_line(self) -> str | None:
        """The pre-command's one line (as :func:`~..rules.impact.risk_line` says it).

        None when the env is clean.
        """
        if not self.foreign:
            return None
        return risk_text(self.env.target_flag, [d.name for d in self.foreign], self.named)

    def records_for(self, names: Iterable[str]) -> tuple[CondaRecord, ...]:
        """The installed records of packages *names* and of the non-conda projects' packages.

        What :class:`~..rules.impact.PipLayer` needs for the impact of a plan of
        *names*.
        """
        if self.meta is None:
            return ()
        wanted = {name for name in names if name in self.meta.files} | set(self.theirs)
        found = (self.meta.record(name) for name in sorted(wanted))
        return tuple(record for record in found if record is not None)


def _canonical(name: str) -> str:
    """``canonicalize_name``, without the regex where plain replacements give the same."""
    key = name.lower().replace("_", "-").replace(".", "-")
    return key if "--" not in key else canonicalize_name(name)


class _Directory:
    """Modification times of directory entries, each directory opened once.

    Where the OS offers ``dir_fd``, a ``stat`` looks up one path component instead of the
    whole prefix's.
    """

    def __init__(self) -> None:
        self._fds: dict[str, int | None] = {}

    def __call__(self, directory: str, name: str) -> int:
        """``st_mtime_ns`` of *directory*/*name*; raises OSError."""
        try:
            fd = self._fds[directory]
        except KeyError:
            fd = None
            if _DIR_FD:
                try:  # never blocks, and only a directory
                    fd = os.open(directory, os.O_RDONLY | _O_NONBLOCK | _O_DIRECTORY)
                except OSError:
                    fd = None
            self._fds[directory] = fd
        if fd is None:
            return os.stat(f"{directory}/{name}").st_mtime_ns
        return os.stat(name, dir_fd=fd).st_mtime_ns

    def close(self) -> None:
        """Close the descriptors."""
        for fd in self._fds.values():
            if fd is not None:
                os.close(fd)
        self._fds.clear()


_DIR_FD = os.stat in os.supports_dir_fd
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class _Meta:
    """``conda-meta`` by file name; records parsed on demand and kept."""

    def __init__(self, prefix: Path, times: _Directory) -> None:
        self.prefix = prefix
        self.times = times
        self.files: dict[str, str] = {}  # package name -> its record's file name
        self.versions: dict[str, str] = {}
        with os.scandir(prefix / "conda-meta") as entries:
            for entry in entries:
                parts = entry.name[:-5].rsplit("-", 2) if entry.name.endswith(".json") else ()
                if len(parts) == 3 and all(parts):
                    self.files[parts[0]] = entry.name
                    self.versions[parts[0]] = parts[1]
        # conda names are canonical but for a few (``typing_extensions``, ``ruamel.yaml``)
        self.odd = {_canonical(n): n for n in self.files if "_" in n or "." in n or "--" in n}
        self._parsed: dict[str, CondaRecord | None] = {}
        self._raw: dict[str, bytes | None] = {}
        self.mapper = PathMapper(None)
        self.within = Within(prefix)  # one containment check for every metadata hash

    def names_of(self, key: str) -> list[str]:
        """Conda packages that may provide Python project *key* (the inverse of ``name_keys``)."""
        files, odd = self.files, self.odd
        found = []
        for name in (key, f"py-{key}", f"python-{key}"):
            if name in files:
                found.append(name)
            elif name in odd:
                found.append(odd[name])
        return found

    def record(self, name: str, *, files: bool = True) -> CondaRecord | None:
        """The parsed record of package *name* (None when unreadable).

        Without *files* the file list is left out (``python.exe`` kept: it tells Windows).
        """
        if name not in self._parsed:
            rel = f"conda-meta/{self.files[name]}"
            try:
                data = self.raw(name)
                if data is None:
                    raise ValueError("unreadable")
                raw = json.loads(data)
                if not files and isinstance(raw, dict):
                    listed = raw.pop("files", None) or ()
                    raw.pop("paths_data", None)
                    raw["files"] = [p for p in listed if str(p).lower() == "python.exe"]
                parsed = parse_record(raw, rel, self.mapper)
            except (OSError, ValueError, UnicodeDecodeError, RecursionError):
                parsed = None
            if not files:
                return parsed
            self._parsed[name] = parsed
        return self._parsed[name]

    def raw(self, name: str) -> bytes | None:
        """The bytes of package *name*'s record (None when unreadable), read once."""
        if name not in self._raw:
            try:
                self._raw[name] = safeio.read_bytes(
                    f"{self.prefix}/conda-meta/{self.files[name]}",
                    limit=safeio.RECORD_JSON_LIMIT,
                    root=str(self.prefix),
                )
            except OSError:
                self._raw[name] = None
        return self._raw[name]

    def lists(self, name: str, path: str) -> CondaRecord | None:
        """The record of package *name* when it lists *path* or files under it, else None.

        The record's bytes are searched for the last component first: most records are never
        parsed.
        """
        base = path.rpartition("/")[2]
        raw = self.raw(name)
        if raw is None or (base.isascii() and base.encode() not in raw):
            return None
        record = self.record(name)
        if record is None:
            return None
        inside = f"{path}/"
        return (
            record
            if any(f.path.startswith(inside) or f.path == path for f in record.files)
            else None
        )

    def mtime(self, name: str) -> int:
        """When the record of package *name* was written (ns; 0 when unknown)."""
        try:
            return self.times(f"{self.prefix}/conda-meta", self.files[name])
        except OSError:
            return 0

    @property
    def parsed(self) -> tuple[CondaRecord, ...]:
        return tuple(record for record in self._parsed.values() if record is not None)


def _python(meta: _Meta) -> PythonLayout | None:
    named = {
        n: r
        for n in ("python", "python_abi")
        if n in meta.files and (r := meta.record(n, files=False))
    }
    layout = layout_from_records(named, meta.prefix)
    if layout is None and "python" not in meta.files:
        interpreter = (meta.prefix / "python.exe").exists() or (meta.prefix / "bin/python").exists()
        layout = layout_from_disk(meta.prefix) if interpreter else None
    if layout is not None:
        meta.mapper = PathMapper(layout.site_packages, layout.scripts)  # python's is not noarch
    return layout


def _installer(prefix: Path, entry: DistDir) -> str | None:
    try:
        text = safeio.read_text(
            prefix / entry.path / "INSTALLER", limit=safeio.SMALL_LIMIT, root=str(prefix)
        )
    except (OSError, UnicodeDecodeError):
        return None
    return text[:64].strip() or None


def _provides(meta: _Meta, name: str, key: str) -> CondaRecord | None:
    """The record of package *name* when it linked metadata of project *key*."""
    record = meta.record(name)
    if record is None:
        return None
    found = any(
        (d := dist_dir_of(f.path)) is not None and project_key(d) == key
        for f in record.files
        if ".dist-info" in f.path or ".egg-info" in f.path
    )
    return record if found else None


def _owner_of(prefix: str, meta: _Meta, entry: DistDir) -> tuple[bool, CondaRecord | None]:
    """Whether *entry* is conda's; if not, the record that linked its directory, if any."""
    names = meta.names_of(_canonical(entry.name))
    versions = meta.versions
    if any(versions[n] == entry.version for n in names):
        directory, _, base = entry.path.rpartition("/")
        try:
            changed = meta.times(f"{prefix}/{directory}", base)
        except OSError:
            changed = None
        if changed is not None and any(
            versions[n] == entry.version and changed <= meta.mtime(n) for n in names
        ):
            return True, None
    root = Path(prefix)
    for n in names:
        record = meta.lists(n, entry.path)
        if record is not None:
            dist = with_metadata(root, shallow_distribution(entry))
            return is_intact(root, dist, record, within=meta.within), record
    if not names and _installer(root, entry) == "conda":
        return True, None
    return False, None


def glance(prefix: str | os.PathLike[str], name: str | None = None) -> Glance:
    """Look at *prefix* as cheaply as the pre-command's line allows.

    Raises:
        OSError: *prefix* has no readable ``conda-meta``.
    """
    root = Path(os.path.abspath(prefix))
    times = _Directory()
    try:
        return _glance(root, name, _Meta(root, times))
    finally:
        times.close()


def _glance(root: Path, name: str | None, meta: _Meta) -> Glance:
    python = _python(meta)
    entries = list_dist_dirs(root, python.site_packages)[0] if python else []
    foreign: list[Distribution] = []
    owners: list[CondaRecord | None] = []
    projects: set[str] = set()
    pip: list[Distribution] = []
    for entry in entries:
        conda, owner = _owner_of(str(root), meta, entry)
        if not conda:
            foreign.append(shallow_distribution(entry))
            owners.append(owner)
            projects.update(meta.names_of(_canonical(entry.name)))
        elif _canonical(entry.name) == "pip":
            pip.append(shallow_distribution(entry))
    env = Environment(
        prefix=root,
        name=name,
        python=python,
        records=meta.parsed,
        distributions=tuple(sorted((*foreign, *pip), key=lambda d: d.path)),
    )
    ledger = Ledger(root)
    named: Layer | None = None
    for dist, owner in zip(foreign, owners, strict=True):
        # counterparts as the analysis finds them: the record that linked this directory, else
        # the records that linked metadata of the same project
        key = _canonical(dist.name)
        records = (
            [owner]
            if owner
            else [r for n in meta.names_of(key) if (r := _provides(meta, n, key)) is not None]
        )
        if not records:
            continue
        found = layer_of(env, Ownership.of(records), ledger, with_metadata(root, dist))
        if found.live:
            named = found
            break
        named = named or found
    return Glance(env, tuple(foreign), named, tuple(sorted(projects)), meta)

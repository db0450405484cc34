"""The guard's first look at an env: the ownership model, read from directory listings.

The pre-command hook runs inside every ``conda install``; it only has to decide whether to print
one line and which distribution to name in it. It decides ownership by the model's rule
(:func:`~.ownership.classify`: a distribution is conda's when a record lists its metadata
directory and that metadata is still what conda linked) but reads no record it can do without:

1. ``conda-meta``'s file names (:class:`~..disk.condameta.CondaMeta`) give every conda package's
   name and version; the Python layout is found as the full read finds it
   (:func:`~..disk.python.discover`).
2. site-packages' dist-info/egg-info names give every distribution's name and version.
3. A distribution whose metadata directory no installer touched since conda wrote the record of
   its project and version (:meth:`~.ledger.Ledger.untouched_since`, the ledger's first rule;
   conda and PyPI names mapped as :func:`~..disk.names.name_keys` maps them) is conda's: it
   still holds the files conda linked. No record is read for it.
4. The others are decided by :func:`~.ownership.classify` itself, from the records of their
   project, searched for their directory's name before they are parsed.
5. A distribution none of those records lists is not sure. When its ``INSTALLER`` says conda (a
   conda package of another name, ``pytorch`` for ``torch``), the look asks the model: the
   other records are searched for the one that linked it, those written after its directory
   last changed first, and :func:`~.ownership.classify` decides. Otherwise it is not conda's.
6. The warning names a layer as :func:`~.riskline.named_layer` chooses (the full read's rule),
   reading the non-conda distributions over their project's records with the ledger.

The full analysis decides from every record's file list; this look agrees with it (tests compare
the two) except where a conda package provides a project of another name *and* another
installer rewrote that project's metadata (the look finds no record of the project), or where a
record is unreadable or was deleted by ``conda list``/``export`` (the full read reports those).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..disk import safeio
from ..disk.condameta import CondaMeta
from ..disk.distributions import (
    DistDir,
    Distribution,
    list_dist_dirs,
    shallow_distribution,
    with_metadata,
)
from ..disk.environment import Environment, collector_paused
from ..disk.names import canonicalize_name
from ..disk.python import discover
from ..disk.records import CondaRecord, PathMapper
from .ledger import Ledger, unchanged_since
from .ownership import Ownership, classify, counterparts
from .riskline import named_layer, risk_text

if TYPE_CHECKING:
    from .overlay import Layer


@dataclass(frozen=True)
class Glance:
    """What the directory listings of one env say about its non-conda distributions.

    Attributes:
        env: The env as far as it was read: its Python, the records that were needed (not all
            of them) and, as distributions (names and versions only), the non-conda ones and
            conda's pip (whether pip is there is all the fix commands ask of the others).
        foreign: The distributions that are not conda's, in the env's order.
        named: The one the warning names (:func:`~.riskline.named_layer`); None when no conda
            package's project is involved.
        theirs: Conda packages of the non-conda distributions' projects (by name).
        meta: The ``conda-meta`` index the look used; it keeps the records it parsed, and
            parses those :meth:`records_for` asks for.
        mapper: How that index places noarch paths.
    """

    env: Environment
    foreign: tuple[Distribution, ...]
    named: Layer | None
    theirs: tuple[str, ...] = field(default=(), repr=False)
    meta: CondaMeta | None = field(default=None, repr=False, compare=False)
    mapper: PathMapper | None = field(default=None, repr=False, compare=False)

    def risk_line(self) -> str | None:
        """The pre-command's one line (:func:`~.riskline.risk_text`); None when the env is clean."""
        if not self.foreign:
            return None
        return risk_text(self.env.target_flag, [d.name for d in self.foreign], self.named)

    def records_for(self, names: Iterable[str]) -> tuple[CondaRecord, ...]:
        """The installed records of packages *names* and of the non-conda projects' packages.

        What :class:`~..rules.impact.PipLayer` needs for the impact of a plan of *names*.
        """
        if self.meta is None or self.mapper is None:
            return ()
        wanted = {name for name in names if name in self.meta.files} | set(self.theirs)
        found = (self.meta.record(name, self.mapper) for name in sorted(wanted))
        return tuple(record for record in found if record is not None)


def _key(name: str) -> str:
    """``canonicalize_name``, without the regular expression where plain replacements do."""
    key = name.lower().replace("_", "-").replace(".", "-")
    return key if "--" not in key else canonicalize_name(name)


class _Times:
    """Modification times of the entries of a few directories, each directory opened once.

    Where the OS offers ``dir_fd``, a ``stat`` looks up one path component instead of the
    whole prefix's.
    """

    def __init__(self) -> None:
        self._fds: list[int] = []

    def of(self, directory: str) -> Callable[[str], int | None]:
        """A function from an entry's name in *directory* to its ``st_mtime_ns`` (None: unknown)."""
        fd = None
        if _DIR_FD:
            try:
                fd = os.open(directory, _DIR_FLAGS)  # a FIFO put there is refused, not waited on
                self._fds.append(fd)
            except OSError:
                fd = None
        stat = os.stat

        def mtime(name: str) -> int | None:
            try:
                if fd is None:
                    return stat(f"{directory}/{name}").st_mtime_ns
                return stat(name, dir_fd=fd).st_mtime_ns
            except OSError:
                return None

        return mtime

    def close(self) -> None:
        """Close the directories."""
        while self._fds:
            os.close(self._fds.pop())


_DIR_FD = os.stat in os.supports_dir_fd
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NONBLOCK", 0)


class _Look:
    """One look: the index, the ledger, and the times of what it was asked about."""

    def __init__(self, root: Path, times: _Times) -> None:
        self.root = root
        self.meta = CondaMeta(root)
        self.ledger = Ledger(root)
        self.python = discover(self.meta)
        self.mapper = PathMapper(
            self.python.site_packages if self.python else None,
            self.python.scripts if self.python else "bin",
        )
        self.site = self.python.site_packages if self.python else ""
        self.site_time = times.of(f"{root}/{self.site}")
        meta_time = times.of(self.meta.path)
        files = self.meta.files
        written: dict[str, int] = {}

        def record_time(name: str) -> int:
            value = written.get(name)
            if value is None:
                value = written[name] = meta_time(files[name]) or 0
            return value

        self.record_time = record_time
        """When conda wrote package *name*'s record (ns; 0 when unknown)."""
        self.pip: list[Distribution] = []
        """Conda's pip, as :meth:`undecided` found it."""

    def undecided(self, entries: Iterable[DistDir]) -> Iterator[tuple[DistDir, list[str]]]:
        """*entries* but those conda linked with the record of their project and version.

        That is the ledger's first rule (:func:`~.ledger.unchanged_since`) on their directory:
        no installer touched it since conda wrote that record. The hot loop of every conda
        command: no record is read, two ``stat`` calls per distribution.

        Yields:
            The others, with the packages of their project. Conda's pip, which the fix commands
            ask for, is kept in :attr:`pip`.
        """
        versions, names_of = self.meta.versions, self.meta.names_of
        site_time, record_time, cut = self.site_time, self.record_time, len(self.site) + 1
        for entry in entries:
            key = _key(entry.name)
            names = names_of(key)
            changed, conda = None, False
            for name in names:
                if versions[name] == entry.version:
                    if changed is None and (changed := site_time(entry.path[cut:])) is None:
                        break  # its time cannot be read: the records decide
                    if unchanged_since(changed, record_time(name)):
                        conda = True
                        break
            if not conda:
                yield entry, names
            elif key == "pip":
                self.pip.append(shallow_distribution(entry))

    def lister(self, name: str, path: str) -> CondaRecord | None:
        """Package *name*'s record when it lists the metadata directory *path*, else None.

        Its bytes are searched for the directory's name first: most records are never parsed.
        """
        if not self.meta.mentions(name, path.rpartition("/")[2]):
            return None
        record = self.meta.record(name, self.mapper)
        inside = f"{path}/"
        if record is None or not any(
            f.path == path or f.path.startswith(inside) for f in record.files
        ):
            return None
        return record

    def owner(self, entry: DistDir, names: list[str]) -> CondaRecord | None:
        """The record that linked *entry*: one of its project's, else (not sure) any.

        Any other record is searched only when ``INSTALLER`` says conda, the nearest written
        after the directory last changed first (conda writes a record right after linking).
        """
        for name in names:
            record = self.lister(name, entry.path)
            if record is not None:
                return record
        root = str(self.root)
        try:
            installer = safeio.read_text(
                f"{root}/{entry.path}/INSTALLER",
                limit=safeio.SMALL_LIMIT,
                root=root,
                errors="replace",
            )
        except OSError:
            return None
        if installer.strip() != "conda":
            return None
        changed = self.site_time(entry.path[len(self.site) + 1 :]) or 0

        def nearest_after(name: str) -> tuple[bool, int]:
            written = self.record_time(name)
            return written < changed, abs(written - changed)

        others = sorted((name for name in self.meta.files if name not in names), key=nearest_after)
        return next((r for name in others if (r := self.lister(name, entry.path))), None)

    def layers(
        self, env: Environment, foreign: Iterable[Distribution], owners: dict[str, CondaRecord]
    ) -> Iterator[Layer]:
        """How each of *foreign* lies over its project's records, as far as anyone asks.

        *owners* are the records that linked some of their directories (then theirs alone).
        """
        from .overlay import layer_of  # only an env with a non-conda layer pays for it

        for dist in foreign:
            names = self.meta.names_of(_key(dist.name))
            found = [owners[dist.path]] if dist.path in owners else []
            found += [r for n in names if (r := self.meta.record(n, self.mapper))]
            index = Ownership.of(found)
            if counterparts(index, dist):
                yield layer_of(env, index, self.ledger, with_metadata(self.root, dist))


def glance(prefix: str | os.PathLike[str], name: str | None = None) -> Glance:
    """Look at *prefix* as cheaply as the pre-command's line allows.

    Raises:
        OSError: *prefix* has no readable ``conda-meta``.
    """
    times = _Times()
    try:
        with collector_paused():  # many small objects, none in a cycle
            return _glance(_Look(Path(os.path.abspath(prefix)), times), name)
    finally:
        times.close()


def _glance(look: _Look, name: str | None) -> Glance:
    root, meta = look.root, look.meta
    entries = list_dist_dirs(root, look.site)[0] if look.python else []
    undecided: list[Distribution] = []
    owners: dict[str, CondaRecord] = {}
    for entry, names in look.undecided(entries):
        owner = look.owner(entry, names)
        dist = shallow_distribution(entry)
        if owner is not None:
            owners[entry.path] = owner
            dist = with_metadata(root, dist)
        undecided.append(dist)
    ordered = sorted({id(r): r for r in owners.values()}.values(), key=lambda r: r.record_path)
    decided = Environment(prefix=root, distributions=tuple(undecided))
    conda, foreign = classify(decided, Ownership.of(ordered), look.ledger.record_time)
    pip = [*look.pip, *(d for d in conda if _key(d.name) == "pip")]  # the fix commands ask
    env = Environment(
        prefix=root,
        name=name,
        python=look.python,
        records=meta.parsed,
        distributions=tuple(sorted((*foreign, *pip), key=lambda d: d.path)),
    )
    theirs = {n for dist in foreign for n in meta.names_of(_key(dist.name))}
    named = named_layer(look.layers(env, foreign, owners))
    if named is None:  # the line names the first three: as their metadata spells them
        foreign[:3] = [with_metadata(root, dist) for dist in foreign[:3]]
    return Glance(env, tuple(foreign), named, tuple(sorted(theirs)), meta, look.mapper)

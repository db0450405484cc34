"""Conda's own files where pip writes: altered, missing, gone, and what lies among them.

One pass over the files of every conda record that lie in site-packages or the scripts
directory, asking the ledger (directory times first, sizes next, hashes last), says for each
record which of its files hold other content (*altered*) and which are gone (*missing*); a record
whose import entry point (``numpy/__init__.py``) or most of whose files are gone is *gone*: it is
effectively not installed. Records a live non-conda distribution replaced or overwrote are left
to the layer rules.

The same pass finds *leftovers*: files inside a directory a record's files lie in that no record
and no installed distribution lists, as an install whose metadata was removed by hand leaves
them (``numpy/_core/`` of a numpy 2 under conda's numpy 1.26). Only directories changed after
conda linked the record are listed (their listing is the one the ledger takes anyway), and every
directory of a record conda relinked at the same version (``conda install --force-reinstall``,
which leaves another install's files where they were), so a clean env costs no listing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..disk.history import History
from ..disk.records import CondaRecord
from .ledger import Content, Ledger
from .ownership import countable
from .strays import Inspection, Leftovers, find_leftovers


@dataclass(frozen=True)
class RecordDamage:
    """What happened to one record's files where pip writes.

    Attributes:
        record: The record.
        counted: Its files there that count (not byte code, not directories).
        altered: Those holding other content than conda linked.
        missing: Those that are gone.
        entries_missing: Missing files that make its top-level modules importable
            (``numpy/__init__.py``, ``six.py``).
    """

    record: CondaRecord
    counted: int
    altered: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    entries_missing: tuple[str, ...] = ()

    @property
    def mostly_missing(self) -> bool:
        """More than half of its files are gone."""
        return 2 * len(self.missing) > self.counted


@dataclass(frozen=True)
class CondaFiles:
    """Conda's files where pip writes, record by record (only records with something to say).

    Attributes:
        damage: Record name -> its altered and missing files.
        leftovers: Record name -> the files left among its own.
        import_paths: Record path -> its files below site-packages (relative to it) under the
            top-level names the pass was asked for (:mod:`.provides` looks for twins there).
    """

    damage: dict[str, RecordDamage]
    leftovers: dict[str, Leftovers]
    import_paths: dict[str, list[str]] = field(default_factory=dict)

    def gone(self) -> dict[str, RecordDamage]:
        """Records that are effectively not installed.

        Their import entry point is gone (the import fails), or most of their files are and
        nothing stands in their place: with files of another install there instead (changed
        ones, leftovers), the package is a mix, which imports (see :meth:`mixed`).
        """
        return {
            name: damage
            for name, damage in self.damage.items()
            if damage.entries_missing
            or (damage.mostly_missing and not damage.altered and name not in self.leftovers)
        }

    def mixed(self) -> set[str]:
        """Records whose directories mix their files with another install's, some changed."""
        gone = self.gone()
        return {
            name
            for name, damage in self.damage.items()
            if name in self.leftovers and (damage.altered or damage.missing) and name not in gone
        }


def relinked(history: History) -> frozenset[str]:
    """Names conda unlinked and linked again at the same build in one transaction.

    That is ``conda install --force-reinstall`` (and ``conda pipguard fix``): it puts conda's
    files back where they were and leaves every other file in those directories as it was.
    """
    names: set[str] = set()
    for revision in history.revisions:
        if revision.linked and revision.unlinked:
            before = {dist.dist_str for dist in revision.unlinked}
            names.update(dist.name for dist in revision.linked if dist.dist_str in before)
    return frozenset(names)


def _is_entry(rel: str) -> bool:
    """Whether a site-packages-relative path makes a top-level module importable."""
    _, slash, rest = rel.partition("/")
    if not slash:
        return rel.endswith((".py", ".so", ".pyd")) and "." in rel
    return "/" not in rest and rest.startswith("__init__.") and rest.endswith((".py", ".so"))


def scan_conda_files(
    records: Iterable[CondaRecord],
    ledger: Ledger,
    areas: tuple[str, ...],
    skip: frozenset[str],
    history: History,
    listed: Iterable[str],
    tops: frozenset[str] = frozenset(),
) -> CondaFiles:
    """Read conda's files in *areas* (site-packages first, then the scripts directory).

    Args:
        records: Every conda record.
        ledger: What is on disk.
        areas: Prefix-relative directories with a trailing slash: site-packages, scripts.
        skip: Records a live non-conda distribution replaced or overwrote (the layer rules
            tell those).
        history: ``conda-meta/history`` (which records conda relinked in place).
        listed: Paths the installed non-conda distributions list (not leftovers).
        tops: Top-level names whose files below site-packages to keep, by record (the import
            names non-conda distributions provide: the same pass indexes them).
    """
    records = tuple(records)
    site_slash = areas[0]
    scan = Inspection(records, ledger, areas)
    inspect, collected = scan.inspect, scan.names
    deep = relinked(history)
    damage: dict[str, RecordDamage] = {}
    import_paths: dict[str, list[str]] = {}
    site = site_slash.rstrip("/")
    size = len(site_slash)
    for record in records:
        state = record.name not in skip
        look = state and record.name in deep
        since = ledger.record_time(record)
        altered: list[str] = []
        missing: list[str] = []
        directory, untouched, names, keep, kept = None, False, None, None, None
        extra = False
        for file in record.files:
            path = file.path
            if not path.startswith(areas):
                continue
            # files come grouped by directory: one look per directory clears most of them
            parent = path.rpartition("/")[0]
            if parent != directory:
                directory, untouched = parent, ledger.untouched_since(parent, since)
                inside = parent.startswith(site_slash)
                if inside and (look or (state and not untouched)):
                    inspect.setdefault(parent, record)
                    names = collected.setdefault(parent, set())
                else:
                    names = collected.get(parent) if collected else None
                if not tops:
                    keep = None
                elif inside:  # right below a top-level name: keep all or none
                    keep = True if parent[size:].partition("/")[0] in tops else None
                else:  # site-packages itself: each module file's own name decides
                    keep = False if parent == site else None
                extra = names is not None or keep is not None
            if extra:
                if names is not None:
                    names.add(path[len(parent) + 1 :])
                if keep is not None and (keep or path[size:].partition(".")[0] in tops):
                    if kept is None:
                        kept = import_paths[record.record_path] = []
                    kept.append(path[size:])
            if untouched or not state or not countable(file):
                continue
            found = ledger.conda_state(record, file)
            if found is Content.ALTERED:
                altered.append(path)
            elif found is Content.MISSING:
                missing.append(path)
        if altered or missing:
            counted = sum(1 for f in record.files if f.path.startswith(areas) and countable(f))
            entries = tuple(
                p for p in missing if p.startswith(site_slash) and _is_entry(p[len(site_slash) :])
            )
            damage[record.name] = RecordDamage(
                record, counted, tuple(altered), tuple(missing), entries
            )
    leftovers = find_leftovers(scan, set(listed)) if inspect else {}
    return CondaFiles(damage, leftovers, import_paths)

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

from ..disk import safeio
from ..disk.history import History
from ..disk.records import CondaRecord
from .ledger import Content, Ledger
from .ownership import BYTECODE, countable

#: A leftover directory is walked up to this many entries (a bound, not an expectation).
MAX_WALK = 50_000
#: Names no install leaves: the Finder's, and conda's own debris (reported as such).
_IGNORED = (".DS_Store",)


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
class Leftovers:
    """Files no record and no distribution lists, inside the directories of one record.

    Attributes:
        record: The record whose directories hold them.
        files: The files (not byte code), prefix-relative.
        bytecode: Byte code of those files, or of modules that are gone.
        scripts: Console scripts in the scripts directory that import this record's modules
            and that nothing lists.
        walk_cut: A leftover directory held more than :data:`MAX_WALK` entries: counts are
            lower bounds.
    """

    record: CondaRecord
    files: tuple[str, ...] = ()
    bytecode: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()
    walk_cut: bool = False

    @property
    def paths(self) -> tuple[str, ...]:
        """Everything to remove."""
        return (*self.files, *self.scripts, *self.bytecode)


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


class _Scan:
    """What the one pass (see :func:`scan_conda_files`) leaves for the leftovers.

    Args:
        records: Every record.
        ledger: What is on disk.
        areas: Where pip writes (site-packages first).
    """

    def __init__(self, records: tuple[CondaRecord, ...], ledger: Ledger, areas: tuple[str, ...]):
        self.records = records
        self.ledger = ledger
        self.areas = areas
        self.site = areas[0].rstrip("/")
        #: Inspected directory -> the record it is inspected for.
        self.inspect: dict[str, CondaRecord] = {}
        #: Inspected directory -> names listed right in it (by the records it changed for).
        self.names: dict[str, set[str]] = {}
        self._paths: set[str] | None = None
        self._dirs: set[str] = set()

    def owned(self, path: str) -> bool:
        """Whether a record lists *path*, or files below it (a second pass, made once).

        Only asked about what the listings show and the pass did not collect: in a clean env,
        never.
        """
        if self._paths is None:
            self._paths = set()
            dirs = self._dirs
            for record in self.records:
                directory = None
                for file in record.files:
                    file_path = file.path
                    if not file_path.startswith(self.areas):
                        continue
                    self._paths.add(file_path)
                    parent = file_path.rpartition("/")[0]
                    if parent != directory:
                        directory = parent
                        while parent not in dirs and len(parent) > len(self.site):
                            dirs.add(parent)
                            parent = parent.rpartition("/")[0]
        return path in self._paths or path in self._dirs


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
    scan = _Scan(records, ledger, areas)
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
    leftovers = _leftovers(scan, set(listed)) if inspect else {}
    if leftovers and len(areas) > 1:
        _add_scripts(scan, areas[1].rstrip("/"), leftovers, set(listed))
    return CondaFiles(damage, leftovers, import_paths)


def _leftovers(scan: _Scan, listed: set[str]) -> dict[str, Leftovers]:
    ledger = scan.ledger
    listed_dirs: set[str] = set()
    for path in listed:
        parent = path.rpartition("/")[0]
        while parent and parent not in listed_dirs:
            listed_dirs.add(parent)
            parent = parent.rpartition("/")[0]
    found: dict[str, tuple[CondaRecord, list[str], list[str], list[bool]]] = {}
    for directory, record in scan.inspect.items():
        listing = ledger.listing(directory)
        if not listing:
            continue
        expected = scan.names.get(directory, set())
        cache = directory.endswith("/__pycache__")
        for name, entry in listing.items():
            if name in expected or name in _IGNORED or name.endswith(".conda_trash"):
                continue
            if cache and not name.endswith(BYTECODE):
                continue  # a JIT's cache next to Python's (numba's .nbi, .nbc) is no install's
            path = f"{directory}/{name}"
            if path in listed or path in listed_dirs:
                continue
            is_dir = _is_dir(entry)
            if is_dir and name == "__pycache__":
                # Python's cache of the directory's modules: only byte code of modules that
                # are themselves left over, or gone, counts (see below)
                files, bytecode, cut = _walk(ledger, path)
            elif scan.owned(path):
                continue  # another record's (the pass collected names only where it looked)
            elif is_dir:
                files, bytecode, cut = _walk(ledger, path)
            elif name.endswith(BYTECODE):
                files, bytecode, cut = [], [path], False
            else:
                files, bytecode, cut = [path], [], False
            _, kept_files, kept_bytecode, cuts = found.setdefault(record.name, (record, [], [], []))
            kept_files += files
            kept_bytecode += bytecode
            cuts.append(cut)
    result = {}
    for name, (record, files, bytecode, cuts) in found.items():
        if not files:
            continue  # byte code alone (an orphaned cache) is no install's leftover
        sources = set(files)
        left = {p for p in bytecode if _stale_bytecode(ledger, p, sources)}
        result[name] = Leftovers(record, tuple(sorted(files)), tuple(sorted(left)), (), any(cuts))
    return result


def _stale_bytecode(ledger: Ledger, pyc: str, sources: set[str]) -> bool:
    """Byte code of a left-over module, or of one that is gone: never Python's live cache."""
    source = _source_of(pyc)
    return source is None or source in sources or not ledger.exists(source)


def _is_dir(entry: object) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)  # type: ignore[attr-defined]
    except OSError:
        return False


def _walk(ledger: Ledger, top: str) -> tuple[list[str], list[str], bool]:
    """The files and byte code under a leftover directory, through the ledger's listings."""
    files: list[str] = []
    bytecode: list[str] = []
    pending = [top]
    seen = 0
    while pending:
        directory = pending.pop()
        for name, entry in sorted((ledger.listing(directory) or {}).items()):
            seen += 1
            if seen > MAX_WALK:
                return files, bytecode, True
            path = f"{directory}/{name}"
            if _is_dir(entry):
                pending.append(path)
            elif name.endswith(BYTECODE):
                bytecode.append(path)
            elif not directory.endswith("/__pycache__"):  # a JIT's cache there is no install's
                files.append(path)
    return files, bytecode, False


def _source_of(pyc: str) -> str | None:
    """``pkg/__pycache__/mod.cpython-311.pyc`` -> ``pkg/mod.py``; None for other byte code."""
    head, _, name = pyc.rpartition("/")
    parent, _, cache = head.rpartition("/")
    if cache != "__pycache__":
        return None
    return f"{parent}/{name.partition('.')[0]}.py"


def _add_scripts(
    scan: _Scan, scripts: str, leftovers: dict[str, Leftovers], listed: set[str]
) -> None:
    """Console scripts nothing lists that import a module of a record with leftovers."""
    ledger = scan.ledger
    listing = ledger.listing(scripts)
    if not listing:
        return
    tops = {
        name: {path[len(scan.site) + 1 :].partition("/")[0] for path in left.files}
        for name, left in leftovers.items()
    }
    for entry_name, entry in sorted(listing.items()):
        path = f"{scripts}/{entry_name}"
        if path in listed or _is_dir(entry) or scan.owned(path):
            continue
        module = _script_module(f"{ledger.prefix}/{path}", ledger.prefix)
        for name, modules in tops.items():
            if module in modules:
                left = leftovers[name]
                leftovers[name] = Leftovers(
                    left.record, left.files, left.bytecode, (*left.scripts, path), left.walk_cut
                )
                break


def _script_module(path: str, root: str) -> str | None:
    """The top-level module a console-script wrapper (pip's, uv's, conda's) imports."""
    try:
        text = safeio.read_text(path, limit=4096, root=root, errors="replace")
    except (OSError, ValueError):
        return None
    if not text.startswith("#!"):
        return None
    for line in text.splitlines()[1:12]:
        words = line.split()
        if len(words) >= 4 and words[0] == "from" and words[2] == "import":
            return words[1].partition(".")[0]
    return None

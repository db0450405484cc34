"""Files no record and no distribution lists, among a conda package's own: what is left over.

The pass over conda's files (:mod:`.condafiles`) chooses the directories worth listing (changed
after conda linked them, or relinked in place) and collects the names the records list there;
this module compares the listings with them, walks what nobody lists, and tells byte code
(Python's live cache of a conda module is no leftover) and console scripts apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..disk import safeio
from ..disk.records import CondaRecord
from .ledger import Ledger
from .ownership import BYTECODE

#: A leftover directory is walked up to this many entries (a bound, not an expectation).
MAX_WALK = 50_000
#: Names no install leaves: the Finder's, and conda's own debris (reported as such).
_IGNORED = (".DS_Store",)


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


class Inspection:
    """The directories the pass over conda's files chose to list, and what it collected.

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


def find_leftovers(scan: Inspection, listed: set[str]) -> dict[str, Leftovers]:
    """The leftovers in the inspected directories, by record name (scripts included).

    Args:
        scan: What the pass collected.
        listed: Paths the installed non-conda distributions list.
    """
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
    if result and len(scan.areas) > 1:
        _add_scripts(scan, scan.areas[1].rstrip("/"), result, listed)
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
    scan: Inspection, scripts: str, leftovers: dict[str, Leftovers], listed: set[str]
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

"""Read conda's package records (``<prefix>/conda-meta/*.json``) straight from disk.

Three installers write these records and they disagree on details that matter for file
ownership:

* **conda** writes ``files`` prefix-relative, but for ``noarch: python`` packages the entries of
  ``paths_data.paths[]._path`` stay package-relative (``site-packages/...`` and
  ``python-scripts/...``); it records ``sha256_in_prefix`` for every linked file and adds
  ``pyc_file`` entries without hashes for the byte code it compiled.
* **mamba/micromamba** and **rattler/pixi** write both lists prefix-relative and may omit
  ``sha256_in_prefix`` (then ``sha256``, the hash in the package, is the expected content unless
  the file had its prefix placeholder replaced).

:func:`parse_record` normalises all of them to prefix-relative POSIX paths. The files are read by
:mod:`.condameta`, never through conda's ``PrefixData``: conda's PyPI loader deletes records it
believes stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .record_checks import field_problems, lists_disagree

#: Package-relative prefixes of ``noarch: python`` payloads (see conda's ``noarch`` handling).
NOARCH_SITE_PACKAGES = "site-packages/"
NOARCH_SCRIPTS = "python-scripts/"


class RecordFile(NamedTuple):
    """One file a conda package linked into the prefix.

    A named tuple, not a frozen dataclass: an env holds tens of thousands, and a frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field) costs three times as much.

    Attributes:
        path: Prefix-relative POSIX path.
        sha256: The content conda expects on disk, or None when it cannot be known (no hash in
            the record, byte code, or a prefix-replaced file without ``sha256_in_prefix``).
        path_type: ``hardlink``, ``softlink``, ``directory``, ``pyc_file``, ...
        size: Bytes conda expects on disk (``size_in_bytes``), or None when unknown or when
            the prefix was replaced in the file.
    """

    path: str
    sha256: str | None = None
    path_type: str = "hardlink"
    size: int | None = None


@dataclass(frozen=True)
class CondaRecord:
    """A conda package as recorded in ``conda-meta``.

    Attributes:
        name: Package name.
        version: Package version.
        build: Build string.
        channel: Channel name or URL, as recorded.
        subdir: Platform subdirectory (``linux-64``, ``noarch``...).
        depends: Run dependencies as match-spec strings.
        noarch: ``python``, ``generic`` or None.
        files: Prefix-relative paths with what conda expects of them.
        record_path: Prefix-relative path of the JSON record.
        python_site_packages_path: The ``python_site_packages_path`` field python records carry.
    """

    name: str
    version: str
    build: str
    channel: str = ""
    subdir: str = ""
    depends: tuple[str, ...] = ()
    noarch: str | None = None
    files: tuple[RecordFile, ...] = field(default=(), repr=False)
    record_path: str = ""
    python_site_packages_path: str | None = None


@dataclass(frozen=True)
class RecordProblem:
    """A record that could not be read, or only in part.

    Attributes:
        record_path: Prefix-relative path of the JSON file.
        reason: One line saying what is wrong.
        consequence: What it means for conda.
    """

    record_path: str
    reason: str
    consequence: str = "conda cannot read this package's record"


def _noarch_type(raw: dict[str, Any]) -> str | None:
    noarch = raw.get("noarch")
    if isinstance(noarch, dict):
        noarch = noarch.get("type")
    if noarch in (None, False, ""):
        return None
    return str(noarch)


class PathMapper:
    """Translate package-relative ``noarch: python`` paths to prefix-relative ones.

    Args:
        site_packages: The env's site-packages directory, prefix-relative (``lib/python3.11/
            site-packages`` or ``Lib/site-packages``); None when the env has no Python.
        scripts: The env's scripts directory, prefix-relative (``bin`` or ``Scripts``).
    """

    def __init__(self, site_packages: str | None, scripts: str = "bin") -> None:
        self.site_packages = site_packages
        self.scripts = scripts

    def __call__(self, path: str, noarch: str | None) -> str:
        """Return *path* relative to the prefix, with forward slashes."""
        path = path.replace("\\", "/")
        if noarch != "python" or self.site_packages is None:
            return path
        if path.startswith(NOARCH_SITE_PACKAGES):
            return f"{self.site_packages}/{path[len(NOARCH_SITE_PACKAGES) :]}"
        if path.startswith(NOARCH_SCRIPTS):
            return f"{self.scripts}/{path[len(NOARCH_SCRIPTS) :]}"
        return path


#: Path types whose content conda does not vouch for by hash.
_UNHASHED = frozenset(("pyc_file", "directory", "softlink"))


def _record_files(
    raw: dict[str, Any], noarch: str | None, mapper: PathMapper
) -> tuple[tuple[RecordFile, ...], int, int]:
    """The record's files: ``paths_data`` and ``files`` united.

    Returns:
        The files, then how many paths only ``files`` lists and only ``paths_data`` lists
        when both list some (conda writes the same paths in both).
    """
    # The hot loop of every read (tens of thousands of entries per env): plain string work,
    # the noarch mapping inlined, no per-entry call.
    remap = noarch == "python" and mapper.site_packages is not None
    site = f"{mapper.site_packages}/"
    scripts = f"{mapper.scripts}/"
    by_path: dict[str, RecordFile] = {}
    paths_data = raw.get("paths_data")
    entries = paths_data.get("paths") if isinstance(paths_data, dict) else None
    make = RecordFile._make  # no per-entry keyword handling
    for entry in entries if isinstance(entries, list) else ():
        if type(entry) is not dict:
            continue
        path = entry.get("_path")
        if type(path) is not str:
            continue
        if "\\" in path:
            path = path.replace("\\", "/")
        if remap:
            if path.startswith(NOARCH_SITE_PACKAGES):
                path = site + path[len(NOARCH_SITE_PACKAGES) :]
            elif path.startswith(NOARCH_SCRIPTS):
                path = scripts + path[len(NOARCH_SCRIPTS) :]
        path_type = entry.get("path_type") or "hardlink"
        if type(path_type) is not str:
            path_type = str(path_type)  # a list here is not hashable: never a TypeError
        placeholder = entry.get("prefix_placeholder")
        if path_type in _UNHASHED:
            sha = None
        else:
            sha = entry.get("sha256_in_prefix")
            if sha is None and not placeholder:
                sha = entry.get("sha256")
            if type(sha) is not str:
                sha = None
        size = entry.get("size_in_bytes") if path_type == "hardlink" and not placeholder else None
        if type(size) is not int:
            size = None
        by_path[path] = make((path, sha, path_type, size))
    files = raw.get("files")
    if not isinstance(files, list) or files == list(by_path) or _same_paths(by_path, files):
        return tuple(by_path.values()), 0, 0  # the usual record: both list the same paths
    # Otherwise the union (``paths_data`` first, with its hashes): a path one list drops is
    # still conda's, so a file pip replaced there is still seen; the disagreement is counted.
    listed = set()
    only_files = 0
    for name in files:
        if not isinstance(name, str):
            continue
        path = name.replace("\\", "/") if "\\" in name else name
        if remap:
            if path.startswith(NOARCH_SITE_PACKAGES):
                path = site + path[len(NOARCH_SITE_PACKAGES) :]
            elif path.startswith(NOARCH_SCRIPTS):
                path = scripts + path[len(NOARCH_SCRIPTS) :]
        listed.add(path)
        if path not in by_path:
            only_files += 1
            pyc = path.endswith((".pyc", ".pyo"))
            by_path[path] = RecordFile(path, None, "pyc_file" if pyc else "hardlink")
    only_paths_data = len(by_path) - len(listed) if entries and files else 0
    return tuple(by_path.values()), (only_files if entries else 0), only_paths_data


def _same_paths(by_path: dict[str, RecordFile], files: list[Any]) -> bool:
    """Whether ``files`` lists the paths of *by_path*, in any order (one set comparison)."""
    try:
        return by_path.keys() == set(files)
    except TypeError:  # an entry that is not hashable: not a list of paths
        return False


def parse_record(raw: Any, record_path: str, mapper: PathMapper) -> CondaRecord:
    """Build a :class:`CondaRecord` from a decoded record.

    Raises:
        ValueError: Required fields are missing or of the wrong type.
    """
    return _build(raw, record_path, mapper)[0]


def _build(raw: Any, record_path: str, mapper: PathMapper) -> tuple[CondaRecord, tuple[int, int]]:
    """:func:`parse_record`, and how far ``files`` and ``paths_data`` disagree."""
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    try:
        name, version, build = (
            raw["name"],
            raw["version"],
            raw.get("build", raw.get("build_string")),
        )
    except KeyError as err:
        raise ValueError(f"missing field {err.args[0]!r}") from None
    if not all(isinstance(value, str) for value in (name, version, build)):
        raise ValueError("name, version and build must be strings")
    noarch = _noarch_type(raw)
    depends = raw.get("depends")
    depends = depends if isinstance(depends, list) else ()
    site_path = raw.get("python_site_packages_path")
    files, *disagreement = _record_files(raw, noarch, mapper)
    return CondaRecord(
        name=name,
        version=version,
        build=build,
        channel=str(raw.get("channel") or raw.get("schannel") or ""),
        subdir=str(raw.get("subdir") or ""),
        depends=tuple(dep for dep in depends if isinstance(dep, str)),
        noarch=noarch,
        files=files,
        record_path=record_path,
        python_site_packages_path=site_path if isinstance(site_path, str) else None,
    ), (disagreement[0], disagreement[1])


def parse_checked(
    raw: Any, rel: str, mapper: PathMapper
) -> tuple[CondaRecord | None, list[RecordProblem]]:
    """:func:`parse_record`, with every problem of the record as a :class:`RecordProblem`."""
    try:
        record, (only_files, only_paths_data) = _build(raw, rel, mapper)
    except ValueError as err:
        return None, [RecordProblem(rel, f"is not a package record: {err}")]
    problems = [
        RecordProblem(rel, f"has a {problem}; that field was ignored")
        for problem in field_problems(raw)
    ]
    if only_files or only_paths_data:
        problems.append(RecordProblem(rel, *lists_disagree(only_files, only_paths_data)))
    return record, problems


def read_records(
    raws: dict[str, Any], mapper: PathMapper
) -> tuple[tuple[CondaRecord, ...], list[RecordProblem]]:
    """Parse decoded records, collecting the ones that are not package records."""
    records: list[CondaRecord] = []
    problems: list[RecordProblem] = []
    for rel, raw in raws.items():
        record, found = parse_checked(raw, rel, mapper)
        if record is not None:
            records.append(record)
        problems.extend(found)
    return tuple(records), problems

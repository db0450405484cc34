"""``conda-meta`` by file name: one listing, each ``name-version-build.json`` split once.

Every reader of an env's records starts here: the full read (:mod:`.environment`), the guard's
first look (:mod:`..model.glance`), the records ``conda list`` is about to delete
(:mod:`.kept_records`) and the history's ``name-version-build`` strings (:mod:`.history`).
:class:`CondaMeta` lists the directory once; a record's bytes are read (through
:mod:`.safeio`) and parsed only when asked for, and kept. Which conda packages may provide a
Python project is answered from the file names alone (:meth:`CondaMeta.names_of`, the inverse
of :func:`.names.name_keys`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import NotACondaEnvironment
from . import safeio
from .names import conda_names_for
from .records import CondaRecord, PathMapper, RecordProblem, parse_checked, parse_record


def split_dist(text: str) -> tuple[str, str, str] | None:
    """``numpy-1.26.4-py311_0`` -> (name, version, build); None when not of that form."""
    parts = text.rsplit("-", 2)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None


def split_record_name(file_name: str) -> tuple[str, str, str] | None:
    """``numpy-1.26.4-py311_0.json`` -> (name, version, build); None when not of that form."""
    return split_dist(file_name[:-5]) if file_name.endswith(".json") else None


def conda_meta_dir(prefix: Path) -> Path:
    """Return ``<prefix>/conda-meta`` after checking that *prefix* is a conda environment.

    Raises:
        NotACondaEnvironment: The directory does not exist or has no ``conda-meta``.
    """
    meta = prefix / "conda-meta"
    if not prefix.is_dir():
        raise NotACondaEnvironment(prefix, exists=False)
    if not meta.is_dir():
        raise NotACondaEnvironment(prefix, exists=True)
    return meta


class CondaMeta:
    """The records of one env, known by file name and parsed on demand.

    Args:
        prefix: The environment (absolute).

    Raises:
        OSError: ``conda-meta`` cannot be listed.

    Attributes:
        prefix: The environment.
        path: Its ``conda-meta``, as a string.
        listed: Every ``*.json`` file name there, sorted (the ones not named
            ``name-version-build.json`` included: the full read reports them).
        files: Package name -> its record's file name (the last in sorted order, when two
            files name one package).
        versions: Package name -> the version its file name says.
        names_of: Canonical Python project name -> the conda packages that may provide it
            (:func:`~.names.conda_names_for`), in their records' order.
    """

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.path = f"{prefix}/conda-meta"
        self.listed = sorted(name for name in os.listdir(self.path) if name.endswith(".json"))
        self.files: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        files, versions = self.files, self.versions
        for file_name in self.listed:  # split_record_name, inlined: a call each costs a tenth
            parts = file_name[:-5].rsplit("-", 2)
            if len(parts) == 3 and all(parts):
                files[parts[0]] = file_name
                versions[parts[0]] = parts[1]
        self.names_of = conda_names_for(self.files)
        self._raw: dict[str, bytes | None] = {}
        self._parsed: dict[str, CondaRecord | None] = {}

    # -- reading ------------------------------------------------------------------------------

    def load(self, file_name: str) -> Any:
        """The decoded record ``conda-meta/<file_name>``.

        Raises:
            OSError: It cannot be read (:mod:`.safeio` refuses it, or it is gone).
            ValueError: It is not JSON.
        """
        return safeio.load_json(
            f"{self.path}/{file_name}", limit=safeio.RECORD_JSON_LIMIT, root=self.path
        )

    def decoded(self) -> Iterator[tuple[str, Any]]:
        """Each record decoded in turn (one alive at a time), or the problem of reading it.

        Yields:
            The prefix-relative record path, and the decoded JSON or a :class:`RecordProblem`.
        """
        for file_name in self.listed:
            rel = f"conda-meta/{file_name}"
            try:
                yield rel, self.load(file_name)
            except OSError as err:
                yield rel, RecordProblem(rel, f"cannot be read: {err.strerror or err}")
            except ValueError as err:  # UnicodeDecodeError and too deep nesting included
                yield rel, RecordProblem(rel, f"is not valid JSON: {str(err)[:200]}")

    def read_all(self, mapper: PathMapper) -> tuple[tuple[CondaRecord, ...], list[RecordProblem]]:
        """Every record decoded and parsed, one at a time; the ones that cannot be, as problems.

        No more than one decoded record is alive at a time: the decoded JSON of an env weighs
        several times its parsed records (a quarter of a GB at 10,000 records). The records
        that cannot be read come first among the problems, then those that are not records.
        """
        records: list[CondaRecord] = []
        unreadable: list[RecordProblem] = []
        invalid: list[RecordProblem] = []
        for rel, raw in self.decoded():
            if isinstance(raw, RecordProblem):
                unreadable.append(raw)
                continue
            record, problems = parse_checked(raw, rel, mapper)
            if record is not None:
                records.append(record)
            invalid.extend(problems)
        return tuple(records), [*unreadable, *invalid]

    def named(self, names: Iterable[str], *, files: bool = True) -> dict[str, CondaRecord]:
        """The readable records of packages *names*, by the name they hold.

        Record files are picked by their ``name-version-build.json`` name, then checked
        (unreadable ones are skipped: the full read reports them). Without *files* the file
        lists are left out but for ``python.exe`` (which tells a Windows Python), and noarch
        paths stay package-relative: what the Python layout needs, for a fraction of the cost.
        """
        wanted = set(names)
        prefixes = tuple(f"{name}-" for name in wanted)
        found: dict[str, CondaRecord] = {}
        for file_name in self.listed:
            parts = split_record_name(file_name) if file_name.startswith(prefixes) else None
            if parts is None or parts[0] not in wanted:
                continue
            try:
                data = safeio.read_bytes(
                    f"{self.path}/{file_name}", limit=safeio.RECORD_JSON_LIMIT, root=self.path
                )
                raw = safeio.loads_json(data)
                if not files and isinstance(raw, dict):
                    _drop_files(raw, b"python.exe" in data.lower() or b"\\u" in data)
                record = parse_record(raw, f"conda-meta/{file_name}", PathMapper(None))
            except (OSError, ValueError):
                continue
            if record.name in wanted:
                found[record.name] = record
        return found

    def raw(self, name: str) -> bytes | None:
        """The bytes of package *name*'s record (None when unreadable), read once."""
        try:
            return self._raw[name]
        except KeyError:
            pass
        try:
            data: bytes | None = safeio.read_bytes(
                f"{self.path}/{self.files[name]}", limit=safeio.RECORD_JSON_LIMIT, root=self.path
            )
        except OSError:
            data = None
        self._raw[name] = data
        return data

    def record(self, name: str, mapper: PathMapper) -> CondaRecord | None:
        """The parsed record of package *name* (None when unreadable), parsed once.

        *mapper* places noarch paths; one index is read with one mapper.
        """
        try:
            return self._parsed[name]
        except KeyError:
            pass
        data = self.raw(name)
        try:
            if data is None:
                raise ValueError("unreadable")
            parsed: CondaRecord | None = parse_record(
                safeio.loads_json(data), f"conda-meta/{self.files[name]}", mapper
            )
        except ValueError:  # UnicodeDecodeError included
            parsed = None
        self._parsed[name] = parsed
        return parsed

    def mentions(self, name: str, text: str) -> bool:
        """Whether package *name*'s record may list a path ending in *text* (no parse).

        False only when its bytes do not hold *text* (an escaped non-ASCII name may hide
        there, so such a name is always a maybe).
        """
        data = self.raw(name)
        return data is not None and (not text.isascii() or text.encode() in data)

    @property
    def parsed(self) -> tuple[CondaRecord, ...]:
        """The records parsed so far, in ``conda-meta``'s order."""
        found = sorted(
            (self.files[name], record) for name, record in self._parsed.items() if record
        )
        return tuple(record for _, record in found)


def _drop_files(raw: dict[str, Any], maybe_exe: bool = True) -> None:
    """Leave out a decoded record's file lists but for ``python.exe``.

    What is kept is what :func:`parse_record` reads: ``paths_data`` when it lists files, else
    ``files``. Without *maybe_exe* (its bytes hold no ``python.exe`` and no escape that could
    spell one) nothing is kept, and no entry is looked at.
    """
    if not maybe_exe:
        raw.pop("paths_data", None)
        raw["files"] = []
        return
    paths_data = raw.get("paths_data")
    paths = paths_data.get("paths") if isinstance(paths_data, dict) else None
    listed = (
        [e for e in paths if type(e) is dict and type(e.get("_path")) is str]
        if (isinstance(paths, list))
        else []
    )
    files = raw.get("files")
    if listed:
        raw["paths_data"] = {"paths": [e for e in listed if _is_exe(e["_path"])]}
        raw["files"] = []
    else:
        raw.pop("paths_data", None)
        raw["files"] = [p for p in files if _is_exe(p)] if isinstance(files, list) else []


def _is_exe(path: object) -> bool:
    return isinstance(path, str) and len(path) == 10 and path.lower() == "python.exe"

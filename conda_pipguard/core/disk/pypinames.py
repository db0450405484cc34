"""PyPI's names of conda's packages, from conda-pypi's name table when conda-pypi is installed.

conda-pypi (the ``conda-pypi`` package on PyPI) ships grayskull's table,
``conda_pypi/grayskull_pypi_mapping.json``: one object keyed by canonical PyPI name, each value
``{"pypi_name", "conda_name", "import_name", "mapping_source"}``, a few with
``"delimiter_min"``/``"delimiter_max"``, the conda versions the row holds for (``pyqt`` is PyPI's
``pyqt4`` below 5 and ``pyqt5`` from 5 up to 6). Several PyPI names may map to one conda
package (``opencv-python`` and ``opencv-python-headless`` are conda's ``opencv``).

conda-pipguard never depends on conda-pypi and never imports it: the package is looked for on
the import path with :meth:`importlib.machinery.PathFinder.find_spec`, which imports nothing,
and the table is read through :mod:`.safeio`, bounded, once per process and only when a caller
asks. Without it, the distributions' own metadata (dist-info names) stays the only map.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from . import safeio
from .names import canonicalize_name

#: The table's file name inside the ``conda_pypi`` package.
TABLE_NAME = "grayskull_pypi_mapping.json"
#: The most the reader accepts (conda-pypi 0.13's table is 1.6 MiB).
TABLE_LIMIT = 64 * safeio.MiB


@dataclass(frozen=True)
class NameRow:
    """One row of the table: a PyPI project and the conda package of the same software.

    Attributes:
        pypi_name: PyPI's name, canonical.
        conda_name: conda's package name.
        import_name: The top-level module it provides, when the table says.
        since: The first conda version the row holds for (``delimiter_min``), if bounded.
        until: The conda version from which it no longer holds (``delimiter_max``), if bounded.
    """

    pypi_name: str
    conda_name: str
    import_name: str | None = None
    since: str | None = None
    until: str | None = None

    def holds_for(self, conda_version: str | None) -> bool:
        """Whether the row applies to *conda_version* (always, without bounds or a version)."""
        if conda_version is None or (self.since is None and self.until is None):
            return True
        version = _release(conda_version)
        if version is None:
            return True
        low = _release(self.since) if self.since else None
        high = _release(self.until) if self.until else None
        return (low is None or version >= low) and (high is None or version < high)


def _release(version: str) -> tuple[int, ...] | None:
    """The leading numeric release of a version (``5.15.9`` -> ``(5, 15, 9)``), if any."""
    numbers = []
    for part in version.strip().split("."):
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        if not digits or len(digits) > 12:
            break
        numbers.append(int(digits))
        if len(digits) != len(part):
            break
    return tuple(numbers) or None


@dataclass(frozen=True)
class NameTable:
    """The table, indexed both ways; a row is built only when asked for.

    Attributes:
        path: Where it was read.
        raw: Canonical PyPI name -> the table's object for it.
        by_conda: conda package name -> the canonical PyPI names that map to it.
    """

    path: str
    raw: Mapping[str, Mapping[str, object]] = field(repr=False)
    by_conda: Mapping[str, tuple[str, ...]] = field(repr=False)

    def row(self, pypi_name: str) -> NameRow | None:
        """The row of PyPI project *pypi_name* (any spelling), if the table has one."""
        value = self.raw.get(canonicalize_name(pypi_name))
        return _row(value) if value is not None else None

    def pypi_names_of(self, conda_name: str, conda_version: str | None = None) -> tuple[str, ...]:
        """PyPI's names of conda package *conda_name* (at *conda_version*, when bounded)."""
        rows = (self.row(key) for key in self.by_conda.get(conda_name, ()))
        return tuple(row.pypi_name for row in rows if row and row.holds_for(conda_version))

    def conda_name_of(self, pypi_name: str) -> str | None:
        """The conda name of PyPI project *pypi_name*; None when the table does not know it."""
        row = self.row(pypi_name)
        return row.conda_name if row is not None else None

    def import_name_of(self, pypi_name: str) -> str | None:
        """The top-level module of PyPI project *pypi_name*, when the table says."""
        row = self.row(pypi_name)
        return row.import_name if row is not None else None


def find_table(search_path: Sequence[str] | None = None) -> Path | None:
    """Where conda-pypi's table is, without importing conda-pypi; None when it is not there.

    Args:
        search_path: The directories to look in for the ``conda_pypi`` package (default:
            ``sys.path``, where the running Python would import it from).
    """
    from importlib.machinery import PathFinder

    try:
        spec = PathFinder.find_spec(
            "conda_pypi", None if search_path is None else list(search_path)
        )
    except (ImportError, ValueError, OSError):
        return None
    for directory in (spec.submodule_search_locations or ()) if spec is not None else ():
        candidate = Path(directory) / TABLE_NAME
        if candidate.is_file():
            return candidate
    return None


def read_table(path: str | os.PathLike[str]) -> NameTable | None:
    """Read one table file; None when it cannot be read or is not the table's shape.

    Entries that are not objects with string ``pypi_name`` and ``conda_name`` are left out.
    """
    root = os.path.dirname(os.path.abspath(path))
    try:
        data = safeio.load_json(path, limit=TABLE_LIMIT, root=root)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    raw: dict[str, Mapping[str, object]] = {}
    by_conda: dict[str, list[str]] = {}
    for value in data.values():
        if not isinstance(value, dict):
            continue
        pypi, conda = value.get("pypi_name"), value.get("conda_name")
        if not (isinstance(pypi, str) and isinstance(conda, str) and pypi and conda):
            continue
        key = (
            canonicalize_name(pypi) if pypi != pypi.lower() or "_" in pypi or "." in pypi else pypi
        )
        if key not in raw:
            raw[key] = value
            by_conda.setdefault(conda, []).append(key)
    return NameTable(
        str(path),
        MappingProxyType(raw),
        MappingProxyType({name: tuple(keys) for name, keys in by_conda.items()}),
    )


def _key(name: str) -> str:
    """:func:`canonicalize_name`, without its regex for the names that need none (most)."""
    lowered = name.lower()
    plain = "_" not in lowered and "." not in lowered and "--" not in lowered
    return lowered if plain else canonicalize_name(name)


def _row(value: Mapping[str, object]) -> NameRow | None:
    pypi, conda = value.get("pypi_name"), value.get("conda_name")
    if not (isinstance(pypi, str) and isinstance(conda, str)):
        return None
    text = lambda key: value[key] if isinstance(value.get(key), str) and value[key] else None  # noqa: E731
    return NameRow(
        _key(pypi),
        conda,
        text("import_name"),
        text("delimiter_min"),
        text("delimiter_max"),
    )


_loaded: dict[tuple[str, ...] | None, NameTable | None] = {}


def name_table(search_path: Sequence[str] | None = None) -> NameTable | None:
    """conda-pypi's table as found on *search_path* (default ``sys.path``), read once.

    None when conda-pypi is not installed there, or its table cannot be read.
    """
    key = None if search_path is None else tuple(search_path)
    if key not in _loaded:
        path = find_table(search_path)
        _loaded[key] = read_table(path) if path is not None else None
    return _loaded[key]


def pypi_names_of(
    conda_name: str, conda_version: str | None = None, *, table: NameTable | None = None
) -> tuple[str, ...]:
    """PyPI's names of conda package *conda_name*; () without conda-pypi's table.

    Args:
        conda_name: The conda package.
        conda_version: Its version, for the rows that hold only for some versions.
        table: The table to ask (default: :func:`name_table`'s).
    """
    found = table if table is not None else name_table()
    return found.pypi_names_of(conda_name, conda_version) if found is not None else ()


def conda_name_of(pypi_name: str, *, table: NameTable | None = None) -> str | None:
    """The conda name of PyPI project *pypi_name*; None without conda-pypi's table or a row.

    Args:
        pypi_name: The PyPI project, in any spelling.
        table: The table to ask (default: :func:`name_table`'s).
    """
    found = table if table is not None else name_table()
    return found.conda_name_of(pypi_name) if found is not None else None

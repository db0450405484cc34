"""conda-pypi's PyPI<->conda name table, read where conda-pypi would be imported from.

The table is planted as conda-pypi installs it (``conda_pypi/grayskull_pypi_mapping.json``, in
conda-pypi 0.13's format) in a directory the reader is told to search; its ``__init__.py``
raises, so a test passes only if the reader never imports the package.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conda_pipguard.core.disk import pypinames
from conda_pipguard.core.disk.pypinames import (
    TABLE_NAME,
    conda_name_of,
    find_table,
    name_table,
    pypi_names_of,
    read_table,
)

#: Rows as conda-pypi 0.13 ships them (grayskull's table).
ROWS = {
    "opencv-python": {
        "pypi_name": "opencv-python",
        "import_name": "cv2",
        "conda_name": "opencv",
        "mapping_source": "static",
    },
    "opencv-python-headless": {
        "pypi_name": "opencv-python-headless",
        "import_name": "cv2",
        "conda_name": "opencv",
        "mapping_source": "static",
    },
    "pyqt4": {
        "pypi_name": "pyqt4",
        "import_name": "PyQt4",
        "conda_name": "pyqt",
        "delimiter_min": "4.0.0",
        "delimiter_max": "5.0.0",
        "mapping_source": "static",
    },
    "pyqt5": {
        "pypi_name": "pyqt5",
        "import_name": "PyQt5",
        "conda_name": "pyqt",
        "delimiter_min": "5.0.0",
        "delimiter_max": "6.0.0",
        "mapping_source": "static",
    },
    "msgpack": {
        "pypi_name": "msgpack",
        "conda_name": "msgpack-python",
        "import_name": "msgpack",
        "mapping_source": "regro-bot",
    },
    "numpy": {
        "pypi_name": "numpy",
        "import_name": "numpy",
        "conda_name": "numpy",
        "mapping_source": "static",
    },
}


def plant_table(root: Path, rows: dict | None = None) -> Path:
    """``root/conda_pypi/`` as conda-pypi installs it; importing it fails on purpose."""
    package = root / "conda_pypi"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('conda_pypi was imported')\n")
    table = package / TABLE_NAME
    table.write_text(json.dumps(ROWS if rows is None else rows))
    return table


def test_found_where_conda_pypi_would_be_imported_from_without_importing_it(tmp_path):
    table = plant_table(tmp_path / "site")
    assert find_table([str(tmp_path / "site")]) == table
    found = name_table([str(tmp_path / "site")])
    assert found is not None and found.path == str(table)
    assert "conda_pypi" not in sys.modules
    assert find_table([str(tmp_path / "elsewhere")]) is None
    assert name_table([str(tmp_path / "elsewhere")]) is None


def test_both_ways_and_version_bounds(tmp_path):
    table = read_table(plant_table(tmp_path))
    assert table.pypi_names_of("opencv") == ("opencv-python", "opencv-python-headless")
    assert table.pypi_names_of("pyqt", "5.15.9") == ("pyqt5",)
    assert table.pypi_names_of("pyqt", "4.12.3") == ("pyqt4",)
    assert table.pypi_names_of("pyqt") == ("pyqt4", "pyqt5")
    assert table.pypi_names_of("scipy") == ()
    assert table.conda_name_of("OpenCV_Python") == "opencv"
    assert table.conda_name_of("msgpack") == "msgpack-python"
    assert table.conda_name_of("requests") is None
    assert table.import_name_of("pyqt5") == "PyQt5"
    # the module-level functions the rules use, given the table or without one
    assert pypi_names_of("msgpack-python", table=table) == ("msgpack",)
    assert conda_name_of("PyQt5", table=table) == "pyqt"


def test_without_conda_pypi_the_names_are_unknown():
    # conda-pypi is not installed in the test environment: no table on sys.path
    assert find_table() is None
    assert pypi_names_of("opencv") == ()
    assert conda_name_of("opencv-python") is None


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[1, 2]",
        b'{"x": 1, "y": {"pypi_name": 3, "conda_name": "y"}}',
        b"[" * 100_000,
    ],
    ids=["not-json", "a-list", "bad-rows", "deep"],
)
def test_a_broken_table_is_no_table_or_its_good_rows(tmp_path, content):
    path = tmp_path / TABLE_NAME
    path.write_bytes(content)
    table = read_table(path)
    assert table is None or (not table.raw and not table.by_conda)


def test_the_read_is_bounded_and_never_follows_a_fifo(tmp_path, monkeypatch):
    import os

    path = plant_table(tmp_path)
    monkeypatch.setattr(pypinames, "TABLE_LIMIT", 100)
    assert read_table(path) is None
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert read_table(fifo) is None  # refused without blocking

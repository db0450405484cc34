"""Names across ecosystems: conda-pypi's table names both sides, and adds to the soft lock.

conda's ``opencv`` and ``pyqt`` here ship no Python metadata (as conda-forge's do not), so only
conda-pypi's table (planted as conda-pypi installs it) tells that pip's ``opencv-python`` and
``PyQt5`` are the same software. Real pip runs show what the soft lock then holds.
"""

from __future__ import annotations

import pytest

from conda_pipguard.core.disk.pypinames import read_table
from conda_pipguard.core.locks.pipconfig import PipConfigFiles
from conda_pipguard.core.locks.soft import CONSTRAINTS, refresh_soft_lock, write_soft_lock
from tests.conftest import NUMPY_1
from tests.core.disk.test_pypinames import plant_table


@pytest.fixture
def table(tmp_path):
    loaded = read_table(plant_table(tmp_path / "site"))
    return lambda: loaded


@pytest.fixture
def vision(kit):
    """numpy (with metadata), opencv 4.8.0 and pyqt 5.15.9 (without) from conda."""
    site = kit.host.site_packages_rel
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.add_conda_package(
        "opencv",
        "4.8.0",
        depends=["python"],
        files={f"{site}/cv2/__init__.py": "from .cv2 import *\n", f"{site}/cv2/cv2.so": b"conda"},
    )
    kit.add_conda_package(
        "pyqt", "5.15.9", depends=["python"], files={f"{site}/PyQt5/QtCore.conda.so": b"conda"}
    )
    kit.wheel("opencv-python", "4.9.0", {"cv2/__init__.py": "# pypi\n", "cv2/cv2.so": b"pypi"})
    kit.wheel("PyQt5", "5.15.10", {"PyQt5/QtCore.abi3.so": b"pypi"})
    return kit.create("vision", ["python", "pip", "numpy", "opencv", "pyqt"])


def messages(diagnosis) -> dict[tuple[str, str], str]:
    return {(f.kind, f.distribution): f.message for f in diagnosis.analysis.findings}


def test_messages_name_both_sides_with_the_table(kit, vision, scan, table):
    kit.pip(vision, "install", "--no-deps", "opencv-python", "PyQt5")
    said = messages(scan(vision, names=table))
    assert said[("clobbered", "opencv-python")] == (
        "opencv-python 4.9.0 (pip) overwrote 2 files of conda's opencv 4.8.0 "
        "(opencv-python is PyPI's name for conda's opencv)"
    )
    assert said[("pip-only", "PyQt5")].endswith(
        "conda does not track it; PyQt5 is PyPI's name for conda's pyqt 5.15.9, installed here too"
    )
    # without the table, the env's own metadata is the only map: nothing to name
    plain = messages(scan(vision, names=lambda: None))
    assert plain.keys() == said.keys()
    assert plain[("clobbered", "opencv-python")] == (
        "opencv-python 4.9.0 (pip) overwrote 2 files of conda's opencv 4.8.0"
    )
    assert "PyPI's name" not in " ".join(plain.values())


def test_a_clean_env_with_the_table_stays_clean(vision, scan, table):
    diagnosis = scan(vision, names=table)
    assert (diagnosis.verdict, diagnosis.analysis.findings) == ("clean", ())


def soft_mark(prefix, names):
    return write_soft_lock(
        prefix,
        "-n vision",
        environ={},
        pip_files=PipConfigFiles.for_prefix(prefix, {}, global_dirs=[]),
        names=names,
    )


def test_the_soft_lock_pins_pypis_names_of_conda_packages_without_metadata(
    kit, vision, scan, table
):
    action = soft_mark(vision, table)
    pins = (vision / CONSTRAINTS).read_text().splitlines()
    assert "opencv-python==4.8.0" in pins and "opencv-python-headless==4.8.0" in pins
    assert "pyqt5==5.15.9" in pins and not any(p.startswith("pyqt4") for p in pins)
    assert "numpy==1.26.4" in pins  # by its own metadata, as before
    assert action.extra["pins"] == len([p for p in pins if p and not p.startswith("#")])
    # real pip: the twins pip would have installed are refused
    for wanted in ("opencv-python", "PyQt5"):
        refused = kit.pip(vision, "install", "--dry-run", wanted, check=False)
        assert refused.returncode != 0, refused.stdout
        assert "(constraint)" in refused.stdout + refused.stderr
    marker = scan(vision, names=table).to_dict()["marker"]
    assert (marker["stale_pins"], marker["unpinned"]) == ([], [])
    # the refresh after a conda transaction keeps them (it reads the table: mark used one)
    assert refresh_soft_lock(vision, names=table).action == "unchanged"
    refreshed = refresh_soft_lock(vision, names=lambda: None)  # conda-pypi gone since
    assert refreshed.action == "written"
    assert "-opencv-python==4.8.0" in refreshed.reason


def test_without_the_table_the_soft_lock_knows_only_metadata(kit, vision):
    soft_mark(vision, lambda: None)
    pins = (vision / CONSTRAINTS).read_text()
    assert "opencv" not in pins and "pyqt" not in pins.lower()
    allowed = kit.pip(vision, "install", "--dry-run", "opencv-python", check=False)
    assert "Would install opencv-python-4.9.0" in allowed.stdout

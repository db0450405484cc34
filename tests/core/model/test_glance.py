"""The guard's cheap look (directory listings) says what the full read and analysis say.

Real environments (tests/support/envkit.py) with real pip runs; each test compares the look
with the full read on the same env: the same non-conda distributions, the same warning line
(the layer it names chosen by :func:`~conda_pipguard.core.model.riskline.named_layer` from the
full read's overlay), and the same impacts of plans from the look's partial layer.
"""

from __future__ import annotations

import os

import pytest

from conda_pipguard.core.disk.environment import load_environment
from conda_pipguard.core.model.glance import glance
from conda_pipguard.core.model.riskline import line_of_overlay
from conda_pipguard.core.rules.analysis import analyze
from conda_pipguard.core.rules.impact import PipLayer, PlannedPackage, impact
from tests.conftest import NUMPY_1
from tests.support.bounded import call_bounded
from tests.support.envkit import Dist, site_packages

NUMPY_1264 = PlannedPackage("numpy", "1.26.4", "0")
NUMPY_1265 = PlannedPackage("numpy", "1.26.5", "0")
SCIPY = PlannedPackage("scipy", "1.11.4", "0")
PYTHON_312 = PlannedPackage("python", "3.12.1", "0")

PLANS = (
    ([NUMPY_1264], [NUMPY_1265]),
    ([NUMPY_1264], [NUMPY_1264]),
    ([NUMPY_1264], []),
    ([NUMPY_1264, SCIPY], [NUMPY_1265]),
    ([], [PYTHON_312]),
    ([], [PlannedPackage("tool", "1.0", "0")]),
)


def agrees(prefix, plans=PLANS):
    """Assert that the look agrees with the full read of *prefix*; return the look."""
    full = load_environment(prefix, include_user_site=False)
    seen = glance(prefix, full.name)
    overlay = analyze(full).overlay
    assert [d.path for d in seen.foreign] == [layer.dist.path for layer in overlay.layers]
    assert seen.risk_line() == line_of_overlay(full.target_flag, overlay)
    for unlink, link in plans:
        names = [p.name for p in (*unlink, *link)]
        layer = PipLayer(seen.env, seen.records_for(names), seen.foreign)
        assert impact(seen.env, unlink, link, layer=layer) == impact(full, unlink, link)
    return seen


def test_clean_env(numpy_channel):
    prefix = numpy_channel.create("env", ["python", "pip", "numpy", "scipy"], dialect="conda")
    seen = agrees(prefix)
    assert seen.foreign == () and seen.risk_line() is None
    # only the python records were parsed: every other package is known by its file name
    assert {r.name for r in seen.env.records} <= {"python", "python_abi"}


def test_pip_over_conda_and_pip_only(numpy_channel):
    kit = numpy_channel
    kit.wheel("oldapp", "1.0", {"oldapp.py": ""}, requires_dist=["numpy<1.26.5", "scipy"])
    prefix = kit.create("env", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(prefix, "install", "oldapp")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    seen = agrees(prefix)
    assert [d.name for d in seen.foreign] == ["numpy", "oldapp"]
    assert seen.risk_line().startswith("conda-pipguard: numpy 2.1.0 (pip) shadows conda's numpy")


def test_same_version_reinstall_is_seen_from_the_directory_time(numpy_channel):
    kit = numpy_channel
    kit.wheel("numpy", "1.26.4", {**NUMPY_1, "numpy/_multiarray.so": b"PyPI build of 1.26.4"})
    prefix = kit.create("env", ["python", "pip", "numpy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==1.26.4")
    seen = agrees(prefix)
    assert [d.name for d in seen.foreign] == ["numpy"]
    assert "numpy 1.26.4 (pip) shadows conda's numpy 1.26.4" in seen.risk_line()


def test_conda_names_that_are_not_pypi_names(kit):
    kit.add_package("pytorch", "2.3.0", dist_name="torch", modules={"torch/__init__.py": ""})
    kit.add_package(
        "pyqt",
        "5.15.9",
        dist_name="PyQt5",
        modules={"PyQt5/__init__.py": ""},
        extra_dists=[Dist("PyQt5_sip", "12.12.2", {"PyQt5/sip.so": b"sip"})],
    )
    kit.add_package("py-tool", "1.0", dist_name="tool", modules={"tool.py": ""}, installer="pip")
    kit.add_package("oldpkg", "1.0", modules={"oldpkg/__init__.py": ""}, egg_info=True)
    kit.wheel("torchapp", "1.0", {"torchapp.py": ""}, requires_dist=["torch>=2"])
    prefix = kit.create(
        "env", ["python", "pip", "pytorch", "pyqt", "py-tool", "oldpkg"], dialect="conda"
    )
    kit.pip(prefix, "install", "torchapp")
    seen = agrees(prefix, ((([PlannedPackage("pytorch", "2.3.0", "0")], []),)))
    assert [d.name for d in seen.foreign] == ["torchapp"]


def test_a_conda_package_without_installer_whose_files_pip_replaced(kit):
    """No INSTALLER and a changed version: the record of its project decides, as in the analysis."""
    kit.add_package("tool", "1.0", modules={"tool.py": "# conda\n"}, installer=None)
    kit.wheel("tool", "2.0", {"tool.py": "# pypi, longer\n"})
    prefix = kit.create("env", ["python", "pip", "tool"], dialect="rattler")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "tool==2.0")
    tool = PlannedPackage("tool", "1.0", "0")
    seen = agrees(prefix, (([tool], []), ([tool], [PlannedPackage("tool", "1.1", "0")])))
    assert "tool 2.0 (pip) shadows conda's tool 1.0" in seen.risk_line()


@pytest.mark.parametrize("installer", ["conda", "pip", None])
def test_installer_is_read_only_when_names_do_not_tell(kit, installer):
    kit.add_package("tool", "1.0", modules={"tool.py": ""}, installer=installer)
    prefix = kit.create("env", ["python", "tool"], dialect="rattler")
    assert agrees(prefix).foreign == ()
    assert (site_packages(prefix) / "tool-1.0.dist-info").is_dir()


def _risk_line(prefix):
    return glance(prefix).risk_line()


@pytest.mark.parametrize("hostile", ["fifo", "dev-zero"])
@pytest.mark.parametrize("place", ["numpy-record", "python-record", "installer"])
def test_the_look_neither_blocks_on_a_fifo_nor_reads_dev_zero(numpy_channel, place, hostile):
    kit = numpy_channel
    kit.wheel("tinyweb", "1.0", {"tinyweb.py": ""})
    prefix = kit.create("env", ["python", "pip", "numpy"], dialect="conda")
    kit.pip(prefix, "install", "tinyweb")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    meta = prefix / "conda-meta"
    (target,) = {
        "numpy-record": meta.glob("numpy-*.json"),
        "python-record": meta.glob("python-3*.json"),
        "installer": site_packages(prefix).glob("tinyweb-*.dist-info/INSTALLER"),
    }[place]
    target.unlink()
    if hostile == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to("/dev/zero")
    line = call_bounded(_risk_line, prefix)
    if place != "python-record":  # without it the look cannot tell where site-packages is
        assert line.startswith("conda-pipguard: ") and "numpy" in line, line


def test_the_line_names_the_live_layer(numpy_channel):
    kit = numpy_channel
    prefix = kit.create("env", ["python", "pip", "numpy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    line = agrees(prefix).risk_line()
    assert line.startswith("conda-pipguard: numpy 2.1.0 (pip) shadows conda's numpy 1.26.4")
    assert line.endswith(f"Details: conda pipguard status -p {prefix}")
    assert "\n" not in line


def test_the_line_for_pip_only_additions_names_them_as_their_metadata_does(numpy_channel):
    kit = numpy_channel
    prefix = kit.create("env", ["python", "pip"], dialect="conda")
    kit.wheel("zope.interface", "7.0", {"zope/interface/__init__.py": ""})
    kit.pip(prefix, "install", "zope.interface")
    assert (site_packages(prefix) / "zope_interface-7.0.dist-info").is_dir()
    line = agrees(prefix).risk_line()
    assert line.startswith("conda-pipguard: 1 Python package here is from pip (zope.interface)")


def test_a_package_of_another_name_whose_metadata_changed_is_asked_of_the_model(kit):
    """``torch`` has no record of its name: INSTALLER says conda, so the records are searched."""
    kit.add_package("pytorch", "2.3.0", dist_name="torch", modules={"torch/__init__.py": ""})
    prefix = kit.create("env", ["python", "pip", "pytorch"], dialect="conda")
    record = site_packages(prefix) / "torch-2.3.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "torch/extra.py,,\n")  # another tool's RECORD
    seen = agrees(prefix, (([PlannedPackage("pytorch", "2.3.0", "0")], []),))
    assert [d.name for d in seen.foreign] == ["torch"]
    assert "torch 2.3.0 (conda) shadows conda's pytorch 2.3.0" in seen.risk_line()

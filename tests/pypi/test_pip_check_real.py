"""Issue #20's seed story on real packages: numpy 1.26.4 and scipy 1.11.4 from PyPI wheels,
converted to conda's, then ``conda pipguard pip install --force-reinstall numpy==2.1.3``.

The check must name the harm before pip writes, and its prediction must be what ``status``
finds once pip has really installed the real numpy 2.1.3 wheel (thousands of files, a vendored
OpenBLAS, byte code).
"""

from __future__ import annotations

import shutil

import pytest

from conda_pipguard.cli.main import main
from conda_pipguard.core.pipcheck.arguments import read_arguments
from conda_pipguard.core.pipcheck.check import checked_install
from tests.support.envkit import EnvKit, host_python, tree_hashes
from tests.support.pypi import PyPIUnreachable, cache_root, conda_package_from_wheel, download

pytestmark = pytest.mark.pypi

NUMPY_2 = "numpy==2.1.3"


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> EnvKit:
    if host_python().short_version not in ("3.10", "3.11", "3.12"):
        pytest.skip("numpy 1.26.4 and scipy 1.11.4 have wheels for 3.10-3.12 only")
    kit = EnvKit(tmp_path_factory.mktemp("pypi-pip"))
    wheels = cache_root() / "pypi-wheels"
    try:
        numpy = download("numpy==1.26.4", wheels)
        conda_package_from_wheel(numpy, kit.channel, "numpy", "1.26.4", [])
        scipy = download("scipy==1.11.4", wheels)
        conda_package_from_wheel(scipy, kit.channel, "scipy", "1.11.4", ["numpy >=1.21.6,<1.28.0"])
        kit.wheels.mkdir(parents=True, exist_ok=True)
        shutil.copy(download(NUMPY_2, wheels), kit.wheels)
    except PyPIUnreachable as err:
        pytest.skip(f"PyPI cannot be reached: {err}")
    return kit


def test_the_seed_story_is_named_before_pip_writes_and_as_status_finds_it(lab, scan, capsys):
    prefix = lab.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")
    local = ("--no-index", "--find-links", str(lab.wheels), "--force-reinstall", NUMPY_2)
    before = tree_hashes(prefix)

    code = main(["pip", "-p", str(prefix), "-y", "install", *local])
    out, err = capsys.readouterr()
    assert code == 1 and "this install would harm conda's numpy, scipy" in err
    assert "  scipy 1.11.4 (needs numpy >=1.21.6,<1.28.0)" in out
    assert tree_hashes(prefix) == before

    with checked_install(prefix, read_arguments(local)) as checked:
        shadowed = next(f for f in checked.impact.harm if f.kind == "shadowed")
        assert (shadowed.conda_version, shadowed.version) == ("1.26.4", "2.1.3")
        assert shadowed.paths.overwritten > 100 and shadowed.paths.deleted > 100
        predicted = [finding.to_dict() for finding in checked.after.findings]

    lab.pip(prefix, "install", "--force-reinstall", NUMPY_2)
    assert [finding.to_dict() for finding in scan(prefix).analysis.findings] == predicted

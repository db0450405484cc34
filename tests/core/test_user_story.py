"""Issue #2's story: a conda env with numpy and scipy, then `pip install --force-reinstall`."""

from __future__ import annotations

import pytest

from tests.conftest import kinds


@pytest.mark.parametrize("dialect", ["conda", "rattler"])
def test_clean_conda_env_is_clean(numpy_channel, scan, dialect):
    prefix = numpy_channel.create("story", ["python", "pip", "numpy", "scipy"], dialect=dialect)
    diagnosis = scan(prefix)
    assert diagnosis.verdict == "clean"
    assert diagnosis.analysis.findings == ()
    assert diagnosis.to_dict()["counts"] == {
        "conda_records": 4,
        "distributions": 3,
        "non_conda_distributions": 0,
    }


@pytest.mark.parametrize("dialect", ["conda", "rattler"])
def test_force_reinstall_from_pypi_breaks_the_env(numpy_channel, scan, dialect):
    kit = numpy_channel
    prefix = kit.create("story", ["python", "pip", "numpy", "scipy"], dialect=dialect)
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")

    diagnosis = scan(prefix)
    assert diagnosis.verdict == "broken"
    assert kinds(diagnosis) == [("shadowed", "numpy"), ("conda-dependency-broken", "numpy")]
    shadowed, broken = diagnosis.analysis.findings
    # __init__.py and the extension differ, linalg.py was rewritten unchanged, _old_api.py and
    # the four files of conda's numpy-1.26.4.dist-info are gone.
    assert shadowed.paths.to_dict() == {"overwritten": 2, "deleted": 5, "identical": 1}
    assert (shadowed.version, shadowed.installer, shadowed.conda_version) == (
        "2.1.0",
        "pip",
        "1.26.4",
    )
    assert "numpy 2.1.0 (pip) shadows conda's numpy 1.26.4" in shadowed.message
    assert shadowed.fix == broken.fix == f"conda pipguard fix -p {prefix}"
    assert broken.conda_package == "scipy"
    assert "requires numpy >=1.23.5,<2.0a0" in broken.message


def test_diagnosis_survives_conda_list_deleting_the_record(numpy_channel, scan):
    kit = numpy_channel
    prefix = kit.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    # conda's PyPI interoperability loader (run by `conda list`) deletes the record of a
    # conda package whose dist-info pip replaced; only conda-meta/history remembers it.
    (record,) = (prefix / "conda-meta").glob("numpy-1.26.4-*.json")
    record.unlink()

    diagnosis = scan(prefix)
    assert diagnosis.verdict == "broken"
    assert kinds(diagnosis) == [("shadowed", "numpy"), ("conda-dependency-broken", "numpy")]
    shadowed = diagnosis.analysis.findings[0]
    assert shadowed.conda_version == "1.26.4"
    assert shadowed.details == {"record_missing": True}
    assert "conda-meta/history still lists it" in shadowed.message
    assert shadowed.fix == f"conda pipguard fix -p {prefix}"
    # no file list survives: the counts are unknown, not zero
    assert shadowed.to_dict()["paths"] == {"overwritten": None, "deleted": None, "identical": None}

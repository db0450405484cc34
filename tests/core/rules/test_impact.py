"""The impact of a planned transaction, given as plain data: no conda needed."""

from __future__ import annotations

import pytest

from conda_pipguard.core.disk.environment import load_environment
from conda_pipguard.core.rules.impact import PlannedPackage, impact
from tests.conftest import NUMPY_1, PY

#: The minor version after the one in the test envs.
NEXT_PY = f"3.{int(PY.split('.')[1]) + 1}"

NUMPY_1264 = PlannedPackage("numpy", "1.26.4", "0")
NUMPY_1265 = PlannedPackage("numpy", "1.26.5", "0")


@pytest.fixture
def touched(numpy_channel):
    kit = numpy_channel
    prefix = kit.create("env", ["python", "pip", "numpy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    return load_environment(prefix, include_user_site=False)


def test_clean_env_has_no_impact(numpy_channel):
    prefix = numpy_channel.create("env", ["python", "pip", "numpy"], dialect="conda")
    env = load_environment(prefix, include_user_site=False)
    assert impact(env, [NUMPY_1264], [NUMPY_1265]) == []


def test_update_relinks_over_pip(touched):
    (item,) = impact(touched, [NUMPY_1264], [NUMPY_1265])
    # the hooks read the env cheaply; the impact must be the same
    cheap = load_environment(touched.prefix, metadata=False)
    assert impact(cheap, [NUMPY_1264], [NUMPY_1265]) == [item]
    assert item.kind == "overwrite"
    assert item.message.startswith("conda will replace numpy 1.26.4 with 1.26.5 over numpy 2.1.0")
    assert "pip uninstall -y numpy" in item.fix and "conda pipguard fix" in item.fix


def test_same_version_relink_is_a_reinstall(touched):
    (item,) = impact(touched, [NUMPY_1264], [NUMPY_1264])
    assert item.message.startswith("conda will reinstall numpy 1.26.4 over numpy 2.1.0 (pip)")
    assert "replace" not in item.message


def test_file_level_collisions_after_extraction(touched):
    sp = touched.python.site_packages
    paths = (*(f"{sp}/{name}" for name in NUMPY_1), f"{sp}/numpy-1.26.5.dist-info/METADATA")
    (item,) = impact(touched, [NUMPY_1264], [PlannedPackage("numpy", "1.26.5", "0", paths)])
    # pip's RECORD has __init__.py, linalg.py and the extension; _old_api.py is conda's only
    assert sorted(p.rsplit("/", 1)[-1] for p in item.paths) == [
        "__init__.py",
        "_multiarray.so",
        "linalg.py",
    ]
    unrelated = PlannedPackage("tool", "1.0", "0", (f"{sp}/tool.py",))
    assert impact(touched, [], [unrelated]) == []


def test_remove_breaks_pip_copy(touched):
    (item,) = impact(touched, [NUMPY_1264], [])
    assert item.kind == "break"
    assert "numpy 2.1.0 (pip) now owns: numpy will break" in item.message


def test_requirement_against_planned_versions(numpy_channel):
    kit = numpy_channel
    kit.wheel("oldapp", "1.0", {"oldapp.py": ""}, requires_dist=["numpy<1.26.5", "scipy"])
    prefix = kit.create("env", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(prefix, "install", "oldapp")
    env = load_environment(prefix, metadata=False)  # as the post-solve hook reads it
    items = impact(env, [NUMPY_1264, PlannedPackage("scipy", "1.11.4", "0")], [NUMPY_1265])
    messages = sorted(item.message for item in items)
    assert messages == [
        "oldapp 1.0 (pip) requires numpy<1.26.5 but the plan installs numpy 1.26.5",
        "oldapp 1.0 (pip) requires scipy, which the plan removes",
    ]
    assert all(item.kind == "requirement" for item in items)


def test_python_minor_change_strands_pip_packages(touched):
    (strand,) = [
        i
        for i in impact(touched, [], [PlannedPackage("python", f"{NEXT_PY}.1", "0")])
        if i.kind == "strand"
    ]
    assert f"Python {PY} -> {NEXT_PY}: 1 non-conda distribution stays behind" in strand.message
    assert "numpy==2.1.0" in strand.fix
    assert impact(touched, [], [PlannedPackage("python", f"{PY}.99", "0")]) == []


def test_one_layer_serves_every_check_with_the_same_answers(touched):
    """The guard reads once and asks several questions; the answers must not depend on it."""
    from conda_pipguard.core.rules.impact import PipLayer

    cheap = load_environment(touched.prefix, metadata=False, include_user_site=False)
    layer = PipLayer(cheap)
    for unlink, link in (([NUMPY_1264], [NUMPY_1265]), ([NUMPY_1264], []), ([], [])):
        assert impact(cheap, unlink, link, layer=layer) == impact(touched, unlink, link)
    assert [d.name for d in layer.foreign] == ["numpy"]


def test_projects_of_a_package_come_from_the_index(touched):
    from conda_pipguard.core.rules.impact import PipLayer

    layer = PipLayer(touched)
    # numpy's record still lists its dist-info (pip replaced the directory's content)
    assert layer.keys_of(NUMPY_1265) == {"numpy"}
    # a package the env does not have falls back to its name
    assert layer.keys_of(PlannedPackage("PyYAML", "6.0", "0")) >= {"pyyaml"}
    sp = touched.python.site_packages
    extracted = PlannedPackage("tool", "1.0", "0", (f"{sp}/tool-1.0.dist-info/METADATA",))
    assert layer.keys_of(extracted) == {"tool"}

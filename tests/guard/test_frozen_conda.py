"""Frozen environments (CEP 22) inside conda: conda's own --override-frozen and context."""

from __future__ import annotations

import json

import pytest

from conda_pipguard.core.locks.softfiles import CONSTRAINTS
from tests.conftest import NUMPY_1
from tests.guard.conftest import requires_conda
from tests.guard.test_recovery import assert_conda_files_match_the_record, doctor_has_fixers
from tests.support.envkit import tree_hashes

pytestmark = requires_conda

REASON = "pinned by the course image"


def freeze(prefix, message=REASON):
    (prefix / "conda-meta" / "frozen").write_text(json.dumps({"message": message}))


@pytest.fixture
def story(story, conda_envs):
    conda_envs.kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    return story


def test_conda_pipguard_refuses_a_frozen_env_in_one_line(conda_envs, story):
    from conda_pipguard.guard.errors import CondaPipguardError

    freeze(story)
    before = tree_hashes(story)
    for argv in (["mark"], ["unmark"], ["fix", "-y"]):
        _, _, caught = conda_envs.cli("pipguard", *argv, "-p", story, raises=CondaPipguardError)
        assert caught.value.return_code == 1
        assert str(caught.value) == (
            f'{story} is frozen (conda-meta/frozen: "{REASON}"): nothing was changed. '
            f"Add --override-frozen to {argv[0]} it anyway, at your own risk."
        )
    if doctor_has_fixers():  # conda doctor --fix pipguard runs the same repair
        _, err, code = conda_envs.cli("doctor", "-p", story, "--fix", "-y", "pipguard")
        assert code == 1
        assert f'pipguard: {story} is frozen (conda-meta/frozen: "{REASON}"): nothing' in err
    assert tree_hashes(story) == before


def test_fix_with_condas_override_frozen_repairs_through_conda(conda_envs, story):
    """The repair's conda commands carry the flag: conda checks the freeze for each."""
    freeze(story)
    out, err, code = conda_envs.cli(
        "pipguard", "fix", "-p", story, "-y", "--json", "--override-frozen"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["run"]["ok"] is True
    conda_runs = [r["command"] for r in data["run"]["done"] if " -m conda " in r["command"]]
    assert len(conda_runs) == 2 and all(c.endswith(" --override-frozen") for c in conda_runs)
    assert data["after"]["verdict"] in ("clean", "pip-touched")
    assert_conda_files_match_the_record(story, "numpy")
    assert (story / "conda-meta" / "frozen").is_file()  # the freeze itself stays


def test_status_in_conda_shows_the_freeze(conda_envs, story):
    freeze(story)
    out, _, code = conda_envs.cli("pipguard", "status", "-p", story, "--json")
    assert code == 0
    assert json.loads(out)["frozen"] == {"path": "conda-meta/frozen", "message": REASON}


def test_lock_upkeep_in_a_frozen_env_waits_for_condas_override(conda_envs):
    """A package's post-link script freezes the env during a transaction: the upkeep says so
    and leaves the soft lock's pins; the next transaction, with --override-frozen, moves them."""
    kit = conda_envs.kit
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.add_package(
        "numpy", "1.26.5", modules={**NUMPY_1, "numpy/__init__.py": "# .5\n"}, noarch=False
    )
    freezing = f"echo '{json.dumps({'message': REASON})}' > \"$PREFIX/conda-meta/frozen\"\n"
    kit.add_package("tinyweb", "1.0", modules={"tinyweb/__init__.py": ""})
    kit.add_conda_package("freezer", "1.0", files={"bin/.freezer-post-link.sh": freezing})
    prefix = conda_envs.create("python", "pip", "numpy=1.26.4")
    _, err, code = conda_envs.cli("pipguard", "mark", "--soft", "-p", prefix)
    assert code == 0, err
    pins = prefix / CONSTRAINTS
    assert "numpy==1.26.4" in pins.read_text().splitlines()

    _, err, code = conda_envs.run("install", prefix, "freezer", "numpy=1.26.5", "-y")
    assert code == 0, err
    assert (prefix / "conda-meta" / "frozen").is_file()
    assert (
        f'conda-pipguard: {prefix} is frozen (conda-meta/frozen: "{REASON}"): its pip locks '
        "were left as they were (with --override-frozen they are kept right)\n"
    ) in err
    assert "numpy==1.26.4" in pins.read_text().splitlines()  # conda linked 1.26.5

    _, err, code = conda_envs.run("install", prefix, "tinyweb", "-y", "--override-frozen")
    assert code == 0, err
    lines = pins.read_text().splitlines()
    assert "numpy==1.26.5" in lines and "numpy==1.26.4" not in lines

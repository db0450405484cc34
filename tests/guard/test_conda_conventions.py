"""Inside conda, ``conda pipguard`` ends, asks and reports as conda's own commands do.

These are the conventions the conda host (``guard/host.py``) brings; the standalone command keeps
its own (``tests/cli``): exit 2 for a missing env, ``--json`` needs ``-y``, a dry run exits 0.
"""

from __future__ import annotations

import json

import pytest

from tests.guard.conftest import requires_conda
from tests.support.envkit import tree_hashes

pytestmark = requires_conda

VERBS = ("status", "mark", "unmark", "fix", "export", "history")


@pytest.fixture
def broken(story, conda_envs):
    """The conda story env, then ``pip install --force-reinstall numpy==2.1.0``."""
    conda_envs.kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    return story


@pytest.mark.parametrize("verb", VERBS)
def test_a_missing_env_is_conda_s_environment_location_not_found(conda_envs, tmp_path, verb):
    from conda.exceptions import EnvironmentLocationNotFound

    missing = tmp_path / "nowhere"
    _, _, excinfo = conda_envs.cli(
        "pipguard", verb, "-p", missing, raises=EnvironmentLocationNotFound
    )
    assert str(missing) in str(excinfo.value)
    assert excinfo.value.return_code == 1


def test_an_unknown_name_ends_as_conda_list_n_ends(conda_envs):
    """conda resolves ``-n NAME`` to a path in its envs dirs; nothing there is not found."""
    from conda.exceptions import EnvironmentLocationNotFound

    _, _, excinfo = conda_envs.cli(
        "pipguard", "status", "-n", "no-such-env-here", raises=EnvironmentLocationNotFound
    )
    assert "no-such-env-here" in str(excinfo.value)
    assert excinfo.value.return_code == 1


def test_conda_json_setting_makes_status_and_history_report_json(conda_envs, story, monkeypatch):
    monkeypatch.setenv("CONDA_JSON", "true")
    out, err, code = conda_envs.cli("pipguard", "status", "-p", story)
    assert code == 0, err
    assert json.loads(out)["verdict"] == "clean"
    out, err, code = conda_envs.cli("pipguard", "history", "-p", story)
    assert code == 0, err
    assert isinstance(json.loads(out), dict)


def test_json_means_yes_for_fix(conda_envs, broken):
    out, err, code = conda_envs.cli("pipguard", "fix", "-p", broken, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["run"]["ok"] is True
    assert data["after"]["verdict"] in ("clean", "pip-touched")


def test_fix_dry_run_json_reports_the_plan_then_ends_in_dry_run_exit(conda_envs, broken):
    from conda.exceptions import DryRunExit

    before = tree_hashes(broken)
    out, _, _ = conda_envs.cli(
        "pipguard", "fix", "-p", broken, "--dry-run", "--json", raises=DryRunExit
    )
    data = json.loads(out)
    assert data["dry_run"] is True
    assert data["plan"]["steps"]
    assert tree_hashes(broken) == before


def test_fix_dry_run_with_nothing_to_do_ends_normally(conda_envs, story):
    _, err, code = conda_envs.cli("pipguard", "fix", "-p", story, "--dry-run")
    assert code == 0, err


@pytest.mark.parametrize("verb", ["mark", "unmark"])
def test_mark_and_unmark_dry_run_end_in_dry_run_exit(conda_envs, story, verb):
    from conda.exceptions import DryRunExit

    if verb == "unmark":
        _, err, code = conda_envs.cli("pipguard", "mark", "-p", story)
        assert code == 0, err
    before = tree_hashes(story)
    out, _, _ = conda_envs.cli("pipguard", verb, "-p", story, "--dry-run", raises=DryRunExit)
    assert "hard lock would be" in out
    assert tree_hashes(story) == before

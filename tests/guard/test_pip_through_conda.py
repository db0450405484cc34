"""``conda pipguard pip install`` through conda itself (conda.testing's ``conda_cli``).

The env is made by real ``conda create``; pip is the env's own, against the kit's wheels.
"""

from __future__ import annotations

import json

import pytest

from tests.guard.conftest import requires_conda
from tests.support.envkit import tree_hashes

pytestmark = requires_conda


def pipguard_pip(conda_envs, prefix, *args, ours=(), raises=None):
    """``conda pipguard pip -p PREFIX OURS install --no-index --find-links WHEELS ARGS``."""
    wheels = conda_envs.kit.wheels
    return conda_envs.cli(
        "pipguard",
        "pip",
        "-p",
        prefix,
        *ours,
        "install",
        "--no-index",
        "--find-links",
        wheels,
        *args,
        raises=raises,
    )


@pytest.fixture
def requests_wheel(conda_envs):
    return conda_envs.kit.wheel("requests", "2.32.3", {"requests/__init__.py": ""})


def test_the_seed_story_is_named_before_pip_writes(conda_envs, story):
    before = tree_hashes(story)
    out, err, code = pipguard_pip(
        conda_envs, story, "--force-reinstall", "numpy==2.1.0", ours=("--dry-run",)
    )
    assert code == 1, err
    assert "The following conda packages would be replaced by pip:" in out
    assert "  numpy 1.26.4 -> 2.1.0   (2 files overwritten, 5 deleted)" in out
    assert "  scipy 1.11.4 (needs numpy >=1.23.5,<2.0a0)" in out
    assert tree_hashes(story) == before


def test_harm_with_yes_is_refused_as_conda_s_error(conda_envs, story):
    from conda_pipguard.guard.errors import CondaPipguardError

    before = tree_hashes(story)
    _, _, refused = pipguard_pip(
        conda_envs,
        story,
        "--force-reinstall",
        "numpy==2.1.0",
        ours=("-y",),
        raises=CondaPipguardError,
    )
    assert "this install would harm conda's numpy, scipy" in str(refused.value)
    assert refused.value.return_code == 1
    assert tree_hashes(story) == before


def test_block_mode_from_conda_s_settings_refuses_the_harm(conda_envs, story, monkeypatch):
    from conda_pipguard.guard.errors import CondaPipguardError

    monkeypatch.setenv("CONDA_PLUGINS_PIPGUARD_MODE", "block")
    _, _, refused = pipguard_pip(
        conda_envs,
        story,
        "--force-reinstall",
        "numpy==2.1.0",
        ours=("-y", "--force"),
        raises=CondaPipguardError,
    )
    assert "pipguard_mode is block" in str(refused.value)


def test_a_harmless_install_goes_through_the_hard_lock(conda_envs, story, requests_wheel):
    _, err, code = conda_envs.cli("pipguard", "mark", "-p", story)
    assert code == 0, err
    marker = next(story.glob("lib/python3*/EXTERNALLY-MANAGED"))
    text = marker.read_text()
    assert f"conda pipguard pip -p {story} install <package>" in text
    out, err, code = pipguard_pip(conda_envs, story, "requests", ours=("-y",))
    assert code == 0, err
    assert "Installed by pip, as checked: requests 2.32.3\n" in out
    assert next(story.glob("lib/python3*/site-packages/requests-2.32.3.dist-info")).is_dir()
    assert marker.read_text() == text


def test_a_harmless_dry_run_ends_as_conda_s_dry_runs(conda_envs, story, requests_wheel):
    from conda.exceptions import DryRunExit

    out, _, _ = pipguard_pip(conda_envs, story, "requests", ours=("--dry-run",), raises=DryRunExit)
    assert "Nothing of conda's would be harmed." in out


def test_json_means_yes_and_holds_the_plan(conda_envs, story, requests_wheel):
    out, err, code = pipguard_pip(conda_envs, story, "requests", ours=("--json",))
    assert code == 0, err
    data = json.loads(out)
    assert (data["decision"], data["pip_exit_code"]) == ("installed", 0)
    assert [p["name"] for p in data["plan"]] == ["requests"]


def test_what_follows_install_is_pip_s_not_conda_s(conda_envs, story, requests_wheel):
    """conda's pre-parser reads ``--json`` (and ``-v``) anywhere; after ``install`` it is pip's."""
    from conda_pipguard.guard.errors import CondaPipguardError

    out, err, refused = pipguard_pip(
        conda_envs, story, "requests", "--json", ours=("-y",), raises=CondaPipguardError
    )
    assert "no such option: --json" in err  # pip said so, as text: no JSON was asked of us
    assert not out.lstrip().startswith("{")
    assert refused.value.return_code == 2

"""``conda pipguard status`` through conda itself (conda.testing's ``conda_cli``)."""

from __future__ import annotations

import json
import shutil

from tests.guard.conftest import requires_conda

pytestmark = requires_conda


def status(conda_envs, prefix, *args):
    out, err, code = conda_envs.cli("pipguard", "status", "-p", prefix, *args)
    return out, err, code


def test_clean_env(conda_envs, story):
    out, _err, code = status(conda_envs, story, "--json")
    data = json.loads(out)
    assert (data["verdict"], data["findings"], code) == ("clean", [], 0)
    assert data["counts"]["conda_records"] == 4


def test_user_story_through_conda(conda_envs, story):
    kit = conda_envs.kit
    kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    out, _, code = status(conda_envs, story, "--json")
    data = json.loads(out)
    assert data["verdict"] == "broken" and code == 0
    assert [f["kind"] for f in data["findings"]] == ["shadowed", "conda-dependency-broken"]

    # `conda list` runs conda's PyPI interoperability loader, which deletes the record of the
    # conda package whose dist-info pip replaced. The diagnosis must not depend on it.
    conda_envs.cli("list", "-p", story)
    assert not list((story / "conda-meta").glob("numpy-1.26.4-*.json")), "conda kept the record"
    # without the copy the pre-command keeps (as when conda list ran before the plugin was
    # installed), only conda-meta/history is left; see tests/guard/test_evidence.py for the copy
    shutil.rmtree(story / "conda-meta" / ".pipguard-records")
    out, _, code = status(conda_envs, story, "--json", "--fail-on", "error")
    data = json.loads(out)
    assert [f["kind"] for f in data["findings"]] == ["shadowed", "conda-dependency-broken"]
    assert data["findings"][0]["details"] == {"record_missing": True}
    assert code == 1


def test_text_output_and_fail_on(conda_envs, story):
    out, err, code = status(conda_envs, story, "--fail-on", "info")
    assert out.splitlines()[0].endswith(": clean")
    assert code == 0 and err == ""


def test_not_an_environment_is_conda_s_own_error(conda_envs, tmp_path):
    from conda.exceptions import DirectoryNotACondaEnvironmentError

    _, _, excinfo = conda_envs.cli(
        "pipguard", "status", "-p", tmp_path, raises=DirectoryNotACondaEnvironmentError
    )
    assert "it is not a conda environment" in str(excinfo.value)
    assert excinfo.value.return_code == 1  # conda's, as for `conda list -p DIR`


def test_version_goes_to_stdout_through_conda(conda_envs):
    from importlib.metadata import version

    out, err, exit_info = conda_envs.cli("pipguard", "--version", raises=SystemExit)
    assert (out, err) == (f"conda-pipguard {version('conda-pipguard')}\n", "")
    assert exit_info.value.code in (0, None)

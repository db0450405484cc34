"""The built package installed into an env that runs conda 26.7.1 from conda packages.

This is the path of the README's first install command (``conda install -n base
conda-pipguard``): conda finds the plugin through the package's entry point, with nothing but
conda packages in its environment.
"""

from __future__ import annotations

import json

import pytest

from tests.package.conftest import CONDA_VERSION, project_version


@pytest.fixture(scope="module")
def lab(conda_run):
    """A pip-damaged env made by that conda: numpy replaced by pip, scipy needing numpy <2."""
    return conda_run.damaged("lab")


def test_conda_and_the_plugin_come_from_the_base_envs_packages(conda_run):
    out = conda_run.run(
        conda_run.base / "bin" / "python",
        "-c",
        "import conda, conda_pipguard; print(conda.__version__); print(conda.__file__); "
        "print(conda_pipguard.__file__)",
    ).stdout.split()
    assert out[0] == CONDA_VERSION
    assert all(path.startswith(f"{conda_run.base}/lib/") for path in out[1:])
    records = {path.name for path in (conda_run.base / "conda-meta").glob("*.json")}
    assert any(name.startswith(f"conda-pipguard-{project_version()}-") for name in records)


def test_conda_pipguard_help(conda_run):
    out = conda_run.conda("pipguard", "--help").stdout
    assert out.startswith("usage: conda pipguard")
    for verb in ("status", "mark", "unmark", "fix", "export", "history"):
        assert f"    {verb} " in out


def test_conda_pipguard_status_finds_the_shadow(conda_run, lab):
    out = conda_run.conda("pipguard", "status", "-p", lab).stdout
    assert f"lab ({lab}): broken" in out  # named: it is in the envs directory conda uses
    assert "error   shadowed                 numpy 2.1.0 (pip) shadows conda's numpy 1.26.4" in out
    data = json.loads(conda_run.conda("pipguard", "status", "-p", lab, "--json").stdout)
    kinds = [(f["kind"], f["conda_package"]) for f in data["findings"]]
    assert kinds[:2] == [("shadowed", "numpy"), ("conda-dependency-broken", "scipy")]


def test_conda_install_into_the_damaged_env_warns_first(conda_run, lab):
    proc = conda_run.conda("install", "-y", "-p", lab, "tinyweb")
    warning = (
        "conda-pipguard: numpy 2.1.0 (pip) shadows conda's numpy 1.26.4 (1 Python package "
        "here is not from conda). conda does not track them: this command can overwrite or "
        "break them. Details: conda pipguard status -n lab\n"
    )
    assert warning in proc.stderr
    assert list((lab / "conda-meta").glob("tinyweb-1.0-*.json"))


def test_conda_doctor_list_names_the_check(conda_run):
    out = conda_run.conda("doctor", "--list").stdout
    assert "  pipguard: Detect Python packages pip (or another installer) put over conda's" in out


def test_conda_pipguard_version_is_pyprojects(conda_run):
    out = conda_run.run(conda_run.base / "bin" / "conda-pipguard", "--version").stdout
    assert out == f"conda-pipguard {project_version()}\n"

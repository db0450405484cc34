"""Recovery through real conda: ``fix``, ``export`` + ``conda env create``, ``conda doctor``.

conda runs in-process through conda.testing's ``conda_cli`` on the kit's offline local channel;
the repair's own commands run as real subprocesses (the env's pip, ``python -m conda``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import PY
from tests.guard.conftest import requires_conda
from tests.support.envkit import index_channel, site_packages, tree_hashes

pytestmark = requires_conda


@pytest.fixture
def story(story, conda_envs):
    """The conda story env, then ``pip install --force-reinstall numpy==2.1.0``."""
    conda_envs.kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    return story


def status(conda_envs, prefix) -> dict:
    out, _, code = conda_envs.cli("pipguard", "status", "-p", prefix, "--json")
    assert code == 0
    return json.loads(out)


def assert_conda_files_match_the_record(prefix: Path, name: str) -> None:
    (record_file,) = (prefix / "conda-meta").glob(f"{name}-*.json")
    record = json.loads(record_file.read_text())
    checked = 0
    for entry in record["paths_data"]["paths"]:
        expected = entry.get("sha256_in_prefix")
        if expected:
            actual = hashlib.sha256((prefix / entry["_path"]).read_bytes()).hexdigest()
            assert actual == expected, entry["_path"]
            checked += 1
    assert checked >= 5  # numpy's four modules and its dist-info files


def test_fix_restores_the_shadowed_package(conda_envs, story):
    assert status(conda_envs, story)["verdict"] == "broken"
    out, err, code = conda_envs.cli("pipguard", "fix", "-p", story, "-y", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["run"]["ok"] is True
    assert [r["command"].split(" -m ")[1].split()[0] for r in data["run"]["done"]] == [
        "conda",
        "pip",
        "conda",
    ]
    assert data["after"]["verdict"] in ("clean", "pip-touched")

    assert status(conda_envs, story)["verdict"] in ("clean", "pip-touched")
    assert_conda_files_match_the_record(story, "numpy")
    sp = site_packages(story)
    assert not (sp / "numpy-2.1.0.dist-info").exists()
    assert not (sp / "numpy" / "_new_api.py").exists()
    # conda's history now holds "numpy==1.26.4=0"; the user still asked for plain "numpy".
    out, _, _ = conda_envs.cli("pipguard", "export", "-p", story)
    assert "  - numpy\n" in out


def test_fix_in_an_env_locked_against_pip(conda_envs, story):
    _, err, code = conda_envs.cli("pipguard", "mark", "-p", story)
    assert code == 0, err
    marker = story / "lib" / f"python{PY}" / "EXTERNALLY-MANAGED"
    assert marker.is_file()
    out, err, code = conda_envs.cli("pipguard", "fix", "-p", story, "-y")
    assert code == 0, err
    assert f"PIP_BREAK_SYSTEM_PACKAGES=1 {story}/bin/python{PY} -I -m pip uninstall" in out
    assert status(conda_envs, story)["verdict"] in ("clean", "pip-touched")
    assert marker.is_file()  # the lock stays


def test_fix_after_conda_list_deleted_the_record(conda_envs, story):
    conda_envs.cli("list", "-p", story)
    assert not list((story / "conda-meta").glob("numpy-*.json")), "conda kept the record"
    out, err, code = conda_envs.cli("pipguard", "fix", "-p", story, "-y")
    assert code == 0, err
    assert "Done: all 3 commands succeeded." in out
    assert status(conda_envs, story)["verdict"] in ("clean", "pip-touched")
    assert_conda_files_match_the_record(story, "numpy")


@pytest.mark.parametrize("reindex", [False, True], ids=["stale-index", "reindexed"])
def test_unavailable_package_stops_before_uninstalling(conda_envs, story, reindex):
    from conda.base.context import context

    from conda_pipguard.guard.errors import CondaPipguardError

    kit = conda_envs.kit
    for package in kit.channel.glob("*/numpy-1.26.4-*.conda"):
        package.unlink()
    for pkgs_dir in context.pkgs_dirs:
        if reindex:  # and make conda read the new index, not its cached copy of the old one
            index_channel(kit.channel)
            shutil.rmtree(Path(pkgs_dir) / "cache", ignore_errors=True)
        for cached in Path(pkgs_dir).glob("numpy-1.26.4-*"):
            cached.unlink() if cached.is_file() else shutil.rmtree(cached)
    before = tree_hashes(story)

    _, _, excinfo = conda_envs.cli("pipguard", "fix", "-p", story, "-y", raises=CondaPipguardError)
    message = str(excinfo.value)
    assert message.startswith("conda cannot get numpy=1.26.4=0: ")
    assert "nothing was changed" in message
    assert tree_hashes(story) == before
    assert (site_packages(story) / "numpy-2.1.0.dist-info").is_dir()


def test_fix_works_in_block_mode(conda_envs, story, monkeypatch):
    """The guard would refuse the repair's own conda commands: fix turns it off for them."""
    from conda.base.context import reset_context

    monkeypatch.setenv("CONDA_PLUGINS_PIPGUARD_MODE", "block")
    reset_context()
    out, err, code = conda_envs.cli("pipguard", "fix", "-p", story, "-y", "--json")
    assert code == 0, err
    assert json.loads(out)["run"]["ok"] is True
    assert status(conda_envs, story)["verdict"] in ("clean", "pip-touched")
    assert_conda_files_match_the_record(story, "numpy")


@pytest.mark.parametrize("via", ["fix", "doctor"])
def test_fix_never_touches_what_a_link_out_of_the_env_reaches(conda_envs, numpy_channel, via):
    """Without pip in the env the plan removes files itself: not through a directory link."""
    if via == "doctor" and not doctor_has_fixers():
        pytest.skip("this conda has no `conda doctor --fix` (conda < 26.1)")
    kit = conda_envs.kit
    prefix = conda_envs.create("python", "numpy")
    donor = kit.create("donor", ["python", "pip"])
    sp = site_packages(prefix)
    kit.pip(donor, "install", "--no-deps", "--upgrade", "--target", sp, "numpy==2.1.0")
    outside = kit.root / "outside"
    (outside / "tree").mkdir(parents=True)
    sentinels = [outside / "keep.txt", outside / "tree" / "deep.txt"]
    for sentinel in sentinels:
        sentinel.write_text("must survive\n")
    (sp / "numpy" / "evil").symlink_to(outside, target_is_directory=True)
    (record,) = sp.glob("numpy-2.1.0.dist-info/RECORD")
    record.write_text(
        record.read_text() + "numpy/evil/keep.txt,,\nnumpy/evil/tree,,\nnumpy/evil,,\n"
    )

    if via == "fix":
        out, err, code = conda_envs.cli("pipguard", "fix", "-p", prefix, "-y")
    else:
        out, err, code = conda_envs.cli("doctor", "-p", prefix, "--fix", "-y", "pipguard")
    assert code == 0, err
    assert all(sentinel.read_text() == "must survive\n" for sentinel in sentinels)
    rel = f"{sp.relative_to(prefix)}/numpy/evil"
    for path in (f"{rel}/keep.txt", f"{rel}/tree", rel):
        assert f"not touched: {path} (leads outside the environment through a link)" in out
    assert "Done: all 3 commands succeeded." in out
    assert not (sp / "numpy-2.1.0.dist-info").exists()
    assert_conda_files_match_the_record(prefix, "numpy")


def test_dry_run_through_conda_changes_nothing(conda_envs, story):
    from conda.exceptions import DryRunExit

    before = tree_hashes(story)
    out, _, _ = conda_envs.cli("pipguard", "fix", "-p", story, "--dry-run", raises=DryRunExit)
    assert (
        f"1. CONDA_PLUGINS_PIPGUARD_MODE=off {sys.executable} -m conda install -p {story} "
        "--force-reinstall"
    ) in out
    assert "--offline" in out  # CONDA_OFFLINE=true reaches conda's commands
    assert tree_hashes(story) == before


def test_export_then_env_create_reproduces_conda_and_pip_only_packages(
    conda_envs, story, tmp_path, monkeypatch
):
    kit = conda_envs.kit
    kit.wheel("app", "1.0", {"app.py": "import helper\n"}, requires_dist=["helper"])
    kit.wheel("helper", "1.0", {"helper.py": ""})
    kit.pip(story, "install", "app")
    env_file = tmp_path / "environment.yml"
    _, err, code = conda_envs.cli("pipguard", "export", "-p", story, "-f", env_file)
    assert code == 0
    assert "numpy 2.1.0 (pip) is not exported: numpy belongs to conda" in err

    from ruamel.yaml import YAML

    spec = YAML(typ="safe").load(env_file.read_text())
    assert spec["dependencies"][-1] == {"pip": ["app==1.0"]}

    monkeypatch.setenv("PIP_FIND_LINKS", str(kit.wheels))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    new = tmp_path / "recreated"
    _, err, code = conda_envs.cli("env", "create", "-p", new, "-f", env_file)
    assert code == 0, err

    def conda_packages(prefix):
        return sorted(
            (record["name"], record["version"], record["build"])
            for record in map(json.loads, map(Path.read_text, prefix.glob("conda-meta/*.json")))
        )

    assert [p[0] for p in conda_packages(new)] == ["numpy", "pip", "python", "scipy"]
    assert ("numpy", "1.26.4", "0") in conda_packages(new)
    data = status(conda_envs, new)
    assert data["verdict"] == "pip-touched"
    assert sorted((f["kind"], f["distribution"], f["version"]) for f in data["findings"]) == [
        ("pip-only", "app", "1.0"),
        ("pip-only", "helper", "1.0"),
    ]


def doctor_has_fixers() -> bool:
    """conda >= 26.1: ``conda doctor --list``, ``--fix`` and check names (before: all checks)."""
    from conda_pipguard.guard.doctor import conda_has_fixers

    return conda_has_fixers()


def test_doctor_lists_the_check_and_its_findings(conda_envs, story):
    only = ["pipguard"] if doctor_has_fixers() else []
    if only:
        out, _, code = conda_envs.cli("doctor", "--list")
        assert code == 0
        assert "  pipguard: Detect Python packages pip" in out
        assert "(fix: Uninstall the non-conda copies" in out

    out, _, code = conda_envs.cli("doctor", "-p", story, *only)
    assert code in (0, None)  # conda < 26.1 returns None
    assert f"Environment Health Report for: {story}" in out
    # a blank line sets the block apart from conda's own lines above it
    assert "\n\n❌ Python packages from pip damage conda's (broken): 2 problems." in out
    assert "error   shadowed: numpy 2.1.0 (pip) shadows conda's numpy 1.26.4" in out
    assert "error   conda-dependency-broken: conda's scipy 1.11.4 requires numpy" in out
    assert f"conda pipguard fix -p {story}" in out

    clean = conda_envs.create("python", "pip")
    out, _, _ = conda_envs.cli("doctor", "-p", clean, *only)
    assert "\n\n✅ Every Python package in this environment came from conda." in out


def test_doctor_leaves_conda_files_to_condas_own_checks(conda_envs, story):
    """conda's checks list numpy's changed and missing files; ours says who and what broke."""
    out, _, _ = conda_envs.cli("doctor", "-p", story)
    conda_part, _, ours = out.partition("❌ Python packages from pip damage conda's")
    assert "Altered Files:\n\nnumpy-1.26.4-0: 2\n" in conda_part
    assert "Missing Files:\n\nnumpy-1.26.4-0: 5\n" in conda_part
    assert "  error   shadowed: numpy 2.1.0 (pip) shadows conda's numpy 1.26.4\n" in ours
    assert "overwritten" not in ours and "deleted" not in ours
    names = (
        "altered-files missing-files" if doctor_has_fixers() else "(Altered Files, Missing Files)"
    )
    assert f"  Files:   conda's own checks list them: conda doctor -v -p {story} {names}\n" in ours


def test_doctor_names_the_noarch_packages_condas_altered_files_skips(conda_envs):
    """conda's altered-files joins the prefix with a noarch record's package-relative paths."""
    kit = conda_envs.kit
    kit.add_package("tinylib", "1.0", modules={"tinylib/__init__.py": "v = 1\n"})  # noarch
    kit.wheel("tinylib", "2.0", {"tinylib/__init__.py": "v = 2\n"})
    prefix = conda_envs.create("python", "pip", "tinylib")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "tinylib==2.0")
    out, _, _ = conda_envs.cli("doctor", "-p", prefix)
    assert "There are no packages with altered files." in out  # tinylib/__init__.py was
    assert "  error   shadowed: tinylib 2.0 (pip) shadows conda's tinylib 1.0\n" in out
    altered = "altered-files" if doctor_has_fixers() else "Altered Files"
    assert (
        f"; {altered} skips noarch: python packages (tinylib): "
        f"conda pipguard status -p {prefix} counts their files\n"
    ) in out


def test_doctor_fix_runs_the_plan_after_confirmation(conda_envs, story):
    if not doctor_has_fixers():
        pytest.skip("this conda has no `conda doctor --fix` (conda < 26.1)")
    before = tree_hashes(story)
    out, _, code = conda_envs.cli("doctor", "-p", story, "--fix", "--dry-run", "pipguard")
    assert code == 0 and "Repair plan for" in out
    assert tree_hashes(story) == before

    out, err, code = conda_envs.cli("doctor", "-p", story, "--fix", "-y", "pipguard")
    assert code == 0, err
    assert "Done: all 3 commands succeeded." in out
    assert status(conda_envs, story)["verdict"] in ("clean", "pip-touched")
    assert_conda_files_match_the_record(story, "numpy")


def test_conda_export_format_pipguard(conda_envs, story):
    from conda_pipguard.guard.exporter import environment_exporters

    if not list(environment_exporters()):
        pytest.skip("this conda has no environment exporter plugins (conda < 25.7)")
    out, err, code = conda_envs.cli("export", "-p", story, "--format", "pipguard")
    assert code == 0
    assert "exported by `conda pipguard export`" in out
    assert "  - numpy\n" in out and "numpy==2.1.0" not in out
    # conda's own export code ran its PyPI loader first, which deleted numpy's record; the
    # history still brings conda's numpy back.
    assert not list((story / "conda-meta").glob("numpy-*.json"))
    assert "numpy 2.1.0 (pip) is not exported" in err

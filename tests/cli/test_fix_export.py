"""The standalone ``conda-pipguard fix`` and ``export`` on real environments (no conda needed).

What needs conda (the repair itself, ``conda env create``) is in tests/guard/test_recovery.py.
"""

from __future__ import annotations

import io
import json
import re

import pytest

from conda_pipguard.cli.main import main
from tests.conftest import PY
from tests.support.envkit import tree_hashes


@pytest.fixture
def broken(numpy_channel, monkeypatch):
    """The user story env after ``pip install --force-reinstall numpy==2.1.0``."""
    kit = numpy_channel
    prefix = kit.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    monkeypatch.setenv("HOME", str(kit.home))
    monkeypatch.delenv("CONDA_EXE", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    return prefix


def test_dry_run_shows_the_plan_and_changes_nothing(broken, capsys):
    before = tree_hashes(broken)
    assert main(["fix", "-p", str(broken), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Repair plan for {broken} (broken):")
    numbered = re.findall(r"^  \d+\. (.*)$", out, flags=re.MULTILINE)
    assert [cmd.split()[:2] for cmd in numbered] == [
        ["CONDA_PLUGINS_PIPGUARD_MODE=off", "conda"],
        [str(broken / f"bin/python{PY}"), "-I"],
        ["CONDA_PLUGINS_PIPGUARD_MODE=off", "conda"],
    ]
    assert "--download-only" in numbered[0]
    assert numbered[1].endswith("-m pip uninstall -y numpy")
    assert numbered[2].endswith(
        "--force-reinstall -y -c " + f"{broken.parent.parent.as_uri()}/channel numpy=1.26.4=0"
    )
    assert tree_hashes(broken) == before


def test_dry_run_json(broken, capsys):
    before = tree_hashes(broken)
    assert main(["fix", "-p", str(broken), "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] is True
    assert [s["action"] for s in data["plan"]["steps"]] == [
        "check",
        "pip-uninstall",
        "conda-reinstall",
    ]
    assert data["plan"]["reinstall"][0]["spec"] == "numpy=1.26.4=0"
    assert tree_hashes(broken) == before


def test_standalone_needs_conda_to_run(broken, capsys):
    before = tree_hashes(broken)
    assert main(["fix", "-p", str(broken), "-y"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("conda-pipguard: error: ")
    assert "run `conda pipguard fix`" in err and err.count("\n") == 1
    assert tree_hashes(broken) == before


def test_conda_that_cannot_run_stops_before_uninstalling(broken, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CONDA_EXE", str(tmp_path / "no-such-conda"))
    before = tree_hashes(broken)
    assert main(["fix", "-p", str(broken), "-y"]) == 1
    err = capsys.readouterr().err
    assert "conda cannot get numpy=1.26.4=0: cannot run" in err
    assert "nothing was changed" in err
    assert tree_hashes(broken) == before


def test_answering_no_changes_nothing(broken, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CONDA_EXE", str(tmp_path / "no-such-conda"))
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    before = tree_hashes(broken)
    assert main(["fix", "-p", str(broken)]) == 0
    assert capsys.readouterr().out.endswith("Nothing was changed.\n")
    assert tree_hashes(broken) == before


def test_json_without_yes_refuses_to_run(broken, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CONDA_EXE", str(tmp_path / "no-such-conda"))
    assert main(["fix", "-p", str(broken), "--json"]) == 1
    assert "--json cannot ask for confirmation" in capsys.readouterr().err


def test_clean_env_has_nothing_to_fix(numpy_channel, capsys, monkeypatch):
    prefix = numpy_channel.create("clean", ["python", "pip", "numpy"], dialect="conda")
    monkeypatch.setenv("HOME", str(numpy_channel.home))
    monkeypatch.delenv("CONDA_EXE", raising=False)
    assert main(["fix", "-p", str(prefix), "-y"]) == 0  # nothing to run: conda not needed
    assert "nothing to repair" in capsys.readouterr().out


def test_export_to_stdout_and_file(broken, numpy_channel, capsys, tmp_path):
    kit = numpy_channel
    kit.wheel("app", "1.0", {"app.py": ""}, requires_dist=["helper"])
    kit.wheel("helper", "1.0", {"helper.py": ""})
    kit.pip(broken, "install", "app")
    before = tree_hashes(broken)

    assert main(["export", "-p", str(broken)]) == 0
    out, err = capsys.readouterr()
    assert "  - scipy\n  - pip:\n      - app==1.0\n" in out
    assert "numpy==" not in out
    assert err == (
        "note: numpy 2.1.0 (pip) is not exported: numpy belongs to conda, and the recreated "
        "environment gets conda's numpy 1.26.4\n"
    )

    target = tmp_path / "environment.yml"
    assert main(["export", "-p", str(broken), "-f", str(target), "--all-pip", "--pinned"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err.endswith(f"wrote {target}\n")
    text = target.read_text()
    assert "  - numpy=1.26.4=0\n" in text and "      - helper==1.0\n" in text
    assert tree_hashes(broken) == before

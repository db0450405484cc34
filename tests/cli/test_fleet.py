"""``status --all``: every env on its own, a summary table, and ``--jobs`` in worker processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda_pipguard.cli import fleet
from conda_pipguard.cli.envreport import Options
from conda_pipguard.cli.fleet import examine_all
from tests.cli.conftest import run, run_json


@pytest.fixture
def fleet_envs(numpy_channel, registry, monkeypatch):
    """A clean env, a broken one and a pip-touched one, registered in that order."""
    kit = numpy_channel
    monkeypatch.delenv("NO_COLOR", raising=False)
    clean = kit.create("clean", ["python", "pip"], dialect="conda")
    broken = kit.create("broken", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(broken, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    touched = kit.create("touched", ["python", "pip"], dialect="conda")
    kit.wheel("requests", "2.32.3", {"requests/__init__.py": ""})
    kit.pip(touched, "install", "requests")
    registry(clean, broken, touched)
    return clean, broken, touched


def test_summary_table_ends_the_text(fleet_envs, capsys):
    code, out, _ = run(capsys, "status", "--all")
    assert code == 0
    tail = out.rstrip().splitlines()[-5:]
    assert tail[0].split() == ["env", "verdict", "errors", "warnings", "lock"]
    # known only by path (no conda root above them): the table names them by their prefix
    rows = {Path(line.split()[0]).name: line.split()[1:] for line in tail[1:4]}
    assert rows == {
        "clean": ["clean", "0", "0", "absent"],
        "broken": ["broken", "2", "0", "absent"],
        "touched": ["pip-touched", "0", "0", "absent"],
    }
    assert tail[4] == "3 environments: 1 broken, 1 clean, 1 pip-touched"


def test_one_env_that_cannot_be_read_does_not_stop_the_others(fleet_envs, capsys, monkeypatch):
    clean, broken, touched = fleet_envs
    real = fleet.diagnose

    def failing(prefix, name=None, **kwargs):
        if str(prefix) == str(broken):  # a reader bug, whatever it is, in one env only
            raise RecursionError("maximum recursion depth exceeded")
        return real(prefix, name, **kwargs)

    monkeypatch.setattr(fleet, "diagnose", failing)
    code, data = run_json(capsys, "status", "--all")
    assert code == 2  # something failed
    envs = data["environments"]
    assert [e["prefix"] for e in envs] == [str(clean), str(broken), str(touched)]
    assert envs[1] == {
        "prefix": str(broken),
        "name": None,
        "error": "RecursionError: maximum recursion depth exceeded",
    }
    assert (envs[0]["verdict"], envs[2]["verdict"]) == ("clean", "pip-touched")

    code, out, _ = run(capsys, "status", "--all", "--fail-on", "error")
    assert code == 2
    assert f"{broken}: error: could not be diagnosed: RecursionError" in out
    assert any(line.split()[:2] == [str(broken), "error"] for line in out.splitlines())


def test_a_prefix_that_is_not_an_environment_is_skipped(fleet_envs, tmp_path):
    clean, _, _ = fleet_envs
    base = tmp_path / "base-without-conda-meta"
    base.mkdir()
    reports = list(examine_all([(str(base), "base"), (str(clean), "clean")], Options()))
    assert [r.verdict for r in reports] == ["skipped", "clean"]
    assert "no conda-meta" in reports[0].problem
    assert not reports[0].failed
    assert "skipped" in fleet.summary_table(reports).splitlines()[1]


def test_jobs_2_gives_the_same_json_as_jobs_1(fleet_envs, capsys):
    code1, out1, _ = run(capsys, "status", "--all", "--json", "--jobs", "1")
    code2, out2, _ = run(capsys, "status", "--all", "--json", "--jobs", "2")
    assert (code1, code2) == (0, 0)
    assert out1 == out2
    assert len(json.loads(out2)["environments"]) == 3
    text1 = run(capsys, "status", "--all", "--jobs", "1")[1]
    assert run(capsys, "status", "--all", "--jobs", "2")[1] == text1

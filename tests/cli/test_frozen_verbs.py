"""Frozen environments (CEP 22) and the standalone verbs: refused first, in one line."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run, run_json
from tests.support.envkit import tree_hashes

REASON = "managed by the lab image; ask IT"


@pytest.fixture
def damaged(numpy_channel):
    kit = numpy_channel
    prefix = kit.create("lab", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    return prefix


def freeze(prefix, message=REASON):
    (prefix / "conda-meta" / "frozen").write_text(json.dumps({"message": message}))


def refusal(prefix, verb):
    return (
        f'conda-pipguard: error: {prefix} is frozen (conda-meta/frozen: "{REASON}"): nothing '
        f"was changed. Add --override-frozen to {verb} it anyway, at your own risk.\n"
    )


def test_a_verb_that_would_change_a_frozen_env_changes_nothing(damaged, capsys):
    freeze(damaged)
    before = tree_hashes(damaged)
    for argv in (["mark"], ["mark", "--soft"], ["unmark"], ["fix", "-y"], ["fix", "--dry-run"]):
        code, out, err = run(capsys, *argv, "-p", str(damaged))
        assert (code, out, err) == (1, "", refusal(damaged, argv[0])), argv
    assert tree_hashes(damaged) == before


def test_override_frozen_lets_mark_and_unmark_through(damaged, capsys):
    freeze(damaged)
    code, out, _ = run(capsys, "mark", "-p", str(damaged), "--override-frozen")
    assert code == 0 and "hard lock written" in out
    code, out, _ = run(capsys, "unmark", "-p", str(damaged), "--override-frozen")
    assert code == 0 and "hard lock removed" in out


def test_an_overridden_fix_passes_the_flag_to_conda(damaged, capsys, monkeypatch):
    monkeypatch.setenv("CONDA_EXE", "/opt/conda/bin/conda")
    freeze(damaged)
    code, data = run_json(capsys, "fix", "-p", str(damaged), "--dry-run", "--override-frozen")
    assert code == 0
    conda_steps = [s for s in data["plan"]["steps"] if s["action"] != "pip-uninstall"]
    assert [s["argv"][:2] for s in conda_steps] == [["/opt/conda/bin/conda", "install"]] * 2
    assert all(s["argv"][-1] == "--override-frozen" for s in conda_steps)


def test_status_shows_the_freeze(damaged, capsys):
    _, data = run_json(capsys, "status", "-p", str(damaged))
    assert data["frozen"] is None
    freeze(damaged)
    _, data = run_json(capsys, "status", "-p", str(damaged))
    assert data["frozen"] == {"path": "conda-meta/frozen", "message": REASON}
    assert data["verdict"] == "broken"  # the diagnosis is the same
    code, out, _ = run(capsys, "status", "-p", str(damaged))
    assert code == 0
    assert out.splitlines()[2] == (
        f'  frozen (conda-meta/frozen: "{REASON}"): conda and pipguard change nothing here '
        "without --override-frozen"
    )

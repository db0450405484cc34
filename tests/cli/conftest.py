"""Helpers for driving the standalone ``conda-pipguard`` command in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda_pipguard.cli.main import main

_ROOT_VARS = ("CONDA_ROOT", "MAMBA_ROOT_PREFIX", "CONDA_PREFIX_1", "CONDA_EXE", "CONDA_ENVS_PATH")


@pytest.fixture
def registry(kit, monkeypatch):
    """Make the standalone command find envs only through ``<kit home>/.conda/environments.txt``."""
    for var in _ROOT_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(kit.home))

    def register(*prefixes: Path) -> None:
        path = kit.home / ".conda" / "environments.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{p}\n" for p in prefixes))

    return register


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, *argv, "--json")
    return code, json.loads(out)

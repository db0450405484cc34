"""The environment of a process in the activated env: the shell's variables, then the env's."""

from __future__ import annotations

import json

import pytest

from conda_pipguard.core.disk.activation import UNSET, Activation, read_env_vars
from conda_pipguard.core.locks.condavars import activated_vars


def test_the_env_variables_win_and_unset_ones_are_not_set(tmp_path):
    (tmp_path / "conda-meta").mkdir()
    state = {"env_vars": {"PIP_CONSTRAINT": "/env/c.txt", "UV_CONSTRAINT": UNSET, "N": 3}}
    (tmp_path / "conda-meta" / "state").write_text(json.dumps(state))
    activation = Activation.of(tmp_path, {"PIP_CONSTRAINT": "/shell/c.txt", "UV_CONSTRAINT": "u"})
    assert activation.env_vars == {"PIP_CONSTRAINT": "/env/c.txt", "N": "3"}
    assert activation.merged == {"PIP_CONSTRAINT": "/env/c.txt", "UV_CONSTRAINT": "u", "N": "3"}
    assert activation.environ["PIP_CONSTRAINT"] == "/shell/c.txt"  # the shell's, kept apart
    # the locks read the same file for writing, and agree on what activation sets
    data = (tmp_path / "conda-meta" / "state").read_bytes()
    assert activated_vars(data) == read_env_vars(tmp_path) == activation.env_vars


@pytest.mark.parametrize("text", ["", "[1]", '{"env_vars": []}', "{not json", '{"x": 1}'])
def test_a_state_that_is_not_what_conda_writes_sets_nothing(tmp_path, text):
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta" / "state").write_text(text)
    assert read_env_vars(tmp_path) == {} == Activation.of(tmp_path, {}).merged
    assert activated_vars(text.encode()) == {}


def test_no_state_no_variables(tmp_path):
    assert Activation.of(tmp_path, {"A": "1"}).merged == {"A": "1"}

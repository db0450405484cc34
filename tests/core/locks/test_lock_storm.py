"""Concurrent ``mark``, ``mark --soft``, ``unmark`` and refreshes end as a sequence would.

Each round starts many processes of the real command (``python -m conda_pipguard`` through a
launcher that plants an empty global pip configuration) against one env at once; then the env
must be in one of the states a sequential order gives (unlocked, soft, hard, soft and hard: the
last command decides), with no temporary file left. A final ``unmark`` must give back
``pip.conf`` and ``conda-meta/state`` byte for byte. Without the env lock, concurrent
``mark --soft``/``unmark`` left ``conda-meta/state`` changed after the final ``unmark``
(issue #12: 4 of 4 storms).

``PIPGUARD_STORM_ROUNDS`` and ``PIPGUARD_STORM_PROCESSES`` make the storm bigger.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.pipconf import PIPGUARD_LAUNCHER, pipguard_env

ROUNDS = int(os.environ.get("PIPGUARD_STORM_ROUNDS", "3"))
PROCESSES = int(os.environ.get("PIPGUARD_STORM_PROCESSES", "24"))
PIP_CONF = b"# the user's\r\n[global]\r\ntimeout = 60\r\n[install]\r\nconstraint = /u.txt\r\n"
STATE = b'{"env_vars": {"MY_VAR": "1", "UV_CONSTRAINT": "/uv.txt"}, "other": [1]}'

REFRESH = """\
import sys
from conda_pipguard.core.locks import pipconfig
pipconfig.global_config_dirs = lambda environ: []
from conda_pipguard.core.locks.soft import refresh_soft_lock
refresh_soft_lock(sys.argv[1])
"""


@pytest.fixture
def env(kit):
    prefix = kit.create("storm", ["python", "pip"], dialect="conda")
    (prefix / "pip.conf").write_bytes(PIP_CONF)
    (prefix / "conda-meta" / "state").write_bytes(STATE)
    return prefix


def command(op: str, prefix: Path) -> list[str]:
    if op == "refresh":
        return [sys.executable, "-c", REFRESH, str(prefix)]
    return [sys.executable, "-c", PIPGUARD_LAUNCHER, "", *op.split(), "-p", str(prefix)]


def snapshot(prefix: Path) -> dict[str, bytes]:
    """The lock files (and any temporary file next to them), by prefix-relative path."""
    paths = [prefix / "pip.conf", *(prefix / "conda-meta").iterdir()]
    paths += [p for p in (prefix / "etc").rglob("*") if p.is_file()]
    paths += [p for p in prefix.glob("lib/python3*/*") if "EXTERNALLY" in p.name]
    paths += list(prefix.glob("lib/python3*/.EXTERNALLY-MANAGED*"))
    return {
        p.relative_to(prefix).as_posix(): p.read_bytes()
        for p in paths
        if p.is_file() and (p.parent.name != "conda-meta" or not p.name.endswith(".json"))
    }


def run_one(op: str, prefix: Path, home: Path) -> None:
    done = subprocess.run(
        command(op, prefix), capture_output=True, text=True, env=pipguard_env(home)
    )
    assert done.returncode == 0, f"{op}: {done.stdout}{done.stderr}"


def test_concurrent_lock_commands_end_as_a_sequential_order_would(kit, env):
    run_one("unmark", env, kit.home)
    unlocked = snapshot(env)
    assert unlocked["pip.conf"] == PIP_CONF and unlocked["conda-meta/state"] == STATE
    states = {"unlocked": unlocked}
    for name, ops in {
        "soft": ["mark --soft"],
        "hard": ["mark"],
        "soft and hard": ["mark --soft", "mark"],
    }.items():
        for op in ["unmark", *ops]:
            run_one(op, env, kit.home)
        states[name] = snapshot(env)
    assert len({tuple(sorted(s.items())) for s in states.values()}) == 4
    run_one("unmark", env, kit.home)

    rng = random.Random(20261130)
    outcomes = []
    ops = ["mark --soft", "unmark", "mark", "refresh"]
    for _ in range(ROUNDS):
        batch = [rng.choice(ops) for _ in range(PROCESSES)]
        env_vars = pipguard_env(kit.home)
        procs = [
            subprocess.Popen(
                command(op, env), env=env_vars, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for op in batch
        ]
        for op, proc in zip(batch, procs, strict=True):
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, f"{op}: {out.decode()}{err.decode()}"
        now = snapshot(env)
        matching = [name for name, state in states.items() if state == now]
        assert matching, f"not a state any sequential order gives: {sorted(now)}"
        outcomes.append(matching[0])
    print(f"storm: {ROUNDS} rounds x {PROCESSES} processes, final states {outcomes}")

    run_one("unmark", env, kit.home)
    final = snapshot(env)
    assert final["pip.conf"] == PIP_CONF
    assert final["conda-meta/state"] == STATE
    assert final == unlocked

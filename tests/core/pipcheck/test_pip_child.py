"""A child process ends within its bound, its children with it, and its output is bounded."""

from __future__ import annotations

import os
import sys
import time

import pytest

from conda_pipguard.core.pipcheck.child import run_child

#: Starts a grandchild that would outlive it, writes the grandchild's pid, then hangs.
_HANGS = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(sys.argv[1], "w").write(str(grandchild.pid))
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (killed, not yet reaped by its parent) is gone for our purpose
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")
def test_a_child_that_does_not_end_is_killed_with_its_children(tmp_path):
    pid_file = tmp_path / "grandchild"
    started = time.monotonic()
    result = run_child(
        [sys.executable, "-c", _HANGS, str(pid_file)], env=dict(os.environ), timeout=3
    )
    assert result.timed_out and not result.ok
    assert time.monotonic() - started < 30
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild)


def test_output_is_bounded_to_its_last_bytes():
    flood = "import sys\nfor i in range(200000): sys.stdout.write('%08d\\n' % i)\n"
    result = run_child([sys.executable, "-c", flood], env=dict(os.environ), timeout=60, limit=4096)
    assert result.ok and result.truncated
    assert 4096 - 9 < len(result.stdout) <= 4096  # the last bytes, from a line's start
    assert all(len(line) == 8 for line in result.stdout.splitlines())
    assert result.stdout.endswith("00199999\n")


def test_a_command_that_cannot_start_is_exit_127(tmp_path):
    result = run_child([str(tmp_path / "no-such-program")], env={}, timeout=5)
    assert result.returncode == 127 and "cannot run" in result.stderr

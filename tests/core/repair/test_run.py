"""The repair executor (core/repair/run.py) on real child processes.

Every step is a real ``python -c`` command, as every step of a real plan is a real command; what
is tested is the order, where a run stops, what it reports and how much of the output it keeps.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest

from conda_pipguard.core.errors import PackagesUnavailable
from conda_pipguard.core.repair import run
from conda_pipguard.core.repair.plan import Reinstall, RepairPlan
from conda_pipguard.core.repair.run import StepResult, conda_error, run_plan, run_step
from conda_pipguard.core.repair.steps import Step

#: Appends argv[2] to the file argv[1]: which steps ran, and in which order.
APPEND = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + chr(10))"


def python_step(code: str, *args: str, action: str = "pip-uninstall", **kwargs) -> Step:
    return Step(action, (sys.executable, "-c", code, *args), f"run {action}", **kwargs)


def appending(log: Path, name: str, action: str = "pip-uninstall") -> Step:
    return python_step(APPEND, str(log), name, action=action)


def failing(code: int, stderr: str = "", stdout: str = "", action: str = "pip-uninstall") -> Step:
    script = (
        f"import sys; sys.stdout.write({stdout!r}); sys.stderr.write({stderr!r}); sys.exit({code})"
    )
    return python_step(script, action=action)


def plan_of(tmp_path: Path, *steps: Step) -> RepairPlan:
    return RepairPlan(
        tmp_path, "broken", steps=steps, reinstalls=(Reinstall("numpy", "1.26.4", "0"),)
    )


def ran(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_every_step_runs_in_order(tmp_path):
    log = tmp_path / "log"
    steps = [appending(log, "check", "check"), appending(log, "uninstall"), appending(log, "re")]
    outcome = run_plan(plan_of(tmp_path, *steps), echo=False)
    assert outcome.ok and outcome.failed is None and outcome.not_run == ()
    assert [result.step for result in outcome.done] == steps
    assert ran(log) == ["check", "uninstall", "re"]
    assert outcome.to_dict()["ok"] is True


def test_the_run_stops_at_the_first_failing_step(tmp_path):
    log = tmp_path / "log"
    broken = failing(3, stderr="ERROR: cannot uninstall numpy\n", stdout="Found numpy 2.1.0\n")
    later = [appending(log, "remove-files"), appending(log, "conda-reinstall")]
    plan = plan_of(tmp_path, appending(log, "check", "check"), broken, *later)
    outcome = run_plan(plan, echo=False)
    assert not outcome.ok
    assert ran(log) == ["check"]
    assert [result.step for result in outcome.done] == [plan.steps[0]]
    assert outcome.failed == StepResult(
        broken, 3, "Found numpy 2.1.0\n", "ERROR: cannot uninstall numpy\n"
    )
    assert outcome.not_run == tuple(later)
    data = outcome.to_dict()
    assert data["failed"]["returncode"] == 3
    assert data["failed"]["stderr"] == "ERROR: cannot uninstall numpy\n"
    assert "stderr" not in data["done"][0]  # only a failed command's output is kept
    assert [step["command"] for step in data["not_run"]] == [step.command for step in later]


@pytest.mark.parametrize("offline", [False, True])
def test_a_failing_check_raises_and_nothing_after_it_runs(tmp_path, offline):
    log = tmp_path / "log"
    answer = json.dumps({"error": "PackagesNotFoundError: numpy=1.26.4=0", "exception_name": "x"})
    check = python_step(
        "import sys; print(sys.argv[1]); sys.exit(1)",
        answer,
        *(["--offline"] if offline else []),
        action="check",
    )
    plan = plan_of(tmp_path, check, appending(log, "pip-uninstall"), appending(log, "re"))
    with pytest.raises(PackagesUnavailable) as caught:
        run_plan(plan, echo=False)
    message = str(caught.value)
    assert message.startswith("conda cannot get numpy=1.26.4=0: PackagesNotFoundError")
    assert "nothing was changed" in message
    assert ("drop --offline" in message) is offline
    assert not log.exists()


def test_echo_relays_every_step_but_the_check(tmp_path, capsys):
    check = python_step("print('fetch' + 'ed')", action="check")
    uninstall = python_step("import sys; print('Uninstalled'); print('warned', file=sys.stderr)")
    outcome = run_plan(plan_of(tmp_path, check, uninstall), echo=True)
    assert outcome.ok
    out, err = capsys.readouterr()
    assert f"==> 1. {check.shown}" in out and f"==> 2. {uninstall.shown}" in out
    assert "fetched" not in out  # the check's JSON is for us, not for people
    assert "Uninstalled" in out and "warned" in err
    assert outcome.done[0].stdout == "fetched\n"  # kept all the same


@pytest.fixture
def silent_terminal():
    """This process's stdin is a pipe that stays open and empty while the test runs.

    A command that inherited it would wait on it for ever (as on a terminal); the teardown
    closes it, so that even such a command ends.
    """
    read, write = os.pipe()
    saved = os.dup(0)
    os.dup2(read, 0)
    try:
        yield
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read, write):
            os.close(fd)


def test_a_step_gets_its_variables_and_no_terminal(silent_terminal):
    step = python_step(
        "import os, sys; print(os.environ['CONDA_PLUGINS_PIPGUARD_MODE'], repr(sys.stdin.read()))",
        env={"CONDA_PLUGINS_PIPGUARD_MODE": "off"},
    )
    result = within(30, lambda: run_step(step, echo=False))
    assert (result.returncode, result.stdout) == (0, "off ''\n")


def test_a_command_that_cannot_start_is_exit_127(tmp_path):
    step = Step("pip-uninstall", (str(tmp_path / "no-such-python"), "-m", "pip"), "uninstall")
    result = run_step(step, echo=False)
    assert result.returncode == 127
    assert result.stderr.startswith(f"cannot run {tmp_path / 'no-such-python'}: ")


def printing(size: int) -> Step:
    """A step that prints a first line, *size* bytes, then a last line, on both streams."""
    script = (
        "import sys\n"
        "for stream in (sys.stdout, sys.stderr):\n"
        "    stream.write('FIRST LINE\\n' + 'x' * 1000 + '\\n')\n"
        f"    stream.write(('y' * 99 + '\\n') * ({size} // 100))\n"
        "    stream.write('LAST LINE\\n')\n"
    )
    return python_step(script)


def test_what_a_step_prints_is_kept_bounded_and_its_end_kept():
    size = 16 * run.OUTPUT_LIMIT
    tracemalloc.start()
    try:
        result = run_step(printing(size), echo=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.returncode == 0
    assert peak < size // 2  # never the whole output in memory, on either stream
    for kept in (result.stdout, result.stderr):
        assert len(kept.encode()) <= run.OUTPUT_LIMIT
        assert kept.endswith("y\nLAST LINE\n")  # what went wrong comes last
        assert kept.startswith("y" * 99 + "\n")  # from a whole line
        assert "FIRST LINE" not in kept


def test_echo_relays_all_of_it_and_keeps_the_end(capfd):
    size = 2 * run.OUTPUT_LIMIT
    result = run_step(printing(size), echo=True)
    out, err = capfd.readouterr()
    for relayed in (out, err):
        assert relayed.startswith("FIRST LINE\n") and relayed.endswith("LAST LINE\n")
        assert len(relayed) > size
    assert len(result.stdout.encode()) <= run.OUTPUT_LIMIT
    assert result.stdout.endswith("LAST LINE\n")


@pytest.mark.parametrize(
    ("stdout", "stderr", "expected"),
    [
        ('{"error": "PackagesNotFoundError: x", "message": "m"}', "", "PackagesNotFoundError: x"),
        (
            '{"errors": [{"error": "a"}, {"message": "b"}, {"error": "a"}]}',
            "",
            "a; b",
        ),
        ("not json", "Solving environment\nCondaHTTPError: 404\n\n", "CondaHTTPError: 404"),
        ("", "", "exit code 2"),
    ],
)
def test_conda_error_in_one_line(stdout, stderr, expected):
    step = Step("check", ("conda",), "check")
    assert conda_error(StepResult(step, 2, stdout, stderr)) == expected


def within(seconds: float, call):
    """*call*'s result, failing instead of hanging when it blocks (a child waiting on input)."""
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    return outcome[0]

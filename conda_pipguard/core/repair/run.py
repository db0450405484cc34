"""Run a repair plan: its commands in order, stop at the first that fails, say what happened.

Shared by ``conda pipguard fix`` and the fixer of ``conda doctor``. Every command is a
subprocess whose argv the plan already spelled (:mod:`.steps`; conda comes in only as the
launcher the caller passed to :func:`~.build.build_plan`), so this module imports no conda. The
plan's first step proves that conda can get every package before anything is removed; if it
fails the run stops with :class:`~..errors.RepairError` and nothing in the environment has
changed. A later step that fails stops the run too, and the :class:`Outcome` says what was done
and what was not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from ..bounded_run import Tail
from ..diagnosis import Diagnosis
from ..errors import PackagesUnavailable
from ..plurals import count_of
from ..printable import printable, printable_lines
from ..report import render_text
from .plan import RepairPlan
from .steps import Step

__all__ = ["Outcome", "StepResult", "conda_error", "render_outcome", "run_plan", "run_step"]

#: How much of a failed command's output a report keeps.
_TAIL = 2000
#: How much of each stream of a command is kept in memory: its end, where the error is.
OUTPUT_LIMIT = 1 << 20


@dataclass(frozen=True)
class StepResult:
    """How one command of the plan ended.

    Attributes:
        step: The command.
        returncode: Its exit code (127 when it could not be started).
        stdout: What it printed.
        stderr: What it printed on stderr.
    """

    step: Step
    returncode: int
    stdout: str = ""
    stderr: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form, with the tail of the output of a failed command."""
        data: dict[str, Any] = {"command": self.step.command, "returncode": self.returncode}
        if self.returncode:
            data["stdout"] = self.stdout[-_TAIL:]
            data["stderr"] = self.stderr[-_TAIL:]
        return data


@dataclass(frozen=True)
class Outcome:
    """What running a plan did.

    Attributes:
        done: The commands that succeeded, in order.
        failed: The command that failed, if one did.
        not_run: The commands after it.
    """

    done: tuple[StepResult, ...] = ()
    failed: StepResult | None = None
    not_run: tuple[Step, ...] = ()

    @property
    def ok(self) -> bool:
        """Every command succeeded."""
        return self.failed is None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "ok": self.ok,
            "done": [result.to_dict() for result in self.done],
            "failed": self.failed.to_dict() if self.failed else None,
            "not_run": [step.to_dict() for step in self.not_run],
        }


def run_step(step: Step, *, echo: bool) -> StepResult:
    """Run one command with its extra variables; relay its output as it comes when *echo*.

    Of each stream only the last :data:`OUTPUT_LIMIT` bytes are kept (from a line start): a
    command may print without end, and what went wrong comes last. What is relayed is all.
    """
    try:
        proc = subprocess.Popen(
            step.argv,
            env={**os.environ, **step.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
    except OSError as err:
        return StepResult(step, 127, "", f"cannot run {step.argv[0]}: {err.strerror or err}")
    with proc:
        assert proc.stdout is not None and proc.stderr is not None
        tails = (
            Tail(proc.stdout, OUTPUT_LIMIT, sys.stdout if echo else None),
            Tail(proc.stderr, OUTPUT_LIMIT, sys.stderr if echo else None),
        )
        texts = [tail.text() for tail in tails]
        returncode = proc.wait()
    return StepResult(step, returncode, *texts)


def conda_error(result: StepResult) -> str:
    """The error conda reported for a ``--json`` command, in one line."""
    for text in (result.stdout, result.stderr):
        try:
            data = json.loads(text)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        errors = data.get("errors") if isinstance(data.get("errors"), list) else [data]
        messages = [str(e.get("error") or e.get("message")) for e in errors if isinstance(e, dict)]
        if any(messages):
            return "; ".join(dict.fromkeys(m for m in messages if m and m != "None"))
    lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit code {result.returncode}"


def run_plan(plan: RepairPlan, *, echo: bool) -> Outcome:
    """Run the plan's commands in order; stop at the first that fails.

    Raises:
        PackagesUnavailable: The first command (conda fetching the packages) failed; nothing
            changed.
    """
    results: list[StepResult] = []
    for index, step in enumerate(plan.steps):
        if echo:
            sys.stdout.write(f"\n==> {index + 1}. {printable(step.shown)}\n")
            sys.stdout.flush()
        result = run_step(step, echo=echo and step.action != "check")
        if result.returncode == 0:
            results.append(result)
            continue
        if step.action == "check":
            hint = "check the channel" + (", or drop --offline" if "--offline" in step.argv else "")
            raise PackagesUnavailable(plan.specs, conda_error(result), hint)
        return Outcome(tuple(results), result, plan.steps[index + 1 :])
    return Outcome(tuple(results))


def render_outcome(outcome: Outcome, plan: RepairPlan, after: Diagnosis, *, colour: bool) -> str:
    """What was done, what failed and was not run, then the environment's state now."""
    lines = []
    if outcome.ok:
        count = len(plan.steps)
        lines.append(
            "\nDone: the command succeeded."
            if count == 1
            else f"\nDone: all {count_of(count, 'command')} succeeded."
        )
    else:
        assert outcome.failed is not None
        failed = outcome.failed
        number = len(outcome.done) + 1
        lines.append(f"\nCommand {number} failed (exit code {failed.returncode}):")
        lines.append(f"  {failed.step.shown}")
        lines.extend(f"  | {line}" for line in conda_error(failed).splitlines())
        done = ", ".join(str(n) for n in range(1, number)) or "none"
        lines.append(f"Done: {done}. Not run:")
        lines.extend(
            f"  {number + offset}. {step.shown}"
            for offset, step in enumerate(outcome.not_run, start=1)
        )
        lines.append("Fix the cause, then run `fix` again (it plans from what is there now).")
    return printable_lines(lines) + "\nNow: " + render_text(after, colour=colour)

"""``conda pipguard fix``: give conda its packages back, safely and in the open.

The plan comes from :mod:`conda_pipguard.core.repair`; this module shows it, asks, runs it and
scans again. Every command is a subprocess: the env's own pip for the uninstalls (without pip in
the env, this interpreter removes exactly the files the distribution's RECORD lists), and conda
(``sys.executable -m conda`` inside conda, ``$CONDA_EXE`` standalone) for the rest. The plan's
first step proves that conda can get every package before anything is removed; if it fails the
run stops with an error and nothing in the environment has changed. A later step that fails stops
the run too, and the report says what was done and what was not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from ..core.diagnosis import Diagnosis, diagnose
from ..core.errors import PipguardError
from ..core.repair import RepairError, RepairPlan, Step, build_plan, render_plan
from ..core.report import render_text, use_colour
from .common import Target
from .host import Host

SUMMARY = "Repair what pip did: remove the non-conda copies, let conda reinstall its own."

#: How much of a failed command's output a report keeps.
_TAIL = 2000


def configure_parser(parser: argparse.ArgumentParser, host: Host) -> None:
    """Declare the options of ``fix``."""
    host.add_target_options(parser)
    host.add_output_options(parser, dry_run=True, yes=True)
    host.add_offline_option(parser)


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
    """Run one command with its extra variables; relay its output when *echo*."""
    try:
        proc = subprocess.run(
            step.argv,
            env={**os.environ, **step.env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as err:
        return StepResult(step, 127, "", f"cannot run {step.argv[0]}: {err.strerror or err}")
    if echo:
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        sys.stdout.flush()
    return StepResult(step, proc.returncode, proc.stdout, proc.stderr)


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
        RepairError: The first command (conda fetching the packages) failed; nothing changed.
    """
    results: list[StepResult] = []
    for index, step in enumerate(plan.steps):
        if echo:
            sys.stdout.write(f"\n==> {index + 1}. {step.shown}\n")
            sys.stdout.flush()
        result = run_step(step, echo=echo and step.action != "check")
        if result.returncode == 0:
            results.append(result)
            continue
        if step.action == "check":
            hint = "check the channel" + (", or drop --offline" if "--offline" in step.argv else "")
            raise RepairError(
                f"conda cannot get {', '.join(plan.specs)}: {conda_error(result)}; "
                f"nothing was changed ({hint})"
            )
        return Outcome(tuple(results), result, plan.steps[index + 1 :])
    return Outcome(tuple(results))


def render_outcome(outcome: Outcome, plan: RepairPlan, after: Diagnosis, *, colour: bool) -> str:
    """What was done, what failed and was not run, then the environment's state now."""
    lines = []
    if outcome.ok:
        lines.append(f"\nDone: all {len(plan.steps)} commands succeeded.")
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
    lines.append("Now: " + render_text(after, colour=colour))
    return "\n".join(lines)


def plan_for(target: Target, host: Host, *, offline: bool) -> tuple[Diagnosis, RepairPlan]:
    """Scan *target* and plan its repair, spelling conda as it will be run.

    The standalone command without ``$CONDA_EXE`` spells it ``conda``: that plan can be shown,
    not run.
    """
    diagnosis = diagnose(target.prefix, target.name, matcher=host.matcher_factory()())
    launcher = host.conda_launcher() or ("conda",)
    return diagnosis, build_plan(diagnosis, conda=launcher, offline=offline)


def execute(args: argparse.Namespace, host: Host) -> int:
    """Run ``fix``; return the exit code (1 when a command failed).

    A dry run with a plan ends as the host ends dry runs; inside conda ``--json`` means yes.

    Raises:
        RepairError: The plan cannot run (no pip, conda cannot get a package); nothing changed.
    """
    flags = host.flags(args)
    (target,) = host.targets(args)[:1]
    _, plan = plan_for(target, host, offline=flags.offline)
    runs = bool(plan.steps) and not flags.dry_run
    needs_conda = any(step.action in ("check", "conda-reinstall") for step in plan.steps)
    if runs and needs_conda and host.conda_launcher() is None:
        raise PipguardError(
            "conda-pipguard fix needs conda to reinstall packages: set CONDA_EXE to your conda "
            "executable, or run `conda pipguard fix`"
        )
    if flags.json and runs and not flags.yes:
        raise PipguardError("--json cannot ask for confirmation: add -y, or --dry-run")
    if not flags.json:
        sys.stdout.write(render_plan(plan) + "\n")
        sys.stdout.flush()
    if plan.blockers:
        raise RepairError(f"cannot repair {target.prefix}: {'; '.join(plan.blockers)}")
    if not runs:
        if flags.json:
            host.print_json(
                {"prefix": str(plan.prefix), "dry_run": flags.dry_run, "plan": plan.to_dict()}
            )
        return host.dry_run_done() if plan.steps else 0
    if not flags.yes and not host.confirm("Run these commands"):
        sys.stdout.write("Nothing was changed.\n")
        return 0
    outcome = run_plan(plan, echo=not flags.silent)
    after = diagnose(target.prefix, target.name, matcher=host.matcher_factory()())
    if flags.json:
        host.print_json(
            {
                "prefix": str(plan.prefix),
                "dry_run": False,
                "plan": plan.to_dict(),
                "run": outcome.to_dict(),
                "after": after.to_dict(),
            }
        )
    else:
        sys.stdout.write(render_outcome(outcome, plan, after, colour=use_colour(sys.stdout)) + "\n")
    return 0 if outcome.ok else 1

"""``conda pipguard fix``: give conda its packages back, safely and in the open.

The plan comes from :mod:`conda_pipguard.core.repair`; this module shows it, asks, runs it
(:mod:`conda_pipguard.core.repair.run`, shared with ``conda doctor --fix``) and scans again.
Every command is a subprocess: the env's own pip for the uninstalls (without pip in
the env, this interpreter removes exactly the files the distribution's RECORD lists), and conda
(``sys.executable -m conda`` inside conda, ``$CONDA_EXE`` standalone) for the rest. The plan's
first step proves that conda can get every package before anything is removed; if it fails the
run stops with an error and nothing in the environment has changed. A later step that fails stops
the run too, and the report says what was done and what was not.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..core.errors import UsageError
from .common import Target
from .host import Host

if TYPE_CHECKING:
    from ..core.diagnosis import Diagnosis
    from ..core.repair.plan import RepairPlan

SUMMARY = "Repair what pip did: remove the non-conda copies, let conda reinstall its own."


def configure_parser(parser: argparse.ArgumentParser, host: Host) -> None:
    """Declare the options of ``fix``."""
    host.add_target_options(parser)
    host.add_output_options(parser, dry_run=True, yes=True)
    host.add_offline_option(parser)
    host.add_frozen_option(parser)


def plan_for(target: Target, host: Host, *, offline: bool) -> tuple[Diagnosis, RepairPlan]:
    """Scan *target* and plan its repair, spelling conda as it will be run.

    The standalone command without ``$CONDA_EXE`` spells it ``conda``: that plan can be shown,
    not run. In a frozen environment (the caller let it through) conda's commands carry
    ``--override-frozen``.
    """
    from ..core.diagnosis import diagnose  # not at import: building the parser imports each verb
    from ..core.repair.build import build_plan
    from ..core.repair.plan import override_frozen

    diagnosis = diagnose(target.prefix, target.name, matcher=host.matcher_factory()())
    launcher = host.conda_launcher() or ("conda",)
    return diagnosis, override_frozen(build_plan(diagnosis, conda=launcher, offline=offline))


def execute(args: argparse.Namespace, host: Host) -> int:
    """Run ``fix``; return the exit code (1 when a command failed).

    A dry run with a plan ends as the host ends dry runs; inside conda ``--json`` means yes.

    Raises:
        EnvironmentFrozen: The env is frozen and ``--override-frozen`` was not given (first).
        PackagesUnavailable: conda cannot get a package; nothing changed.
        UsageError: conda is not at hand, or --json without -y.
    """
    from ..core.diagnosis import diagnose
    from ..core.disk.frozen import refuse_if_frozen
    from ..core.repair.build import render_plan
    from ..core.repair.run import render_outcome, run_plan
    from ..core.report import use_colour

    flags = host.flags(args)
    (target,) = host.targets(args)[:1]
    refuse_if_frozen(target.prefix, override=flags.override_frozen, verb="fix")
    _, plan = plan_for(target, host, offline=flags.offline)
    runs = bool(plan.steps) and not flags.dry_run
    needs_conda = any(step.action in ("check", "conda-reinstall") for step in plan.steps)
    if runs and needs_conda and host.conda_launcher() is None:
        raise UsageError(
            "conda-pipguard fix needs conda to reinstall packages",
            "set CONDA_EXE to your conda executable, or run `conda pipguard fix`",
        )
    if flags.json and runs and not flags.yes:
        raise UsageError("--json cannot ask for confirmation", "add -y, or --dry-run")
    if not flags.json:
        sys.stdout.write(render_plan(plan) + "\n")
        sys.stdout.flush()
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

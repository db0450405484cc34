"""The ``pipguard`` health check of ``conda doctor``: the findings of ``status``, compact.

The check only reads. On conda >= 26.1 it comes with a fixer, which runs the repair plan of
``conda pipguard fix`` after conda's own confirmation (``conda doctor --fix pipguard``); older
conda has neither the fixer nor the ``summary``/``fix`` fields, and gets the check alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from typing import Any

from ..core.diagnosis import Diagnosis, diagnose
from ..core.repair.build import RepairError, build_plan, render_plan
from ..core.repair.run import render_outcome, run_plan
from ..core.rules.findings import agree, count_of
from ..core.rules.kinds import Severity
from .matcher import conda_matcher

NAME = "pipguard"
SUMMARY = "Detect Python packages pip (or another installer) put over conda's"
FIX = "Uninstall the non-conda copies, then reinstall conda's exact packages"

#: How many findings the compact report names before summing up the rest.
_SHOWN = 10


def _marks() -> tuple[str, str]:
    """The check marks of conda (``conda.base.constants`` from 26.1; the same characters before)."""
    from conda.base import constants

    return getattr(constants, "OK_MARK", "\u2705"), getattr(constants, "X_MARK", "\u274c")


def _scan(prefix: str) -> Diagnosis:
    from .context import target_of

    return diagnose(prefix, target_of(prefix).name, matcher=conda_matcher())


def render_check(diagnosis: Diagnosis, *, verbose: bool, ok_mark: str, x_mark: str) -> str:
    """The report of the check: one line when nothing is wrong, else one line per finding."""
    analysis = diagnosis.analysis
    findings = analysis.findings
    problems = [f for f in findings if f.level >= Severity.WARNING]
    target = diagnosis.env.target_flag
    if not problems:
        if not analysis.non_conda:
            return f"{ok_mark} Every Python package in this environment came from conda.\n"
        names = ", ".join(f"{f.distribution or f.location} ({f.kind})" for f in findings[:_SHOWN])
        more = f" and {len(findings) - _SHOWN} more" if len(findings) > _SHOWN else ""
        return (
            f"{ok_mark} {count_of(len(analysis.non_conda), 'Python package')} did not come from "
            f"conda, and {agree(len(analysis.non_conda), 'it did not', 'none of them')} "
            f"{agree(len(analysis.non_conda), 'replace', 'replaced')} conda's: {names}{more}.\n"
        )
    lines = [
        f"{x_mark} Python packages from pip damage conda's ({diagnosis.verdict}): "
        f"{count_of(len(problems), 'problem')}.\n"
    ]
    shown = findings if verbose else problems[:_SHOWN]
    for finding in shown:
        lines.append(f"  {finding.level!s:<7} {finding.kind}: {finding.message}")
        if verbose and finding.fix:
            lines.append(f"          fix: {finding.fix}")
    if len(shown) < len(findings if verbose else problems):
        lines.append(f"  ... and {len(problems) - len(shown)} more (conda doctor -v)")
    lines.append(
        f"\n  Details: conda pipguard status {target}\n"
        f"  Repair:  conda pipguard fix {target}   (or: conda doctor --fix {NAME})\n"
    )
    return "\n".join(lines)


def check(prefix: str, verbose: bool) -> None:
    """The health check's action: print the compact report for *prefix*."""
    ok_mark, x_mark = _marks()
    report = render_check(_scan(prefix), verbose=verbose, ok_mark=ok_mark, x_mark=x_mark)
    sys.stdout.write("\n" + report + "\n")  # apart from conda's own lines above


def fixer(prefix: str, args: argparse.Namespace, confirm: Callable[[str], Any]) -> int:
    """The health check's fixer: show the repair plan, confirm with conda, run it.

    ``confirm`` raises (``CondaSystemExit`` on no, ``DryRunExit`` on ``--dry-run``) before any
    change. Returns 1 when the plan cannot run or one of its commands failed.
    """
    from conda.base.context import context

    from .host import conda_launcher

    diagnosis = _scan(prefix)
    plan = build_plan(diagnosis, conda=conda_launcher(), offline=context.offline)
    sys.stdout.write(render_plan(plan) + "\n")
    if plan.blockers:
        return 1
    if not plan.steps:
        return 0
    confirm("Run these commands?")
    try:
        outcome = run_plan(plan, echo=not context.quiet)
    except RepairError as err:
        sys.stderr.write(f"{NAME}: {err}\n")
        return 1
    after = diagnose(prefix, diagnosis.env.name, matcher=conda_matcher())
    sys.stdout.write(render_outcome(outcome, plan, after, colour=False) + "\n")
    return 0 if outcome.ok else 1


def conda_has_fixers() -> bool:
    """Whether this conda's health checks take a fixer (26.1+: ``conda doctor --fix``)."""
    from conda.plugins.types import CondaHealthCheck

    return "fixer" in getattr(CondaHealthCheck, "__dataclass_fields__", {})


def health_checks() -> Iterator[Any]:
    """The ``CondaHealthCheck`` of this module, with the fixer where conda knows fixers."""
    from conda.plugins.types import CondaHealthCheck

    if conda_has_fixers():
        yield CondaHealthCheck(name=NAME, action=check, fixer=fixer, summary=SUMMARY, fix=FIX)
    else:  # conda < 26.1: a NamedTuple of (name, action)
        yield CondaHealthCheck(name=NAME, action=check)

"""The ``pipguard`` health check of ``conda doctor``: the findings of ``status``, compact.

conda's own checks already list conda's files that changed or went (``altered-files`` and
``missing-files``; "Altered Files" and "Missing Files" before 26.1). Inside ``conda doctor`` this
check says what only it knows (which distribution, from which installer, did what to which
conda package, what broke, the fix) and leaves the files to those checks: its lines carry no
file counts or paths, and one line says where the files are listed (and which packages conda's
``altered-files`` cannot look into: it skips the files of ``noarch: python`` packages).

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
from ..core.errors import EnvironmentFrozen, RepairError
from ..core.plurals import agree, count_of
from ..core.printable import printable
from ..core.repair.build import build_plan, render_plan
from ..core.repair.run import render_outcome, run_plan
from ..core.rules.findings import Finding
from ..core.rules.kinds import Severity
from .matcher import conda_matcher

NAME = "pipguard"
SUMMARY = "Detect Python packages pip (or another installer) put over conda's"
FIX = "Uninstall the non-conda copies, then reinstall conda's exact packages"

#: How many findings the compact report names before summing up the rest.
_SHOWN = 10

#: conda's checks of its own files, as 26.1+ and older conda name them.
_CONDA_FILE_CHECKS = ("altered-files", "missing-files", "Altered Files", "Missing Files")


def _marks() -> tuple[str, str]:
    """The check marks of conda (``conda.base.constants`` from 26.1; the same characters before)."""
    from conda.base import constants

    return getattr(constants, "OK_MARK", "\u2705"), getattr(constants, "X_MARK", "\u274c")


def _scan(prefix: str) -> Diagnosis:
    from .context import target_of

    return diagnose(prefix, target_of(prefix).name, matcher=conda_matcher())


def conda_file_checks() -> tuple[str, ...]:
    """The names of this conda's own checks that list its changed and missing files."""
    from conda.base.context import context

    names = {check.name for check in context.plugin_manager.get_hook_results("health_checks")}
    return tuple(name for name in _CONDA_FILE_CHECKS if name in names)


def _files_line(findings: list[Finding], checks: tuple[str, ...], target: str) -> str:
    """Where conda's own checks list the files of *findings*."""
    if checks[0][0].islower():  # conda >= 26.1: checks run by name
        where = f"conda doctor -v {target} {' '.join(checks)}"
    else:
        where = f"conda doctor -v {target} ({', '.join(checks)})"
    line = f"  Files:   conda's own checks list them: {where}"
    noarch = sorted(
        {f.record.name for f in findings if f.record is not None and f.record.noarch == "python"}
    )
    altered = [check for check in checks if check.lower().startswith("altered")]
    if noarch and altered:
        line += (
            f"; {altered[0]} skips noarch: python packages ({', '.join(noarch)}): "
            f"conda pipguard status {target} counts their files"
        )
    return line


def render_check(
    diagnosis: Diagnosis,
    *,
    verbose: bool,
    ok_mark: str,
    x_mark: str,
    file_checks: tuple[str, ...] = (),
) -> str:
    """The report of the check: one line when nothing is wrong, else one line per finding.

    With *file_checks* (conda's own checks of its files), the lines leave conda's files to them.
    """
    analysis = diagnosis.analysis
    findings = analysis.findings
    problems = [f for f in findings if f.level >= Severity.WARNING]
    target = diagnosis.env.target_flag
    if not problems:
        if not analysis.non_conda:
            return f"{ok_mark} Every Python package in this environment came from conda.\n"
        names = printable(
            ", ".join(f"{f.distribution or f.location} ({f.kind})" for f in findings[:_SHOWN])
        )
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
        message = (finding.brief or finding.message) if file_checks else finding.message
        lines.append(printable(f"  {finding.level!s:<7} {finding.kind}: {message}"))
        if verbose and finding.fix:
            lines.append(printable(f"          fix: {finding.fix}"))
    if len(shown) < len(findings if verbose else problems):
        lines.append(f"  ... and {len(problems) - len(shown)} more (conda doctor -v)")
    lines.append("")
    about_files = [f for f in shown if f.brief]
    if file_checks and about_files:
        lines.append(_files_line(about_files, file_checks, target))
    lines.append(
        f"  Details: conda pipguard status {printable(target)}\n"
        f"  Repair:  conda pipguard fix {printable(target)}   (or: conda doctor --fix {NAME})\n"
    )
    return "\n".join(lines)


def check(prefix: str, verbose: bool) -> None:
    """The health check's action: print the compact report for *prefix*."""
    ok_mark, x_mark = _marks()
    report = render_check(
        _scan(prefix),
        verbose=verbose,
        ok_mark=ok_mark,
        x_mark=x_mark,
        file_checks=conda_file_checks(),
    )
    sys.stdout.write("\n" + report + "\n")  # apart from conda's own lines above


def fixer(prefix: str, args: argparse.Namespace, confirm: Callable[[str], Any]) -> int:
    """The health check's fixer: show the repair plan, confirm with conda, run it.

    ``confirm`` raises (``CondaSystemExit`` on no, ``DryRunExit`` on ``--dry-run``) before any
    change. Returns 1 when the environment is frozen (without ``--override-frozen``), the plan
    cannot run or one of its commands failed.
    """
    from conda.base.context import context

    from ..core.disk.frozen import refuse_if_frozen
    from ..core.repair.plan import override_frozen
    from .host import conda_launcher

    try:  # conda doctor has conda's --override-frozen; conda's own fixers honour it too
        refuse_if_frozen(prefix, override=not context.protect_frozen_envs, verb="fix")
    except EnvironmentFrozen as err:
        sys.stderr.write(f"{NAME}: {err}\n")
        return 1
    diagnosis = _scan(prefix)
    plan = override_frozen(build_plan(diagnosis, conda=conda_launcher(), offline=context.offline))
    sys.stdout.write(render_plan(plan) + "\n")
    if not plan.steps:
        return 0
    confirm("Run these commands?")
    try:
        outcome = run_plan(plan, echo=not context.quiet)
    except RepairError as err:
        sys.stderr.write(printable(f"{NAME}: {err}") + "\n")
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

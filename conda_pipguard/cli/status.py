"""``conda pipguard status``: a read-only diagnosis of what non-conda installers did."""

from __future__ import annotations

import argparse
import json
import sys

from ..core.diagnosis import diagnose
from ..core.findings import Severity
from ..core.report import use_colour
from .common import add_output_options, add_target_options, is_quiet, resolve_targets
from .fleet import (
    EnvReport,
    Options,
    default_jobs,
    examine_all,
    matcher_for,
    report_of,
    summary_table,
)

SUMMARY = "Show which Python packages in an environment did not come from conda, and the fixes."

#: Exit code of ``status --all`` when an environment could not be diagnosed.
FAILED_EXIT = 2


def configure_parser(parser: argparse.ArgumentParser, *, with_conda: bool = False) -> None:
    """Declare the options of ``status``."""
    add_target_options(parser, with_conda=with_conda)
    add_output_options(parser, with_conda=with_conda)
    parser.add_argument(
        "--fail-on",
        choices=("info", "warning", "error"),
        help="Exit with 1 when a finding at or above this severity exists (for CI).",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="With --all: diagnose N environments at a time in worker processes (0: one per CPU).",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="Also import the conda packages involved in a finding with the env's own Python "
        "(isolated, writes nothing) and report those that fail.",
    )
    parser.add_argument(
        "--verify-timeout",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="With --verify: time allowed to import one package (default: 20).",
    )


def _single(args: argparse.Namespace, options: Options) -> list[EnvReport]:
    target = resolve_targets(args, with_conda=options.with_conda)[0]
    diagnosis = diagnose(target.prefix, target.name, matcher=matcher_for(options.with_conda))
    return [report_of(diagnosis, options)]


def _many(args: argparse.Namespace, options: Options) -> list[EnvReport]:
    targets = [
        (str(t.prefix), t.name) for t in resolve_targets(args, with_conda=options.with_conda)
    ]
    jobs = args.jobs if args.jobs > 0 else default_jobs()
    show_progress = len(targets) > 3 and not is_quiet(args) and sys.stderr.isatty()
    reports = []
    for number, report in enumerate(examine_all(targets, options, jobs=jobs), start=1):
        if show_progress:
            sys.stderr.write(f"\rscanned {number}/{len(targets)}: {report.prefix}\033[K")
        reports.append(report)
    if show_progress:
        sys.stderr.write("\r\033[K")
    return reports


def execute(args: argparse.Namespace, *, with_conda: bool = False) -> int:
    """Run ``status``; return the exit code."""
    many = bool(getattr(args, "all_envs", False))
    options = Options(
        with_conda=with_conda,
        colour=use_colour(sys.stdout) and not getattr(args, "json", False),
        verify=bool(getattr(args, "verify", False)),
        verify_timeout=float(getattr(args, "verify_timeout", 20.0)),
    )
    reports = _many(args, options) if many else _single(args, options)
    diagnosed = [r for r in reports if not (r.failed or r.skipped)]
    if getattr(args, "json", False):
        if many:
            data: dict = {"environments": [r.data for r in reports if not r.skipped]}
            skipped = [{"prefix": r.prefix, "reason": r.problem} for r in reports if r.skipped]
            if skipped:
                data["skipped"] = skipped
        else:
            data = reports[0].data
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif many:
        blocks = [r.text for r in reports]
        sys.stdout.write("\n\n".join([*blocks, summary_table(reports)]) + "\n")
    else:
        sys.stdout.write(reports[0].text + "\n")
    code = 0
    fail_on = getattr(args, "fail_on", None)
    if fail_on:
        levels = [r.worst for r in diagnosed if r.worst is not None]
        if levels and max(levels) >= Severity.parse(fail_on):
            code = 1
    if any(r.failed for r in reports):
        code = FAILED_EXIT
    return code

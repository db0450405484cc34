"""``conda pipguard status``: a read-only diagnosis of what non-conda installers did."""

from __future__ import annotations

import argparse
import sys

from ..core.diagnosis import diagnose
from ..core.printable import printable
from ..core.report import use_colour
from ..core.rules.kinds import Severity
from .envreport import EnvReport, Options, matcher_for, report_of
from .fleet import default_jobs, examine_all, summary_table
from .host import Flags, Host

SUMMARY = "Show which Python packages in an environment did not come from conda, and the fixes."

#: Exit code of ``status --all`` when an environment could not be diagnosed.
FAILED_EXIT = 2


def configure_parser(parser: argparse.ArgumentParser, host: Host) -> None:
    """Declare the options of ``status``."""
    host.add_target_options(parser, many=True)
    host.add_output_options(parser)
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


def _single(args: argparse.Namespace, host: Host, options: Options) -> list[EnvReport]:
    target = host.targets(args)[0]
    diagnosis = diagnose(target.prefix, target.name, matcher=matcher_for(options))
    return [report_of(diagnosis, options)]


def _many(args: argparse.Namespace, host: Host, options: Options, flags: Flags) -> list[EnvReport]:
    targets = [(str(t.prefix), t.name) for t in host.targets(args)]
    jobs = args.jobs if args.jobs > 0 else default_jobs()
    show_progress = len(targets) > 3 and not flags.silent and sys.stderr.isatty()
    reports = []
    for number, report in enumerate(examine_all(targets, options, jobs=jobs), start=1):
        if show_progress:
            said = printable(f"scanned {number}/{len(targets)}: {report.prefix}")
            sys.stderr.write(f"\r{said}\033[K")
        reports.append(report)
    if show_progress:
        sys.stderr.write("\r\033[K")
    return reports


def execute(args: argparse.Namespace, host: Host) -> int:
    """Run ``status``; return the exit code."""
    many = bool(getattr(args, "all_envs", False))
    flags = host.flags(args)
    options = Options(
        matcher_factory=host.matcher_factory(),
        colour=use_colour(sys.stdout) and not flags.json,
        verify=bool(getattr(args, "verify", False)),
        verify_timeout=float(getattr(args, "verify_timeout", 20.0)),
    )
    reports = _many(args, host, options, flags) if many else _single(args, host, options)
    diagnosed = [r for r in reports if not (r.failed or r.skipped)]
    if flags.json:
        if many:
            data: dict = {"environments": [r.data for r in reports if not r.skipped]}
            skipped = [{"prefix": r.prefix, "reason": r.problem} for r in reports if r.skipped]
            if skipped:
                data["skipped"] = skipped
        else:
            data = reports[0].data
        host.print_json(data)
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

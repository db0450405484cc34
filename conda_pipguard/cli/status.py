"""``conda pipguard status``: a read-only diagnosis of what non-conda installers did."""

from __future__ import annotations

import argparse
import sys

from ..core.diagnosis import Diagnosis, diagnose
from ..core.findings import Severity
from ..core.report import render_many_text, render_text, to_json, use_colour, worst
from ..core.versionspec import Matcher
from .common import add_output_options, add_target_options, is_quiet, resolve_targets

SUMMARY = "Show which Python packages in an environment did not come from conda, and the fixes."


def configure_parser(parser: argparse.ArgumentParser, *, with_conda: bool = False) -> None:
    """Declare the options of ``status``."""
    add_target_options(parser, with_conda=with_conda)
    add_output_options(parser, with_conda=with_conda)
    parser.add_argument(
        "--fail-on",
        choices=("info", "warning", "error"),
        help="Exit with 1 when a finding at or above this severity exists (for CI).",
    )


def _matcher(with_conda: bool) -> Matcher | None:
    if not with_conda:
        return None
    from ..guard.matcher import conda_matcher

    return conda_matcher()


def execute(args: argparse.Namespace, *, with_conda: bool = False) -> int:
    """Run ``status``; return the exit code."""
    targets = resolve_targets(args, with_conda=with_conda)
    matcher = _matcher(with_conda)
    many = bool(getattr(args, "all_envs", False))
    show_progress = many and len(targets) > 3 and not is_quiet(args) and sys.stderr.isatty()
    diagnoses: list[Diagnosis] = []
    for number, target in enumerate(targets, start=1):
        if show_progress:
            sys.stderr.write(f"\rscanning {number}/{len(targets)}: {target.prefix}\033[K")
        diagnoses.append(diagnose(target.prefix, target.name, matcher=matcher))
    if show_progress:
        sys.stderr.write("\r\033[K")
    if getattr(args, "json", False):
        sys.stdout.write(to_json(diagnoses, many=many) + "\n")
    else:
        colour = use_colour(sys.stdout)
        text = (
            render_many_text(diagnoses, colour=colour)
            if many
            else render_text(diagnoses[0], colour=colour)
        )
        sys.stdout.write(text + "\n")
    fail_on = getattr(args, "fail_on", None)
    if fail_on:
        level = worst(diagnoses)
        if level is not None and level >= Severity.parse(fail_on):
            return 1
    return 0

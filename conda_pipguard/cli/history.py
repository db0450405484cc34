"""``conda pipguard history``: the whole incident, oldest first, and since when it is broken."""

from __future__ import annotations

import argparse
import json
import sys

from ..core.diagnosis import diagnose
from ..core.provenance import read_stamps
from ..core.timeline import Timeline, build_timeline
from ..core.timeline_text import render_timeline
from .common import add_output_options, resolve_targets
from .fix import add_target_option
from .fleet import matcher_for

SUMMARY = "Tell what happened to an environment: conda's changes and pip's installs, in order."


def configure_parser(parser: argparse.ArgumentParser, *, with_conda: bool = False) -> None:
    """Declare the options of ``history``."""
    add_target_option(parser, with_conda=with_conda)
    add_output_options(parser, with_conda=with_conda)


def timeline_of(prefix: str, name: str | None = None, *, with_conda: bool = False) -> Timeline:
    """Read, diagnose and date the env at *prefix* (read-only)."""
    diagnosis = diagnose(prefix, name, matcher=matcher_for(with_conda))
    analysis = diagnosis.analysis
    stamps = read_stamps(diagnosis.env, analysis.non_conda)
    return build_timeline(
        diagnosis.env, analysis.findings, analysis.non_conda, stamps, diagnosis.verdict
    )


def execute(args: argparse.Namespace, *, with_conda: bool = False) -> int:
    """Run ``history``; return the exit code."""
    target = resolve_targets(args, with_conda=with_conda)[0]
    timeline = timeline_of(str(target.prefix), target.name, with_conda=with_conda)
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(timeline.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(render_timeline(timeline) + "\n")
    return 0

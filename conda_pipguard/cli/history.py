"""``conda pipguard history``: the whole incident, oldest first, and since when it is broken."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .host import Host

if TYPE_CHECKING:
    from ..core.incident.timeline import Timeline
    from ..core.rules.versionspec import Matcher

SUMMARY = "Tell what happened to an environment: conda's changes and pip's installs, in order."


def configure_parser(parser: argparse.ArgumentParser, host: Host) -> None:
    """Declare the options of ``history``."""
    host.add_target_options(parser)
    host.add_output_options(parser)


def timeline_of(
    prefix: str, name: str | None = None, *, matcher: Matcher | None = None
) -> Timeline:
    """Read, diagnose and date the env at *prefix* (read-only)."""
    from ..core.diagnosis import diagnose  # not at import: building the parser imports each verb
    from ..core.incident.provenance import read_stamps
    from ..core.incident.timeline import build_timeline

    diagnosis = diagnose(prefix, name, matcher=matcher)
    analysis = diagnosis.analysis
    stamps = read_stamps(diagnosis.env, analysis.non_conda)
    return build_timeline(
        diagnosis.env, analysis.findings, analysis.non_conda, stamps, diagnosis.verdict
    )


def execute(args: argparse.Namespace, host: Host) -> int:
    """Run ``history``; return the exit code."""
    from ..core.incident.timeline_text import render_timeline

    target = host.targets(args)[0]
    matcher = host.matcher_factory()()
    timeline = timeline_of(str(target.prefix), target.name, matcher=matcher)
    if host.flags(args).json:
        host.print_json(timeline.to_dict())
    else:
        sys.stdout.write(render_timeline(timeline) + "\n")
    return 0

"""Findings -> text for people and JSON for machines."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, TextIO

from .diagnosis import Diagnosis
from .disk.frozen import OVERRIDE
from .plurals import count_of
from .printable import printable
from .rules.kinds import Severity

_COLOURS = {
    Severity.ERROR: "31",
    Severity.WARNING: "33",
    Severity.INFO: "36",
    "broken": "1;31",
    "at-risk": "1;33",
    "pip-touched": "1;36",
    "clean": "1;32",
}


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set or ``TERM=dumb``."""
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _paint(text: str, key: Any, colour: bool) -> str:
    return f"\033[{_COLOURS[key]}m{text}\033[0m" if colour else text


def render_text(diagnosis: Diagnosis, *, colour: bool = False) -> str:
    """A verdict line, a summary line, then one line per finding with its fix, worst first.

    Every line is made :func:`~.printable.printable` before it is coloured.
    """
    env, analysis = diagnosis.env, diagnosis.analysis
    title = printable(f"{env.name} ({env.prefix})" if env.name else str(env.prefix))
    lines = [f"{title}: {_paint(diagnosis.verdict, diagnosis.verdict, colour)}"]
    python = f"Python {env.python.version}" if env.python else "no Python"
    summary = (
        f"  {python}, {count_of(len(env.records), 'conda package')}, "
        f"{count_of(len(env.distributions), 'Python distribution')} "
        f"({len(analysis.non_conda)} not from conda), "
        f"pip lock: {diagnosis.marker.state}"
        + (
            f" (bypassed by {', '.join(diagnosis.marker.bypassed_by)})"
            if diagnosis.marker.bypassed_by and diagnosis.marker.state != "absent"
            else ""
        )
    )
    lines.append(printable(summary))
    if diagnosis.frozen is not None:
        lines.append(
            printable(
                f"  {diagnosis.frozen.describe()}: conda and pipguard change nothing here "
                f"without {OVERRIDE}"
            )
        )
    soft = diagnosis.marker.soft
    if soft is not None:
        lines.append(f"  soft lock: {soft.held_text()}")
    if soft is not None and (soft.stale_pins or soft.unpinned):
        stale = [*soft.stale_pins, *(f"{name} (not pinned)" for name in soft.unpinned)]
        lines.append(
            printable(
                f"  soft-lock pins out of date: {', '.join(stale)}; "
                f"refresh them: conda pipguard mark --soft {env.target_flag}"
            )
        )
    overrides = soft.overrides if soft is not None else ()
    lines += [printable(f"  soft lock: {line}") for line in overrides]
    width = max((len(f.kind) for f in analysis.findings), default=0)
    for finding in analysis.findings:
        level = _paint(f"{finding.level!s:<7}", finding.level, colour)
        lines.append(f"  {level} {printable(f'{finding.kind:<{width}}  {finding.message}')}")
        if finding.fix:
            lines.append(printable(f"  {'':<7} {'':<{width}}  fix: {finding.fix}"))
    if not analysis.findings:
        lines.append("  nothing to report: every Python distribution here came from conda")
    return "\n".join(lines)


def to_json(diagnoses: Iterable[Diagnosis], *, many: bool) -> str:
    """``status --json``: one object, or ``{"environments": [...]}`` with ``--all``."""
    objects = [diagnosis.to_dict() for diagnosis in diagnoses]
    data: dict[str, Any] = {"environments": objects} if many else objects[0]
    return json.dumps(data, indent=2, sort_keys=False)

"""A :class:`~conda_pipguard.core.incident.timeline.Timeline` as text for people."""

from __future__ import annotations

from ..printable import printable_lines
from ..rules.kinds import Severity
from .timeline import Effect, Event, Timeline, format_time

_MARKS = {Severity.ERROR: "!", Severity.WARNING: "~", Severity.INFO: " "}


def _effect_line(effect: Effect, indent: str) -> str:
    return f"{indent}{_MARKS[effect.severity]} {effect.text}"


def _event_lines(event: Event, breaks_here: bool, width: int) -> list[str]:
    when = format_time(event.when) or "unknown time"
    indent = " " * (len(when) + 2 + width + 2)
    head = f"{when:<16}  {event.source:<{width}}  "
    if event.source == "conda":
        lines = [head + (event.command or "(command not recorded)")]
        lines.append(indent + event.summary.removeprefix("conda "))
    else:
        lines = [head + event.summary]
    if breaks_here:
        lines[0] += "   <- broken from here"
    lines += [_effect_line(effect, indent) for effect in event.effects]
    lines += [f"{indent}? {note}" for note in event.notes]
    return lines


def render_timeline(timeline: Timeline) -> str:
    """The headline, then one block per event, oldest first; what is not dated at the end."""
    title = f"{timeline.name} ({timeline.prefix})" if timeline.name else timeline.prefix
    lines = [f"{title}: {timeline.headline}", ""]
    width = max((len(event.source) for event in timeline.events), default=5)
    for number, event in enumerate(timeline.events):
        lines += _event_lines(event, number == timeline.broken_since, width)
    if not timeline.events:
        lines.append("no conda transaction and no non-conda install is recorded")
    if timeline.unattributed:
        lines += ["", "Found today, not tied to an install that can be dated (when: unknown):"]
        lines += [_effect_line(effect, "  ") for effect in timeline.unattributed]
    if timeline.notes:
        lines += ["", *(f"note: {note}" for note in timeline.notes)]
    lines += ["", "legend: ! error, ~ warning, ? what cannot be known"]
    return printable_lines(lines)

"""The incident as one timeline: conda's revisions and the non-conda installs, oldest first.

conda's ``conda-meta/history`` has every conda transaction with its time and command line. pip
and uv keep no log, but each distribution they installed carries who installed it
(``INSTALLER``), whether it was asked for (``REQUESTED``), where it came from
(``direct_url.json``) and when (the time of its metadata directory). :func:`build_timeline` merges
the two into events and attaches to each what the analysis sees today as its effect on conda's
packages. It is pure: the times come in as :class:`~.provenance.Stamp` values read by
:func:`~.provenance.read_stamps`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..disk.distributions import Distribution
from ..disk.environment import Environment
from ..disk.history import Revision
from ..disk.names import canonicalize_name
from ..plurals import count_of
from ..rules.findings import Finding
from ..rules.kinds import Severity
from ..rules.kinds import Timeline as Told
from .provenance import Stamp, describe_source, format_time, parse_history_time

#: How findings that replaced or overwrote a conda package are told.
_REPLACING = (Told.REPLACED, Told.OVERWROTE)

#: Distributions one installer wrote at most this many seconds apart are one event.
GROUP_WINDOW = 10.0


@dataclass(frozen=True)
class Effect:
    """What an event did to conda's packages, as the analysis sees it today.

    Attributes:
        kind: The finding kind it comes from.
        severity: That finding's severity.
        text: One line.
    """

    kind: str
    severity: Severity
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"kind": self.kind, "severity": str(self.severity), "text": self.text}


@dataclass(frozen=True)
class Event:
    """One step of the incident.

    Attributes:
        when: Seconds since the epoch, or None when unknown.
        source: ``conda``, or the installer of the distributions (``pip``, ``uv``...).
        summary: One line saying what happened.
        short: A few words for the headline (``pip replaced numpy``).
        command: conda's ``# cmd:`` line, when recorded.
        linked: ``name version`` of what conda linked.
        unlinked: ``name version`` of what conda unlinked.
        distributions: The distributions a non-conda event installed (JSON-ready).
        effects: What it did to conda's packages.
        notes: What cannot be known about it.
    """

    when: float | None
    source: str
    summary: str
    short: str
    command: str | None = None
    linked: tuple[str, ...] = ()
    unlinked: tuple[str, ...] = ()
    distributions: tuple[dict[str, Any], ...] = ()
    effects: tuple[Effect, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def breaks(self) -> bool:
        """An effect of this event is an error."""
        return any(effect.severity is Severity.ERROR for effect in self.effects)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "time": format_time(self.when, seconds=True),
            "source": self.source,
            "summary": self.summary,
            "command": self.command,
            "linked": list(self.linked),
            "unlinked": list(self.unlinked),
            "distributions": list(self.distributions),
            "effects": [effect.to_dict() for effect in self.effects],
            "breaks": self.breaks,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Timeline:
    """The incident of one environment.

    Attributes:
        prefix: The environment.
        name: Its name, when known.
        verdict: Today's verdict.
        events: Oldest first; events of unknown time last.
        broken_since: Index in :attr:`events` of the first event with an error effect.
        unattributed: Effects found today that no dated event explains.
        notes: What the timeline cannot know as a whole.
    """

    prefix: str
    name: str | None
    verdict: str
    events: tuple[Event, ...]
    broken_since: int | None
    unattributed: tuple[Effect, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def headline(self) -> str:
        """The one line at the top: since when the env is broken, and by what."""
        if self.broken_since is not None:
            event = self.events[self.broken_since]
            when = format_time(event.when) if event.when is not None else "an unknown time"
            return f"broken since {when}, when {event.short}"
        if self.verdict == "broken":
            return "broken, since an unknown time: no dated event explains it"
        return f"{self.verdict}: nothing here broke conda's packages"

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``history --json``."""
        return {
            "prefix": self.prefix,
            "name": self.name,
            "verdict": self.verdict,
            "headline": self.headline,
            "broken_since": self.broken_since,
            "events": [event.to_dict() for event in self.events],
            "unattributed": [effect.to_dict() for effect in self.unattributed],
            "notes": list(self.notes),
        }


def _conda_event(revision: Revision) -> Event:
    linked = {dist.name: dist for dist in revision.linked}
    unlinked = {dist.name: dist for dist in revision.unlinked}
    changed = [
        f"{name} {unlinked[name].version} -> {linked[name].version}"
        for name in sorted(linked.keys() & unlinked.keys())
    ]
    added = [f"{d.name} {d.version}" for n, d in sorted(linked.items()) if n not in unlinked]
    removed = [f"{d.name} {d.version}" for n, d in sorted(unlinked.items()) if n not in linked]
    parts = []
    for label, items in (("linked", added), ("unlinked", removed), ("changed", changed)):
        if items:
            shown = ", ".join(items[:6]) + (f" and {len(items) - 6} more" if len(items) > 6 else "")
            parts.append(f"{label} {shown}")
    command = revision.cmd.strip() if revision.cmd else None
    what = "; ".join(parts) or "no package changes recorded"
    notes = () if command else ("conda did not record the command line",)
    return Event(
        when=parse_history_time(revision.date),
        source="conda",
        summary=f"conda {what}",
        short=f"`{command}` ran" if command else "conda changed the env",
        command=command,
        linked=tuple(f"{d.name} {d.version}" for d in revision.linked),
        unlinked=tuple(f"{d.name} {d.version}" for d in revision.unlinked),
        notes=notes if revision.date else ("conda recorded no time for this change", *notes),
    )


def _dist_dict(dist: Distribution, stamp: Stamp) -> dict[str, Any]:
    return {
        "name": dist.name,
        "version": dist.version,
        "installer": dist.installer,
        "requested": dist.requested,
        "source": describe_source(dist),
        "path": dist.path,
        "time": format_time(stamp.when, seconds=True),
    }


def _effects(findings: Sequence[Finding]) -> tuple[Effect, ...]:
    effects: list[Effect] = []
    broke: list[Finding] = []
    for finding in findings:
        told = finding.row.timeline
        if told is Told.BROKE:
            broke.append(finding)
        elif told in _REPLACING:
            effects.append(Effect(finding.kind, finding.level, _replace_text(finding)))
        else:
            effects.append(Effect(finding.kind, finding.level, finding.message))
    if broke:
        names = ", ".join(dict.fromkeys(f"{f.conda_package}" for f in broke))
        needs = "; ".join(
            dict.fromkeys(str(f.details.get("requirement", "")) for f in broke if f.details)
        )
        worst = max(f.level for f in broke)
        effects.append(
            Effect(
                broke[0].kind,
                worst,
                f"broke conda's {names}" + (f" (need {needs})" if needs else ""),
            )
        )
    return tuple(effects)


def _linked_over(findings: Sequence[Finding]) -> tuple[Effect, ...]:
    """Effects of a conda command that linked dependents over another installer's copy."""
    by_dist: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in findings:
        key = (finding.distribution or "?", finding.version or "?", finding.installer or "?")
        by_dist.setdefault(key, []).append(finding)
    effects = []
    for (name, version, installer), group in by_dist.items():
        names = ", ".join(dict.fromkeys(str(f.conda_package) for f in group))
        needs = "; ".join(dict.fromkeys(str(f.details.get("requirement", "")) for f in group))
        effects.append(
            Effect(
                group[0].kind,
                max(f.level for f in group),
                f"linked conda's {names} over {name} {version} ({installer}), "
                f"which does not fit (need {needs})",
            )
        )
    return tuple(effects)


def _replace_text(finding: Finding) -> str:
    conda = f"conda's {finding.conda_package} {finding.conda_version}"
    if finding.row.timeline is Told.OVERWROTE:
        count = finding.paths.overwritten if finding.paths else None
        return f"overwrote {'files' if count is None else count_of(count, 'file')} of {conda}"
    verb = "reinstalled over" if finding.version == finding.conda_version else "replaced"
    if finding.paths is None or finding.details.get("record_missing"):
        return f"{verb} {conda} (file counts unknown: conda's record of it is gone)"
    overwritten = count_of(finding.paths.overwritten or 0, "file")
    return f"{verb} {conda} ({overwritten} overwritten, {finding.paths.deleted} deleted)"


def _group(
    dists: Sequence[Distribution], stamps: Mapping[str, Stamp], fences: Sequence[float]
) -> list[list[Distribution]]:
    """Distributions of one installer written within :data:`GROUP_WINDOW` of each other."""
    dated = sorted(
        (d for d in dists if stamps[d.path].when is not None),
        key=lambda d: (stamps[d.path].when, d.path),
    )
    groups: list[list[Distribution]] = []
    for dist in dated:
        when = stamps[dist.path].when or 0.0
        if groups:
            last = groups[-1][-1]
            last_when = stamps[last.path].when or 0.0
            fenced = any(last_when < fence <= when for fence in fences)
            if (
                (last.installer or "") == (dist.installer or "")
                and when - last_when <= GROUP_WINDOW
                and not fenced
            ):
                groups[-1].append(dist)
                continue
        groups.append([dist])
    groups.extend([d] for d in dists if stamps[d.path].when is None)
    return groups


def _install_event(
    group: Sequence[Distribution], stamps: Mapping[str, Stamp], findings: Sequence[Finding]
) -> Event:
    installer = group[0].installer or "an unknown installer"
    requested = [d for d in group if d.requested]
    others = [d for d in group if not d.requested]
    if requested:
        asked = ", ".join(f"{d.name} {d.version}" for d in requested)
        count = len(others)
        shown = ", ".join(f"{d.name} {d.version}" for d in others[:6])
        summary = f"{installer} installed {asked} (requested) {describe_source(requested[0])}"
        summary += f", and {count_of(count, 'dependency')}" + (f": {shown}" if shown else "")
        summary += f" and {count - 6} more" if count > 6 else ""
    else:
        names = ", ".join(f"{d.name} {d.version}" for d in group[:6])
        more = f" and {len(group) - 6} more" if len(group) > 6 else ""
        summary = (
            f"{installer} installed {names}{more} {describe_source(group[0])} "
            "(none requested by name: dependencies, or REQUESTED not written)"
        )
    effects = _effects(findings)
    replaced = [
        f.conda_package for f in findings if f.row.timeline in _REPLACING and f.conda_package
    ]
    short = (
        f"{installer} replaced {', '.join(dict.fromkeys(replaced))}"
        if replaced
        else f"{installer} installed {', '.join(d.name for d in (requested or group)[:3])}"
    )
    notes = tuple(f"{d.name}: {stamps[d.path].note}" for d in group if stamps[d.path].note)
    times = [stamps[d.path].when for d in group if stamps[d.path].when is not None]
    return Event(
        when=min(times) if times else None,
        source=installer,
        summary=summary,
        short=short,
        distributions=tuple(_dist_dict(d, stamps[d.path]) for d in group),
        effects=effects,
        notes=notes,
    )


def _findings_of(dist: Distribution, findings: Sequence[Finding]) -> list[Finding]:
    key = canonicalize_name(dist.name)
    return [
        finding
        for finding in findings
        if finding.location == dist.path
        or (
            finding.distribution is not None
            and canonicalize_name(finding.distribution) == key
            and finding.version == dist.version
            and (finding.location is None or finding.row.timeline is Told.BROKE)
        )
    ]


def build_timeline(
    env: Environment,
    findings: Sequence[Finding],
    non_conda: Sequence[Distribution],
    stamps: Mapping[str, Stamp],
    verdict: str,
) -> Timeline:
    """Merge conda's revisions and the non-conda installs into one timeline.

    Args:
        env: The environment (its history).
        findings: Today's findings.
        non_conda: The distributions that did not come from conda.
        stamps: When each of *non_conda* was installed (see :func:`read_stamps`).
        verdict: Today's verdict.
    """
    conda_events = [_conda_event(revision) for revision in env.history.revisions]
    fences = [e.when for e in conda_events if e.when is not None]
    linked_at = {
        dist.name: index
        for index, revision in enumerate(env.history.revisions)
        for dist in revision.linked
    }
    later: dict[int, list[Finding]] = {}
    used: set[int] = set()
    install_events = []
    for group in _group(non_conda, stamps, fences):
        mine = [f for d in group for f in _findings_of(d, findings) if f.level >= Severity.WARNING]
        mine = [f for f in mine if id(f) not in used]
        used.update(id(f) for f in mine)
        times = [t for d in group if (t := stamps[d.path].when) is not None]
        for finding in [f for f in mine if f.row.timeline is Told.BROKE]:
            # a dependent conda linked *after* this install was broken by that conda command
            index = linked_at.get(finding.conda_package or "")
            when = conda_events[index].when if index is not None else None
            if times and when is not None and when > min(times):
                mine.remove(finding)
                later.setdefault(index or 0, []).append(finding)
        install_events.append(_install_event(group, stamps, mine))
    for index, moved in later.items():
        conda_events[index] = dataclasses.replace(conda_events[index], effects=_linked_over(moved))
    # conda's events keep their order in the log; the installs go between them by time.
    events: list[Event] = []
    pending = sorted((e for e in install_events if e.when is not None), key=lambda e: e.when or 0.0)
    for event in conda_events:
        while pending and event.when is not None and (pending[0].when or 0.0) < event.when:
            events.append(pending.pop(0))
        events.append(event)
    events.extend(pending)
    events.extend(e for e in install_events if e.when is None)
    rest = [f for f in findings if id(f) not in used and f.level >= Severity.WARNING]
    broken = next((i for i, event in enumerate(events) if event.breaks), None)
    notes = list(env.history.problems[:5])
    if not env.history.revisions:
        notes.append("conda-meta/history is empty or missing: conda's side is unknown")
    if any(e.when is None for e in events):
        notes.append("events of unknown time are listed last")
    return Timeline(
        prefix=str(env.prefix),
        name=env.name,
        verdict=verdict,
        events=tuple(events),
        broken_since=broken,
        unattributed=_effects(rest),
        notes=tuple(notes),
    )

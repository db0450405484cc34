"""A checked pip install for people, in the shape of conda's plan, and for machines as JSON.

The plan first (what pip would install, from where, asked for or a dependency), then what it
does to conda's packages, one heading per kind of harm as conda lists its actions ("The
following conda packages would be replaced by pip:"), then everything else the rules found
new, then what the install would resolve.
"""

from __future__ import annotations

import shlex
from typing import Any

from ..plurals import count_of
from ..printable import printable_lines
from ..rules.findings import Finding
from ..rules.kinds import Severity
from ..rules.kinds import Timeline as Told
from .check import CheckedInstall
from .impact import findings_json

#: Headings of the findings the plan lists as conda lists its actions, by how the registry
#: says a finding tells an effect (the same words the incident's timeline uses).
_HEADINGS = {
    Told.REPLACED: "The following conda packages would be replaced by pip:",
    Told.OVERWROTE: "The following conda packages would have files overwritten by pip:",
    Told.BROKE: "The following conda packages would break:",
}


def _replaced(finding: Finding) -> str:
    counts = finding.paths
    detail = ""
    if counts is not None and counts.overwritten is not None:
        detail = (
            f"   ({count_of(counts.overwritten, 'file')} overwritten, {counts.deleted} deleted)"
        )
    return f"{finding.conda_package} {finding.conda_version} -> {finding.version}{detail}"


def _overwritten(finding: Finding) -> str:
    count = finding.paths.overwritten if finding.paths else None
    files = count_of(count, "file") if count is not None else "files"
    return (
        f"{finding.conda_package} {finding.conda_version}   {files} by "
        f"{finding.distribution} {finding.version}"
    )


def _broken(finding: Finding) -> str:
    needs = finding.details.get("requirement", "")
    return f"{finding.conda_package} {finding.conda_version} (needs {needs})"


_LINES = {Told.REPLACED: _replaced, Told.OVERWROTE: _overwritten, Told.BROKE: _broken}


def _installs(checked: CheckedInstall) -> list[str]:
    rows = []
    for item in checked.planned:
        why = "requested" if item.requested else "dependency"
        replaced = checked.replaces(item)
        if replaced is not None:
            whose = "conda's" if replaced.conda else "the installed"
            why += f", replaces {whose} {item.name} {replaced.version}"
        rows.append((item.name, item.version, item.origin, why))
    width = max(len(row[0]) for row in rows)
    vwidth = max(len(row[1]) for row in rows)
    return [f"  {n:<{width}}  {v:<{vwidth}}  {o}  ({w})" for n, v, o, w in rows]


def render_plan(checked: CheckedInstall) -> str:
    """The plan and its impact, as text."""
    env = checked.env
    lines = [
        "",
        "## pip plan, checked by conda-pipguard ##",
        "",
        f"  environment location: {env.prefix}",
        f"  pip install {shlex.join(checked.arguments.given)}",
        "",
    ]
    if not checked.planned:
        lines.append("pip would install nothing: every requirement is already satisfied.")
        return printable_lines(lines)
    lines += ["The following packages would be installed by pip:", "", *_installs(checked), ""]
    impact = checked.impact
    for told, heading in _HEADINGS.items():
        found = [f for f in impact.new if f.row.timeline is told]
        if found:
            lines += [heading, "", *(f"  {_LINES[told](f)}" for f in found), ""]
    others = [
        f for f in impact.new if f.row.timeline not in _HEADINGS and f.level >= Severity.WARNING
    ]
    if others:
        width = max(len(f.kind) for f in others)
        lines += ["Also found after the install:", ""]
        lines += [f"  {f.level!s:<7} {f.kind:<{width}}  {f.message}" for f in others]
        lines.append("")
    if impact.resolved:
        lines += ["The install would resolve:", ""]
        lines += [f"  {f.kind}: {f.message}" for f in impact.resolved]
        lines.append("")
    harmed = impact.harmed
    if harmed:
        lines.append(
            f"This install would harm {count_of(len(harmed), 'conda package')}: "
            f"{', '.join(harmed)}."
        )
    else:
        lines.append("Nothing of conda's would be harmed.")
    return printable_lines(lines)


def plan_json(checked: CheckedInstall) -> dict[str, Any]:
    """The plan and its impact, as the JSON of ``pip install --json``."""
    items = []
    for item in checked.planned:
        replaced = checked.replaces(item)
        items.append(
            {
                **item.to_dict(),
                "from": item.origin,
                "replaces": None
                if replaced is None
                else {"version": replaced.version, "conda": replaced.conda},
            }
        )
    return {
        "prefix": str(checked.env.prefix),
        "name": checked.env.name,
        "pip_arguments": list(checked.arguments.given),
        "plan": items,
        "findings": findings_json(checked.impact.new),
        "resolved": findings_json(checked.impact.resolved),
        "harmed": list(checked.impact.harmed),
        "marker": checked.marker.state,
    }

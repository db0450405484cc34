"""An environment -> an ``environment.yml`` that recreates it without pip's damage.

Pure: the YAML text is written here (the core cannot import conda's ruamel), from what the scan
found. The conda part is what the user asked conda for (``conda-meta/history``), or the exact
``name=version=build`` of every package with ``pinned``; conda packages whose record pip's
damage made conda delete still come back from the history. The ``pip:`` part lists only
distributions no conda package provides: a distribution that shadows a conda package is never
exported (the recreated env gets conda's copy instead), and is reported in :attr:`Export.notes`.
Editable installs are exported as comments naming their source.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..diagnosis import Diagnosis
from ..disk.history import History, spec_name
from ..locks.softfiles import without_lock_vars
from ..rules.findings import Finding
from ..rules.kinds import Export as Role
from .channels import channel_name

_PLAIN = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_.=<>!~*,+\-/:@\[\] ]*")
_NUMBER_LIKE = re.compile(r"[-+0-9.:_eExXoO]+")
_RESERVED = {
    "y",
    "yes",
    "n",
    "no",
    "true",
    "false",
    "on",
    "off",
    "null",
    "~",
}


def yaml_scalar(text: str) -> str:
    """*text* as a YAML scalar: plain when that reads back as the same string, else quoted.

    A JSON string is a valid YAML double-quoted scalar, so quoting is ``json.dumps``.
    """
    plain = (
        _PLAIN.fullmatch(text) is not None
        and ": " not in text
        and not text.endswith((":", " "))
        and text.lower() not in _RESERVED
        and _NUMBER_LIKE.fullmatch(text) is None
    )
    return text if plain else json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    return "# " + " ".join(text.split())


@dataclass(frozen=True)
class EnvironmentSpec:
    """The content of an ``environment.yml``.

    Attributes:
        name: Environment name (None: no ``name:`` line).
        channels: Channels, highest priority first.
        dependencies: conda match specs.
        pip: ``name==version`` requirements for the ``pip:`` section.
        pip_comments: Comment lines put in the ``pip:`` section (editable installs).
        header: Comment lines at the top of the file.
        variables: ``conda env config vars`` of the environment.
    """

    name: str | None
    channels: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    pip: tuple[str, ...] = ()
    pip_comments: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    variables: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The mapping the YAML spells (comments left out)."""
        dependencies: list[Any] = list(self.dependencies)
        if self.pip:
            dependencies.append({"pip": list(self.pip)})
        data: dict[str, Any] = {}
        if self.name is not None:
            data["name"] = self.name
        data["channels"] = list(self.channels)
        data["dependencies"] = dependencies
        if self.variables:
            data["variables"] = dict(self.variables)
        return data


@dataclass(frozen=True)
class Export:
    """The export of one environment.

    Attributes:
        spec: What goes into the file.
        notes: Lines for stderr: what was left out of the file, and why.
    """

    spec: EnvironmentSpec
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"environment": self.spec.to_dict(), "notes": list(self.notes)}


def render_yaml(spec: EnvironmentSpec) -> str:
    """The ``environment.yml`` text of *spec*."""
    lines = [_comment(line) for line in spec.header]
    if spec.name is not None:
        lines.append(f"name: {yaml_scalar(spec.name)}")
    if spec.channels:
        lines.append("channels:")
        lines.extend(f"  - {yaml_scalar(channel)}" for channel in spec.channels)
    else:
        lines.append("channels: []")
    lines.append("dependencies:")
    lines.extend(f"  - {yaml_scalar(dependency)}" for dependency in spec.dependencies)
    if spec.pip:
        lines.append("  - pip:")
        lines.extend(f"      {_comment(text)}" for text in spec.pip_comments)
        lines.extend(f"      - {yaml_scalar(requirement)}" for requirement in spec.pip)
    else:
        lines.extend(f"  {_comment(text)}" for text in spec.pip_comments)
    if spec.variables:
        lines.append("variables:")
        lines.extend(
            f"  {yaml_scalar(key)}: {yaml_scalar(value)}"
            for key, value in sorted(spec.variables.items())
        )
    return "\n".join(lines) + "\n"


def _ordered_channels(channels: Iterable[str | None]) -> tuple[str, ...]:
    named = [channel for channel in channels if channel]
    counts = Counter(named)
    first = {channel: index for index, channel in reversed(list(enumerate(named)))}
    return tuple(sorted(counts, key=lambda channel: (-counts[channel], first[channel])))


def requested_specs(history: History) -> dict[str, str]:
    """The specs the user asked conda for, by package name, from ``conda-meta/history``.

    Like :meth:`History.requested_specs`, except that a ``--force-reinstall`` does not replace an
    earlier request: it restores a package, it does not change what the user wants. (``conda
    pipguard fix`` reinstalls ``numpy=1.26.4=0``; the export should still say ``numpy``.)
    """
    specs: dict[str, str] = {}
    for revision in history.revisions:
        restoring = "--force-reinstall" in (revision.cmd or "")
        for spec in (*revision.update_specs, *revision.neutered_specs):
            name = spec_name(spec)
            if name and not (restoring and name in specs):
                specs[name] = spec
        for spec in revision.remove_specs:
            specs.pop(spec_name(spec) or "", None)
    return specs


@dataclass
class _Parts:
    """What the findings add to an export, filled by one handler per :class:`Role`."""

    all_pip: bool
    pip: list[str] = field(default_factory=list)
    pip_comments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _pip(finding: Finding, parts: _Parts) -> None:
    wanted = bool(finding.details.get("requested")) or not finding.details.get("required_by")
    if parts.all_pip or wanted:
        name, version = finding.distribution or "", finding.version or ""
        parts.pip.append(f"{name}=={version}" if version else name)


def _editable(finding: Finding, parts: _Parts) -> None:
    source = finding.details.get("source") or finding.location or "an unknown directory"
    if not finding.distribution:
        parts.pip_comments.append(f"conda develop: {source}")
        return
    parts.pip_comments.append(
        f"editable: {finding.distribution} {finding.version or ''} from {source} "
        f"(pip install -e {source})"
    )
    parts.notes.append(
        f"{finding.distribution} is a development install from {source}: exported as a comment"
    )


def _conda_wins(finding: Finding, parts: _Parts) -> None:
    parts.notes.append(
        f"{finding.distribution} {finding.version} ({finding.installer or 'unknown'}) "
        f"is not exported: {finding.conda_package} belongs to conda, and the "
        f"recreated environment gets conda's {finding.conda_package} {finding.conda_version}"
    )


def _stale(finding: Finding, parts: _Parts) -> None:
    parts.notes.append(
        f"{finding.distribution} {finding.version} ({finding.installer or 'unknown'}) "
        f"is not exported: its metadata is stale, conda's {finding.conda_package} "
        f"{finding.conda_version} is what is on disk"
    )


def _complete(finding: Finding, parts: _Parts) -> None:
    if finding.layer is not None and finding.layer.replaces_conda:
        return  # conda's package comes back instead (see _conda_wins)
    needed = finding.details.get("needed_by_conda")
    if needed:
        parts.notes.append(
            f"{finding.distribution} {finding.version} ({finding.installer or 'unknown'}) is not "
            f"exported: conda's {', '.join(needed)} need {finding.distribution} from conda, "
            "which the recreated environment gets"
        )
        return
    parts.pip.append(f"{finding.distribution}=={finding.version}")
    parts.notes.append(
        f"{finding.distribution} {finding.version} has files missing here; the "
        "recreated environment gets a complete copy"
    )


def _overwrites(finding: Finding, parts: _Parts) -> None:
    parts.notes.append(
        f"{finding.distribution} {finding.version} overwrote files of conda's "
        f"{finding.conda_package}; installing it again will overwrite them again"
    )


#: How each :class:`Role` adds a finding to the export.
_HANDLERS = {
    Role.PIP: _pip,
    Role.EDITABLE: _editable,
    Role.CONDA_WINS: _conda_wins,
    Role.STALE: _stale,
    Role.COMPLETE: _complete,
    Role.OVERWRITES: _overwrites,
}


def export_spec(diagnosis: Diagnosis, *, pinned: bool = False, all_pip: bool = False) -> Export:
    """Build the ``environment.yml`` content for a diagnosed environment.

    Args:
        diagnosis: What the scan found.
        pinned: Every conda package as ``name=version=build`` instead of the requested specs.
        all_pip: Also the non-conda distributions that are only dependencies of others.
    """
    env = diagnosis.env
    findings = diagnosis.analysis.findings
    gone = [f.history_dist for f in findings if f.history_dist and f.row.export is Role.CONDA_WINS]
    parts = _Parts(all_pip)
    notes = parts.notes
    header = [f"exported by `conda pipguard export` from {env.display_name}"]
    requested = requested_specs(env.history)
    if pinned or not requested:
        dependencies = [f"{r.name}={r.version}={r.build}" for r in env.records]
        dependencies += [f"{d.name}={d.version}={d.build}" for d in gone]
        dependencies.sort()
        header.append("conda packages: exact name=version=build")
        if not pinned:
            notes.append(
                "conda-meta/history names no requested package: every conda package is pinned"
            )
    else:
        dependencies = sorted(requested.values(), key=lambda spec: spec_name(spec) or spec)
        header.append("conda packages: the specs requested in conda-meta/history")

    for finding in findings:
        handler = _HANDLERS.get(finding.row.export)
        if handler is not None:
            handler(finding, parts)
    pip = parts.pip
    if pip and not any(spec_name(dep) == "pip" for dep in dependencies):
        record = env.records_by_name.get("pip")
        dependencies.append(f"pip={record.version}={record.build}" if record and pinned else "pip")
    if pip:
        header.append("pip: only what no conda package provides")

    channels = _ordered_channels(
        [channel_name(r.channel, r.subdir) for r in env.records]
        + [channel_name(d.channel) for d in gone]
    )
    spec = EnvironmentSpec(
        name=env.name or env.prefix.name,
        channels=channels,
        dependencies=tuple(dependencies),
        pip=tuple(pip),
        pip_comments=tuple(parts.pip_comments),
        header=tuple(header),
        variables=without_lock_vars(env.prefix, env.env_vars),
    )
    return Export(spec, tuple(notes))

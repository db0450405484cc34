"""Findings -> an ordered repair plan: the exact commands that give conda its packages back.

Pure: this module decides what to run and in which order, never runs anything. The recovery for a
conda package that another installer replaced (``shadowed``), overwrote (``clobbered``) or copied
next to itself (``duplicate``) is the known one: uninstall the non-conda copy with the env's own
pip, then make conda relink the exact package it had (``name=version=build``), also when conda's
record was deleted (the version and build then come from ``conda-meta/history``).

The order is what makes it safe:

1. ``check``: conda downloads every package it will reinstall into its package cache
   (``--download-only``), which proves that it can get them (channel or cache, ``--offline``
   honoured) while the environment is still untouched. A mere ``--dry-run`` solve is not enough:
   it succeeds from the channel index even when the package file itself is gone.
2. ``pip-uninstall``: one run per installed copy of each project (pip removes one copy per run
   and may pick any of them when there are several); pip itself last, so that it is still there
   for the others.
3. ``conda-reinstall``: one ``conda install --force-reinstall`` of every package, after *all*
   uninstalls, because pip removes every file its RECORD lists, including files of conda's that
   it overwrote: uninstalling after a reinstall would break conda's copy again.

``pip-only`` and ``editable`` distributions are left alone; ``unsatisfied`` and the other kinds
become suggestions, never actions.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from .diagnosis import Diagnosis
from .distributions import Distribution
from .environment import Environment
from .errors import PipguardError
from .findings import Finding
from .records import CondaRecord

#: What conda needs to be spelled as: ``("conda",)``, ``(sys.executable, "-m", "conda")``...
CondaLauncher = Sequence[str]

#: The platform subdirectories a channel URL in a record or in the history may end with.
KNOWN_SUBDIRS = frozenset(
    {
        "noarch",
        "emscripten-wasm32",
        "freebsd-64",
        "linux-32",
        "linux-64",
        "linux-aarch64",
        "linux-armv6l",
        "linux-armv7l",
        "linux-ppc64",
        "linux-ppc64le",
        "linux-riscv64",
        "linux-s390x",
        "osx-64",
        "osx-arm64",
        "wasi-wasm32",
        "win-32",
        "win-64",
        "win-arm64",
        "zos-z",
    }
)
_ANACONDA_ORG = re.compile(r"^https?://conda\.anaconda\.org/(?P<name>[^/]+(?:/label/[^/]+)?)$")
_DEFAULTS = re.compile(r"^https?://repo\.anaconda\.com/pkgs/(?:main|r|msys2)$")
_NOT_A_CHANNEL = {"", "<unknown>", "pypi", "@"}

#: Kinds fixed by the plan's actions, and kinds the plan never touches.
_ACTED_ON = ("shadowed", "clobbered", "duplicate")
_LEFT_ALONE = ("pip-only", "editable")

#: Marker states meaning a PEP 668 ``EXTERNALLY-MANAGED`` file is present (see marker.py).
_HARD_MARKER_STATES = ("pipguard", "foreign")


class RepairError(PipguardError):
    """The repair cannot start or cannot go on; the message says what was (not) changed."""


def channel_name(channel: str, subdir: str = "") -> str | None:
    """The channel a record or a history line names, as ``-c`` and ``channels:`` take it.

    ``https://conda.anaconda.org/conda-forge/linux-64`` -> ``conda-forge``;
    ``https://repo.anaconda.com/pkgs/main/noarch`` -> ``defaults``;
    ``file:///srv/chan/noarch`` -> ``file:///srv/chan``; names stay names. None when the record
    names no real channel (``<unknown>``, ``pypi``).
    """
    text = channel.strip().rstrip("/")
    if text in _NOT_A_CHANNEL:
        return None
    last = text.rsplit("/", 1)[-1]
    if "/" in text and (last == subdir or last in KNOWN_SUBDIRS):
        text = text[: -len(last) - 1]
    if match := _ANACONDA_ORG.match(text):
        return match.group("name")
    if _DEFAULTS.match(text):
        return "defaults"
    return text or None


@dataclass(frozen=True)
class Reinstall:
    """A conda package the plan puts back.

    Attributes:
        name: Package name.
        version: The version conda had.
        build: The build string conda had.
        channel: Where it came from (``-c`` form), or None when unknown.
        record_missing: True when the record in conda-meta is gone and history supplied it.
        replaced_by: Labels (``numpy 2.1.0 (pip)``) of the distributions that damaged it.
    """

    name: str
    version: str
    build: str
    channel: str | None = None
    record_missing: bool = False
    replaced_by: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        """``name=version=build``: exactly what conda had, nothing newer."""
        return f"{self.name}={self.version}={self.build}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.name,
            "version": self.version,
            "build": self.build,
            "spec": self.spec,
            "channel": self.channel,
            "record_missing": self.record_missing,
            "replaced_by": list(self.replaced_by),
        }


@dataclass(frozen=True)
class Removal:
    """A non-conda distribution the plan uninstalls.

    Attributes:
        name: Project name, as pip takes it.
        version: Its version.
        installer: Its ``INSTALLER``.
        location: Prefix-relative path of its metadata directory.
        runs: How many ``pip uninstall`` runs it takes (one per installed copy of the project).
        restores: Names of the conda packages reinstalled after it is gone.
        pip_only: True when no conda package provides this project (the user loses it).
    """

    name: str
    version: str
    installer: str | None
    location: str
    runs: int = 1
    restores: tuple[str, ...] = ()
    pip_only: bool = False

    @property
    def label(self) -> str:
        """``numpy 2.1.0 (pip)``."""
        return f"{self.name} {self.version} ({self.installer or 'unknown installer'})"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.name,
            "version": self.version,
            "installer": self.installer,
            "location": self.location,
            "runs": self.runs,
            "restores": list(self.restores),
            "pip_only": self.pip_only,
        }


@dataclass(frozen=True)
class Step:
    """One command of the plan.

    Attributes:
        action: ``check``, ``pip-uninstall`` or ``conda-reinstall``.
        argv: The command, ready for ``subprocess``.
        purpose: One line saying why.
        env: Variables set for this command only.
    """

    action: str
    argv: tuple[str, ...]
    purpose: str
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def command(self) -> str:
        """The command as a shell would take it, variables first."""
        assignments = [f"{key}={shlex.quote(value)}" for key, value in sorted(self.env.items())]
        return " ".join([*assignments, shlex.join(self.argv)])

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "action": self.action,
            "command": self.command,
            "argv": list(self.argv),
            "env": dict(self.env),
            "purpose": self.purpose,
        }


@dataclass(frozen=True)
class Suggestion:
    """A finding the plan does not act on, with the fix ``status`` gives for it.

    Attributes:
        kind: The finding's kind.
        message: The finding's message.
        fix: What the user may run (never run by the plan).
    """

    kind: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"kind": self.kind, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class RepairPlan:
    """What ``fix`` will do to one environment, in order.

    Attributes:
        prefix: The environment.
        verdict: Its verdict before the repair.
        steps: The commands, in the order they run (empty when nothing needs doing).
        reinstalls: The conda packages put back.
        removals: The non-conda distributions uninstalled.
        resolved: Messages of findings the steps resolve without a step of their own.
        untouched: Labels of the distributions left alone (pip-only, editable).
        suggestions: Findings the plan does not act on.
        blockers: Why the plan cannot run at all (then nothing may be run).
    """

    prefix: Path
    verdict: str
    steps: tuple[Step, ...] = ()
    reinstalls: tuple[Reinstall, ...] = ()
    removals: tuple[Removal, ...] = ()
    resolved: tuple[str, ...] = ()
    untouched: tuple[str, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    blockers: tuple[str, ...] = ()

    @property
    def specs(self) -> tuple[str, ...]:
        """The exact specs conda reinstalls."""
        return tuple(reinstall.spec for reinstall in self.reinstalls)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "prefix": str(self.prefix),
            "verdict": self.verdict,
            "steps": [step.to_dict() for step in self.steps],
            "reinstall": [reinstall.to_dict() for reinstall in self.reinstalls],
            "remove": [removal.to_dict() for removal in self.removals],
            "resolved": list(self.resolved),
            "untouched": list(self.untouched),
            "suggestions": [suggestion.to_dict() for suggestion in self.suggestions],
            "blockers": list(self.blockers),
        }


@dataclass
class _Builder:
    diagnosis: Diagnosis
    reinstalls: dict[str, Reinstall] = field(default_factory=dict)
    removals: dict[str, Removal] = field(default_factory=dict)  # by distribution path
    resolved: list[str] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    @property
    def env(self) -> Environment:
        return self.diagnosis.env

    def distribution(self, finding: Finding) -> Distribution | None:
        return next((d for d in self.env.distributions if d.path == finding.location), None)

    def target(self, finding: Finding) -> Reinstall | None:
        """The conda package a shadowed/clobbered finding is about, from its record or history."""
        name = finding.conda_package
        if name is None:
            return None
        record: CondaRecord | None = self.env.records_by_name.get(name)
        if record is not None and not finding.details.get("record_missing"):
            return Reinstall(
                record.name,
                record.version,
                record.build,
                channel_name(record.channel, record.subdir),
            )
        gone = self.env.history.current().get(name)
        if gone is None:
            return None
        return Reinstall(
            gone.name, gone.version, gone.build, channel_name(gone.channel), record_missing=True
        )

    def add_repair(self, finding: Finding, shadowing: set[str]) -> None:
        dist = self.distribution(finding)
        if dist is not None and dist.editable:
            message = f"{finding.message} (a development install: left alone)"
            self.suggestions.append(Suggestion(finding.kind, message, finding.fix))
            return
        target = self.target(finding)
        if dist is None or target is None:
            self.suggestions.append(Suggestion(finding.kind, finding.message, finding.fix))
            return
        label = f"{dist.name} {dist.version} ({dist.installer or 'unknown installer'})"
        known = self.reinstalls.get(target.name, target)
        self.reinstalls[target.name] = replace(
            known, replaced_by=tuple(dict.fromkeys((*known.replaced_by, label)))
        )
        previous = self.removals.get(dist.path)
        restores = (*previous.restores, target.name) if previous else (target.name,)
        self.removals[dist.path] = Removal(
            dist.name,
            dist.version,
            dist.installer,
            dist.path,
            # pip removes one copy per run, and may pick conda's own first.
            runs=max(1, sum(1 for d in self.env.distributions if d.key == dist.key)),
            restores=tuple(dict.fromkeys(restores)),
            pip_only=dist.path not in shadowing,
        )

    def removes(self, distribution: str | None) -> bool:
        key = canonicalize_name(distribution or "")
        return any(canonicalize_name(r.name) == key for r in self.removals.values())

    def build(self) -> None:
        findings = self.diagnosis.analysis.findings
        shadowing = {f.location or "" for f in findings if f.kind == "shadowed"}
        for finding in findings:
            if finding.kind in ("shadowed", "clobbered"):
                self.add_repair(finding, shadowing)
        for finding in findings:
            if finding.kind in ("duplicate", "conda-dependency-broken"):
                if self.removes(finding.distribution):
                    self.resolved.append(finding.message)
                else:
                    self.suggestions.append(Suggestion(finding.kind, finding.message, finding.fix))
            elif finding.kind in _LEFT_ALONE:
                if finding.location in self.removals:
                    continue  # a pip-only project that overwrote conda's files: removed above
                label = finding.distribution or finding.location or "?"
                version = f" {finding.version}" if finding.version else ""
                self.untouched.append(f"{label}{version} ({finding.kind})")
            elif finding.kind not in _ACTED_ON and finding.fix:
                self.suggestions.append(Suggestion(finding.kind, finding.message, finding.fix))
        if self.removals and self.env.python is None:
            self.blockers.append("the environment has no Python to run pip with")
        elif self.removals and not any(d.key == "pip" for d in self.env.distributions):
            names = ", ".join(r.name for r in self.removals.values())
            self.blockers.append(
                f"the environment has no pip to uninstall {names} with; install it first: "
                f"conda install -p {shlex.quote(str(self.env.prefix))} pip"
            )


def _steps(
    plan_env_prefix: Path,
    python: str,
    reinstalls: Sequence[Reinstall],
    removals: Sequence[Removal],
    *,
    conda: CondaLauncher,
    offline: bool,
    pip_env: Mapping[str, str],
) -> tuple[Step, ...]:
    channels: list[str] = []
    for reinstall in reinstalls:
        if reinstall.channel and reinstall.channel not in channels:
            channels.append(reinstall.channel)
    options = [arg for channel in channels for arg in ("-c", channel)]
    if offline:
        options.append("--offline")
    specs = [reinstall.spec for reinstall in reinstalls]
    base = (*conda, "install", "-p", str(plan_env_prefix), "--force-reinstall")
    # Our own guard would warn about (or, in block mode, refuse) the very transactions that
    # repair the env: it is off for these two conda commands; the locks are still kept right.
    quiet_guard = {"CONDA_PLUGINS_PIPGUARD_MODE": "off"}
    names = ", ".join(f"{r.name} {r.version}" for r in reinstalls)
    steps = [
        Step(
            "check",
            (*base, "--download-only", "--json", "-y", *options, *specs),
            f"make sure conda can get {names} before anything is removed "
            "(fills conda's package cache, changes nothing in the environment)",
            dict(quiet_guard),
        )
    ]
    ordered = sorted(removals, key=lambda r: canonicalize_name(r.name) == "pip")
    for removal in ordered:
        restores = ", ".join(removal.restores)
        purpose = f"remove {removal.label}, which damaged conda's {restores}"
        if removal.pip_only:
            purpose += " (no conda package provides it: reinstall it afterwards if you need it)"
        for run in range(removal.runs):
            extra = f" (copy {run + 1} of {removal.runs})" if removal.runs > 1 else ""
            steps.append(
                Step(
                    "pip-uninstall",
                    (python, "-I", "-m", "pip", "uninstall", "-y", removal.name),
                    purpose + extra,
                    dict(pip_env),
                )
            )
    steps.append(
        Step(
            "conda-reinstall",
            (*base, "-y", *options, *specs),
            f"put back conda's own {names}",
            dict(quiet_guard),
        )
    )
    return tuple(steps)


def build_plan(
    diagnosis: Diagnosis, *, conda: CondaLauncher = ("conda",), offline: bool = False
) -> RepairPlan:
    """The repair plan for one diagnosed environment.

    Args:
        diagnosis: What ``status`` found.
        conda: How to run conda (``sys.executable -m conda`` inside conda, ``$CONDA_EXE``
            outside); only used to spell the commands.
        offline: Add ``--offline`` to conda's commands.

    Returns:
        The plan; ``steps`` is empty when nothing needs doing or ``blockers`` says why it cannot.
    """
    builder = _Builder(diagnosis)
    builder.build()
    env = diagnosis.env
    reinstalls = tuple(builder.reinstalls.values())
    removals = tuple(builder.removals.values())
    steps: tuple[Step, ...] = ()
    if reinstalls and not builder.blockers and env.python is not None:
        pip_env = (
            {"PIP_BREAK_SYSTEM_PACKAGES": "1"}
            if diagnosis.marker.state in _HARD_MARKER_STATES
            else {}
        )
        steps = _steps(
            env.prefix,
            str(env.prefix / env.python.executable),
            reinstalls,
            removals,
            conda=conda,
            offline=offline,
            pip_env=pip_env,
        )
    return RepairPlan(
        prefix=env.prefix,
        verdict=diagnosis.verdict,
        steps=steps,
        reinstalls=reinstalls,
        removals=removals,
        resolved=tuple(builder.resolved),
        untouched=tuple(builder.untouched),
        suggestions=tuple(builder.suggestions),
        blockers=tuple(builder.blockers),
    )


def render_plan(plan: RepairPlan) -> str:
    """The plan for people: numbered commands with their purpose, then what is left alone."""
    lines = [f"Repair plan for {plan.prefix} ({plan.verdict}):"]
    if not plan.steps and not plan.blockers:
        lines.append("  nothing to repair: no conda package was replaced or overwritten")
    for number, step in enumerate(plan.steps, start=1):
        lines.append(f"  {number}. {step.command}")
        lines.append(f"     {step.purpose}")
    if plan.resolved:
        lines.append("  Also resolved by these steps:")
        lines.extend(f"    - {message}" for message in plan.resolved)
    if plan.untouched:
        lines.append(f"  Left alone: {', '.join(plan.untouched)}")
    if plan.suggestions:
        lines.append("  Not done by this plan (run yourself if you want it):")
        for suggestion in plan.suggestions:
            lines.append(f"    - {suggestion.kind}: {suggestion.message}")
            if suggestion.fix:
                lines.append(f"      fix: {suggestion.fix}")
    for blocker in plan.blockers:
        lines.append(f"  cannot repair: {blocker}")
    return "\n".join(lines)

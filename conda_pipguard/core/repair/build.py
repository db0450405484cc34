"""Findings -> an ordered repair plan: the exact commands that give conda its packages back.

Pure: this module decides what to run and in which order, never runs anything
(:mod:`.steps` spells the commands and explains the order). The recovery for a conda
package that another installer replaced (``shadowed``), overwrote (``clobbered``) or copied next
to itself (``duplicate``) is the known one: uninstall the non-conda copy, then make conda relink
the exact package it had (``name=version=build``), also when conda's record was deleted (the
version and build then come from ``conda-meta/history``). Files of conda's changed or deleted
with no distribution to blame (``altered``, ``missing-files``) need the reinstall only; stale pip
metadata (``stale-metadata``) needs only its leftovers removed. A dependency that is gone
(``dependency-gone``) comes back the same way, from its record or from the history. Files of
another install left among a conda package's own (``leftovers``) are removed last, after conda
has put its own files back: until then they may be what imports.

``pip-only`` and ``editable`` distributions are left alone; ``unsatisfied``, ``incomplete`` and
the other kinds become suggestions, never actions.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..diagnosis import Diagnosis
from ..disk.containment import LEADS_OUTSIDE
from ..disk.distributions import Distribution
from ..disk.environment import Environment
from ..disk.names import canonicalize_name, name_keys
from ..model.ledger import Ledger
from ..model.ownership import BYTECODE
from ..plurals import count_of
from ..printable import printable_lines
from ..rules.findings import Finding
from ..rules.kinds import Export, Repair
from .channels import channel_name
from .plan import Reinstall, Removal, RepairPlan, Suggestion, Sweep
from .removefiles import refused
from .steps import CondaLauncher, Step, conda_steps, remove_files_step

#: Marker states meaning a PEP 668 ``EXTERNALLY-MANAGED`` file is present (see marker.py).
_HARD_MARKER_STATES = ("pipguard", "foreign")


def _pip_only(finding: Finding, target: Reinstall) -> bool:
    """Whether the distribution a finding names is of a project no conda package provides."""
    if finding.row.export is Export.CONDA_WINS:
        return False  # conda's package provides what it did (its project, or its import name)
    if finding.dist is not None and finding.dist.key in name_keys(target.name):
        return False  # the plan puts conda's package of that project back
    layer = finding.layer
    return layer is None or not layer.replaces_conda


@dataclass
class _Builder:
    diagnosis: Diagnosis
    reinstalls: dict[str, Reinstall] = field(default_factory=dict)
    removals: dict[str, Removal] = field(default_factory=dict)  # by distribution path
    sweeps: dict[str, Sweep] = field(default_factory=dict)  # by conda package name
    resolved: list[str] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def env(self) -> Environment:
        return self.diagnosis.env

    def ledger(self) -> Ledger:
        overlay = self.diagnosis.analysis.overlay
        return overlay.ledger if overlay is not None else Ledger(self.env.prefix)

    def target(self, finding: Finding) -> Reinstall | None:
        """The conda package a finding is about, from its record or from history."""
        record, gone = finding.record, finding.history_dist
        if record is not None:
            return Reinstall(
                record.name,
                record.version,
                record.build,
                channel_name(record.channel, record.subdir),
            )
        if gone is None:
            return None
        return Reinstall(
            gone.name, gone.version, gone.build, channel_name(gone.channel), record_missing=True
        )

    def add_reinstall(self, target: Reinstall, label: str | None = None) -> None:
        known = self.reinstalls.get(target.name, target)
        replaced_by = (*known.replaced_by, label) if label else known.replaced_by
        self.reinstalls[target.name] = replace(known, replaced_by=tuple(dict.fromkeys(replaced_by)))

    def files_of(self, dist: Distribution) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What pip would remove, and what must not be touched.

        The first are the RECORD's files that are there, then the metadata directory; the
        second the paths that lead out of the prefix through a link.
        """
        ledger = self.ledger()
        paths = [e.path for e in dist.files or () if not e.path.startswith(f"{dist.path}/")]
        left_out = refused(ledger.within, [*paths, dist.path])
        kept = [p for p in paths if p not in left_out and ledger.exists(p)]
        return (*kept, *(() if dist.path in left_out else (dist.path,))), left_out

    def add_repair(self, finding: Finding, has_pip: bool) -> None:
        dist = finding.dist
        if dist is not None and dist.editable:
            message = f"{finding.message} (a development install: left alone)"
            self.suggestions.append(Suggestion(finding.kind, message, finding.fix))
            return
        target = self.target(finding)
        if target is None:
            self.suggestions.append(Suggestion(finding.kind, finding.message, finding.fix))
            return
        if dist is None:  # nothing to remove: conda's package comes back (dependency-gone)
            self.add_reinstall(target)
            return
        label = f"{dist.name} {dist.version} ({dist.installer or 'unknown installer'})"
        self.add_reinstall(target, label)
        previous = self.removals.get(dist.path)
        restores = (*previous.restores, target.name) if previous else (target.name,)
        paths, left_out = self.files_of(dist) if not has_pip else ((), ())
        self.removals[dist.path] = Removal(
            dist.name,
            dist.version,
            dist.installer,
            dist.path,
            # pip removes one copy per run, and may pick conda's own first.
            runs=max(1, sum(1 for d in self.env.distributions if d.key == dist.key))
            if has_pip
            else 1,
            restores=tuple(dict.fromkeys(restores)),
            pip_only=_pip_only(finding, target),
            method="pip" if has_pip else "files",
            paths=paths,
            refused=left_out,
        )

    def add_stale(self, finding: Finding) -> None:
        layer = finding.layer
        if layer is None:
            self.suggestions.append(Suggestion(finding.kind, finding.message, finding.fix))
            return
        dist = layer.dist
        overlay = self.diagnosis.analysis.overlay
        ledger = self.ledger()
        bytecode = [
            e.path
            for e in dist.files or ()
            if e.path.endswith(BYTECODE)
            and (overlay is None or overlay.owners.paths.owner(e.path) is None)
            and ledger.exists(e.path)
        ]
        listed = [e.path for e in dist.files or ()]
        left_out = refused(ledger.within, [*listed, *layer.leftovers, *bytecode, dist.path])
        paths = [p for p in (*layer.leftovers, *bytecode, dist.path) if p not in left_out]
        self.removals[dist.path] = Removal(
            dist.name,
            dist.version,
            dist.installer,
            dist.path,
            restores=(),
            method="files",
            paths=tuple(paths),
            refused=tuple(dict.fromkeys(left_out)),
        )

    def add_sweep(self, finding: Finding) -> None:
        overlay = self.diagnosis.analysis.overlay
        record = finding.record
        left = overlay.conda_files.leftovers.get(record.name) if overlay and record else None
        if left is None or record is None:
            self.suggestions.append(Suggestion(finding.kind, finding.message, finding.fix))
            return
        self.sweeps[record.name] = Sweep(
            record.name, record.version, left.files, left.bytecode, left.scripts
        )

    def removes(self, distribution: str | None) -> bool:
        key = canonicalize_name(distribution or "")
        return any(canonicalize_name(r.name) == key for r in self.removals.values())

    def removes_copy(self, finding: Finding) -> bool:
        """Whether the plan removes the very distribution *finding* is about."""
        return finding.location is not None and finding.location in self.removals

    def resolves(self, finding: Finding) -> bool:
        """Whether the plan's actions take away what *finding* is about."""
        dependency = finding.details.get("dependency")
        return self.removes(finding.distribution) or (
            isinstance(dependency, str) and dependency in self.reinstalls
        )

    def build(self) -> None:
        findings = self.diagnosis.analysis.findings
        has_pip = self.env.python is not None and any(
            d.key == "pip" and d.path not in self.removals for d in self.env.distributions
        )
        # actions first: what the others follow from (FOLLOWS, LEAVE) depends on the removals
        for finding in findings:
            repair = finding.row.repair
            if repair is Repair.REPLACE:
                self.add_repair(finding, has_pip)
            elif repair is Repair.REINSTALL:
                target = self.target(finding)
                if target is None:
                    self.suggestions.append(Suggestion(finding.kind, finding.message, ""))
                else:
                    self.add_reinstall(target)
            elif repair is Repair.CLEAR:
                self.add_stale(finding)
            elif repair is Repair.SWEEP:
                self.add_sweep(finding)
        for finding in findings:
            repair = finding.row.repair
            if repair is Repair.FOLLOWS:
                if self.resolves(finding):
                    self.resolved.append(finding.message)
                else:
                    self.suggestions.append(Suggestion(finding.kind, finding.message, ""))
            elif repair is Repair.LEAVE:
                if finding.location in self.removals:
                    continue  # a pip-only project that overwrote conda's files: removed above
                label = finding.distribution or finding.location or "?"
                version = f" {finding.version}" if finding.version else ""
                self.untouched.append(f"{label}{version} ({finding.kind})")
            elif repair is Repair.SUGGEST and finding.distribution and self.removes_copy(finding):
                self.resolved.append(finding.message)  # (an incomplete copy the plan removes)
            elif repair is Repair.SUGGEST and finding.fix:
                self.suggestions.append(Suggestion(finding.kind, finding.message, finding.fix))


def _steps(
    prefix: Path,
    env_python: str,
    reinstalls: tuple[Reinstall, ...],
    removals: tuple[Removal, ...],
    sweeps: tuple[Sweep, ...],
    *,
    conda: CondaLauncher,
    python: str,
    offline: bool,
    pip_env: dict[str, str],
) -> tuple[Step, ...]:
    channels = list(dict.fromkeys(r.channel for r in reinstalls if r.channel))
    names = ", ".join(f"{r.name} {r.version}" for r in reinstalls)
    check, reinstall = conda_steps(
        conda, str(prefix), [r.spec for r in reinstalls], channels, names, offline=offline
    )
    steps = [check] if reinstalls else []
    ordered = sorted(removals, key=lambda r: (r.method == "pip" and r.name == "pip", r.method))
    for removal in ordered:
        restores = ", ".join(removal.restores)
        if removal.restores:
            purpose = f"remove {removal.label}, which damaged conda's {restores}"
        else:
            purpose = f"remove what is left of {removal.label}; conda's files stay"
        if removal.pip_only:
            purpose += " (no conda package provides it: reinstall it afterwards if you need it)"
        if removal.method == "files":
            what = f"{removal.label}'s files and {removal.location}"
            steps.append(remove_files_step(python, str(prefix), removal.paths, purpose, what))
            continue
        for run in range(removal.runs):
            extra = f" (copy {run + 1} of {removal.runs})" if removal.runs > 1 else ""
            steps.append(
                Step(
                    "pip-uninstall",
                    (env_python, "-I", "-m", "pip", "uninstall", "-y", removal.name),
                    purpose + extra,
                    dict(pip_env),
                )
            )
    if reinstalls:
        steps.append(reinstall)
    # last: until conda's files are back, another install's may be what imports
    steps.extend(_sweep_step(python, str(prefix), sweep) for sweep in sweeps)
    return tuple(steps)


def build_plan(
    diagnosis: Diagnosis,
    *,
    conda: CondaLauncher = ("conda",),
    offline: bool = False,
    python: str = sys.executable,
) -> RepairPlan:
    """The repair plan for one diagnosed environment.

    Args:
        diagnosis: What ``status`` found.
        conda: How to run conda (``sys.executable -m conda`` inside conda, ``$CONDA_EXE``
            outside); only used to spell the commands.
        offline: Add ``--offline`` to conda's commands.
        python: The interpreter that runs the file removals (the env may have none).

    Returns:
        The plan; ``steps`` is empty when nothing needs doing.
    """
    builder = _Builder(diagnosis)
    builder.build()
    env = diagnosis.env
    reinstalls = tuple(builder.reinstalls.values())
    removals = tuple(builder.removals.values())
    sweeps = tuple(builder.sweeps.values())
    steps: tuple[Step, ...] = ()
    if reinstalls or removals or sweeps:
        hard = diagnosis.marker.state in _HARD_MARKER_STATES
        executable = env.python.executable if env.python else "bin/python"
        steps = _steps(
            env.prefix,
            str(env.prefix / executable),
            reinstalls,
            removals,
            sweeps,
            conda=conda,
            python=python,
            offline=offline,
            pip_env={"PIP_BREAK_SYSTEM_PACKAGES": "1"} if hard else {},
        )
    return RepairPlan(
        prefix=env.prefix,
        verdict=diagnosis.verdict,
        steps=steps,
        reinstalls=reinstalls,
        removals=removals,
        sweeps=sweeps,
        resolved=tuple(builder.resolved),
        untouched=tuple(builder.untouched),
        suggestions=tuple(builder.suggestions),
    )


def _sweep_step(python: str, prefix: str, sweep: Sweep) -> Step:
    """The ``remove-files`` step of one sweep, its counts and a sample in its purpose."""
    counts = count_of(len(sweep.files) + len(sweep.scripts), "file")
    if sweep.bytecode:
        counts += f" and {len(sweep.bytecode)} .pyc"
    sample = ", ".join(sweep.paths[:3]) + (", ..." if len(sweep.paths) > 3 else "")
    return remove_files_step(
        python,
        prefix,
        sweep.paths,
        f"remove what another install left among conda's {sweep.name} {sweep.version}, now "
        f"that conda's files are back: {counts} no record and no distribution lists ({sample})",
        f"the leftovers among conda's {sweep.name}",
    )


def render_plan(plan: RepairPlan) -> str:
    """The plan for people: numbered commands with their purpose, then what is left alone."""
    lines = [f"Repair plan for {plan.prefix} ({plan.verdict}):"]
    if not plan.steps:
        lines.append("  nothing to repair: no conda package was replaced, overwritten or altered")
    for number, step in enumerate(plan.steps, start=1):
        lines.append(f"  {number}. {step.shown}")
        lines.append(f"     {step.purpose}")
    if plan.resolved and plan.steps:
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
    for removal in plan.removals:
        lines.extend(f"  not touched: {path} ({LEADS_OUTSIDE})" for path in removal.refused)
    return printable_lines(lines)

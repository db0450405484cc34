"""The parts of a repair plan: what is reinstalled, what is removed, and how, in order."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..disk.frozen import OVERRIDE, read_freeze
from .steps import Step


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
        method: ``pip`` (the env's pip uninstalls it) or ``files`` (exactly *paths* are
            removed: the env has no pip, or the metadata is stale and conda's files stay).
        paths: Prefix-relative paths the ``files`` method removes.
        refused: Paths its RECORD lists that lead out of the prefix through a link: the plan
            does not touch them.
    """

    name: str
    version: str
    installer: str | None
    location: str
    runs: int = 1
    restores: tuple[str, ...] = ()
    pip_only: bool = False
    method: str = "pip"
    paths: tuple[str, ...] = field(default=(), repr=False)
    refused: tuple[str, ...] = ()

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
            "method": self.method,
            "paths": len(self.paths),
            "refused": list(self.refused),
        }


@dataclass(frozen=True)
class Sweep:
    """Files no record and no distribution lists, among a conda package's own, to remove.

    Attributes:
        name: The conda package whose directories hold them.
        version: Its version.
        files: The files (not byte code), prefix-relative.
        bytecode: Their byte code (and byte code of modules that are gone).
        scripts: Console scripts that import them and that nothing lists.
    """

    name: str
    version: str
    files: tuple[str, ...] = field(default=(), repr=False)
    bytecode: tuple[str, ...] = field(default=(), repr=False)
    scripts: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        """Everything the sweep removes."""
        return (*self.files, *self.scripts, *self.bytecode)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.name,
            "version": self.version,
            "files": len(self.files) + len(self.scripts),
            "bytecode": len(self.bytecode),
            "scripts": list(self.scripts),
            "sample": list(self.paths[:20]),
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
        sweeps: Leftovers removed after conda's reinstall.
        resolved: Messages of findings the steps resolve without a step of their own.
        untouched: Labels of the distributions left alone (pip-only, editable).
        suggestions: Findings the plan does not act on.
    """

    prefix: Path
    verdict: str
    steps: tuple[Step, ...] = ()
    reinstalls: tuple[Reinstall, ...] = ()
    removals: tuple[Removal, ...] = ()
    sweeps: tuple[Sweep, ...] = ()
    resolved: tuple[str, ...] = ()
    untouched: tuple[str, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()

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
            "sweep": [sweep.to_dict() for sweep in self.sweeps],
            "resolved": list(self.resolved),
            "untouched": list(self.untouched),
            "suggestions": [suggestion.to_dict() for suggestion in self.suggestions],
        }


def override_frozen(plan: RepairPlan) -> RepairPlan:
    """*plan* with ``--override-frozen`` on its conda commands, when its environment is frozen.

    The user overrode the freeze for ``fix``; conda checks it again for each of its commands.
    """
    if read_freeze(plan.prefix) is None:
        return plan
    steps = tuple(
        dataclasses.replace(step, argv=(*step.argv, OVERRIDE))
        if step.action in ("check", "conda-reinstall")
        else step
        for step in plan.steps
    )
    return dataclasses.replace(plan, steps=steps)

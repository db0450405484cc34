"""One call from a prefix to everything ``status`` reports: environment, findings, lock state."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .disk.activation import Activation
from .disk.environment import Environment, collector_paused, load_environment
from .disk.frozen import Freeze, read_freeze
from .disk.pypinames import NameTable, name_table
from .locks.marker import LockStatus, read_status
from .rules.analysis import Analysis, analyze
from .rules.versionspec import Matcher


@dataclass(frozen=True)
class Diagnosis:
    """The read-only diagnosis of one environment.

    Attributes:
        env: What is on disk.
        analysis: The findings.
        marker: The lock state.
        frozen: The env's freeze (CEP 22's ``conda-meta/frozen``), or None.
    """

    env: Environment
    analysis: Analysis
    marker: LockStatus
    frozen: Freeze | None = None

    @property
    def verdict(self) -> str:
        """``clean``, ``pip-touched``, ``at-risk`` or ``broken``."""
        return self.analysis.verdict()

    def to_dict(self) -> dict[str, Any]:
        """The object of the ``status --json`` contract."""
        env = self.env
        return {
            "prefix": str(env.prefix),
            "name": env.name,
            "verdict": self.verdict,
            "python": env.python.to_dict() if env.python else None,
            "marker": self.marker.to_dict(),
            "counts": {
                "conda_records": len(env.records),
                "distributions": len(env.distributions),
                "non_conda_distributions": len(self.analysis.non_conda),
            },
            "findings": [finding.to_dict() for finding in self.analysis.findings],
            "frozen": self.frozen.to_dict() if self.frozen is not None else None,
        }


def diagnose(
    prefix: str | os.PathLike[str],
    name: str | None = None,
    *,
    matcher: Matcher | None = None,
    environ: Mapping[str, str] | None = None,
    names: Callable[[], NameTable | None] = name_table,
) -> Diagnosis:
    """Read and analyse the environment at *prefix*.

    *names* gives conda-pypi's PyPI<->conda name table, read only where a message or the soft
    lock needs it (default: conda-pypi's, where it is installed next to us).

    Raises:
        NotACondaEnvironment: *prefix* is not a conda environment.
    """
    from .locks.softstatus import soft_lock_status

    activation = Activation.of(Path(os.path.abspath(prefix)), environ)  # once, for every reader
    env = load_environment(prefix, name, activation=activation)
    with collector_paused():  # as the read: many small objects, no cycles
        analysis = analyze(env, matcher, names)
    # The soft lock is compared with what conda owns now (stale pins), hence after the analysis.
    soft = soft_lock_status(
        env.prefix,
        analysis.conda_distributions,
        activation=activation,
        records=env.records,
        names=names,
    )
    marker = read_status(
        env.prefix, env.python, records=env.records, activation=activation, soft=soft
    )
    return Diagnosis(env, analysis, marker, read_freeze(env.prefix))

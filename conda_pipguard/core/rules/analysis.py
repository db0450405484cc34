"""Environment + ledger -> findings, one pure rule per kind.

Ownership is decided by files (:mod:`..model.ownership`), what is on disk by the ledger
(:mod:`..model.ledger`), how each non-conda distribution lies over conda's packages by the overlay
(:mod:`..model.overlay`, with conda's own files and the twins it reads on first use); the rules
(:mod:`.layers`, :mod:`.files`, :mod:`.leftovers`, :mod:`.twins`, :mod:`.gone`, :mod:`.env`) read
those and nothing else, so the order they run in does not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..disk.distributions import Distribution
from ..disk.environment import Environment
from ..disk.pypinames import NameTable, name_table
from ..model.ledger import Ledger
from ..model.overlay import Overlay, build_overlay
from ..model.ownership import Ownership
from .env import debris, duplicate, stranded, unsatisfied, user_site
from .files import file_findings
from .findings import Finding, sort_findings, verdict
from .fixes import FixCommands
from .layers import (
    clobbered,
    dependency_broken,
    incomplete,
    pip_only,
    shadowed,
    stale_metadata,
)
from .versionspec import Matcher, match_depends

#: The rules that take only the overlay and the fix spelling.
_RULES = (
    shadowed,
    clobbered,
    stale_metadata,
    incomplete,
    pip_only,
    file_findings,
    unsatisfied,
    duplicate,
    stranded,
    user_site,
    debris,
)


@dataclass(frozen=True)
class Analysis:
    """The findings of one environment.

    Attributes:
        findings: Sorted worst first.
        conda_distributions: Distributions conda installed and still owns.
        non_conda: Distributions that did not come from conda (or replaced conda's).
        overlay: What the findings were derived from (the ledger, each non-conda layer).
    """

    findings: tuple[Finding, ...]
    conda_distributions: tuple[Distribution, ...]
    non_conda: tuple[Distribution, ...]
    overlay: Overlay | None = None

    def verdict(self) -> str:
        """``clean``, ``pip-touched``, ``at-risk`` or ``broken``."""
        return verdict(self.findings, len(self.non_conda))


def analyze(
    env: Environment,
    matcher: Matcher | None = None,
    names: Callable[[], NameTable | None] = name_table,
    ledger: Ledger | None = None,
) -> Analysis:
    """Find everything non-conda installers did to *env*.

    Args:
        env: The environment read from disk.
        matcher: Decides whether a version satisfies a conda ``depends`` entry; conda's own
            ``MatchSpec`` when the caller has conda, the documented subset otherwise.
        names: conda-pypi's PyPI<->conda name table, read only if a message needs it.
        ledger: What is on disk (default: the disk at ``env.prefix``); a planned install
            passes one that answers for the files it would write (:mod:`..pipcheck.planned`).
    """
    # The hooks import this module for the helpers above, and their look runs none of these
    # rules: imported here, they cost the hooks nothing.
    from .gone import dependency_gone
    from .leftovers import leftovers
    from .twins import import_shadowed, library_twin

    ledger = ledger if ledger is not None else Ledger(env.prefix)
    overlay = build_overlay(env, Ownership.of(env.records), ledger, names)
    fixes = FixCommands(env)
    findings: list[Finding] = []
    for rule in (*_RULES, leftovers, import_shadowed, library_twin):
        findings += rule(overlay, fixes)
    findings += dependency_broken(overlay, fixes, matcher or match_depends)
    findings += dependency_gone(overlay, fixes, matcher or match_depends)
    return Analysis(
        tuple(sort_findings(findings)),
        overlay.conda_dists,
        tuple(layer.dist for layer in overlay.layers),
        overlay,
    )

"""What a planned pip install changes in the findings: the analysis after it against now.

Both analyses are ``status``'s own (:func:`~..rules.analysis.analyze`), so every rule that
knows a kind of damage (a project replaced, a file overwritten, a requirement broken, an
import name or a shared library twice) judges a planned install as it judges the disk. A
finding is *new* when the env has none like it now (same kind, distribution and conda
package), *worse* when it is more severe or counts more files overwritten or deleted. What
harms conda is a new or worse finding of warning or error that names a conda package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..disk.names import canonicalize_name
from ..rules.analysis import Analysis
from ..rules.findings import Finding
from ..rules.kinds import Severity


def _key(finding: Finding) -> tuple[Any, ...]:
    """What makes two findings the same one, before and after (versions and paths aside)."""
    dist = canonicalize_name(finding.distribution) if finding.distribution else None
    if dist or finding.conda_package:
        return (finding.kind, dist, finding.conda_package)
    return (finding.kind, finding.location)


def _worse(after: Finding, before: Finding) -> bool:
    if after.level > before.level:
        return True
    if after.paths is None or before.paths is None:
        return False
    pairs = (
        (after.paths.overwritten, before.paths.overwritten),
        (after.paths.deleted, before.paths.deleted),
    )
    return any(a is not None and b is not None and a > b for a, b in pairs)


def harms_conda(finding: Finding) -> bool:
    """Whether *finding* is damage to a conda package (not information, not pip's own)."""
    named = finding.conda_package is not None or finding.record is not None
    return named and finding.level >= Severity.WARNING


@dataclass(frozen=True)
class PipImpact:
    """The difference a planned install makes to the findings.

    Attributes:
        new: Findings after the install that are new or worse, worst first.
        resolved: Findings of now that the install makes go away.
    """

    new: tuple[Finding, ...] = ()
    resolved: tuple[Finding, ...] = ()

    @property
    def harm(self) -> tuple[Finding, ...]:
        """The new or worse findings that damage conda's packages."""
        return tuple(f for f in self.new if harms_conda(f))

    @property
    def harmed(self) -> tuple[str, ...]:
        """The conda packages harmed, in order of the findings."""
        names = (f.conda_package or (f.record.name if f.record else "") for f in self.harm)
        return tuple(dict.fromkeys(name for name in names if name))


def compare(before: Analysis, after: Analysis) -> PipImpact:
    """The findings *after* adds or worsens over *before*, and those it resolves."""
    then: dict[tuple[Any, ...], Finding] = {}
    for finding in before.findings:
        then.setdefault(_key(finding), finding)
    now_keys = set()
    new = []
    for finding in after.findings:
        key = _key(finding)
        now_keys.add(key)
        previous = then.get(key)
        if previous is None or _worse(finding, previous):
            new.append(finding)
    resolved = [f for key, f in then.items() if key not in now_keys]
    return PipImpact(tuple(new), tuple(resolved))


def findings_json(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Findings as the JSON contract spells them."""
    return [finding.to_dict() for finding in findings]

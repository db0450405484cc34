"""The shared vocabulary of text output, JSON and tests: findings, severities, verdicts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .kinds import KINDS, ORDER, Kind, Severity

if TYPE_CHECKING:
    from ..disk.distributions import Distribution
    from ..disk.history import HistoryDist
    from ..disk.records import CondaRecord
    from ..model.overlay import Layer


@dataclass(frozen=True)
class PathCounts:
    """What happened to the files of a conda package.

    Each count is None when it cannot be known (the record is gone and history has no file
    list): never a zero that would read as "nothing happened".

    Attributes:
        overwritten: Files another installer rewrote with different content.
        deleted: Files that are gone.
        identical: Files another installer rewrote with the same content.
    """

    overwritten: int | None = 0
    deleted: int | None = 0
    identical: int | None = 0

    @classmethod
    def unknown(cls) -> PathCounts:
        """Counts nobody can know."""
        return cls(None, None, None)

    def to_dict(self) -> dict[str, int | None]:
        """The ``paths`` object of the JSON contract."""
        return {
            "overwritten": self.overwritten,
            "deleted": self.deleted,
            "identical": self.identical,
        }


@dataclass(frozen=True)
class Finding:
    """One thing wrong (or worth knowing) about an environment.

    Attributes:
        kind: The name of one of :data:`~.kinds.KINDS`.
        message: One line for people.
        fix: The command (or step) that fixes it; '' when nothing needs doing.
        severity: Defaults to the kind's severity.
        distribution: The Python distribution concerned.
        version: Its version.
        installer: Its ``INSTALLER``.
        conda_package: The conda package concerned.
        conda_version: That package's version.
        paths: File counts for ``shadowed``/``clobbered``.
        location: Prefix-relative path the finding is about (a dist-info, a record...).
        details: Extra JSON-ready facts (additive to the contract).
        brief: The message without the counts and paths of conda's files it names, for a
            reader that leaves those to conda's own checks (``conda doctor``); '' when the
            message names none (not in the JSON).
        dist: The distribution object the rule looked at (not in the JSON, not compared).
        record: The conda record concerned, when ``conda-meta`` still has it (idem).
        history_dist: The conda package ``conda-meta/history`` names, when its record is gone
            (idem).
        layer: How the distribution lies over conda's files (idem; rules over layers set it).

    The last four are the objects the analysis already holds, for the code that acts on a
    finding (:mod:`..repair.build`, :mod:`..repair.export`): it uses them directly instead of
    looking the names up again. A finding built without them (a test's, ``--verify``'s) is
    acted on as one that names nothing to act on.
    """

    kind: str
    message: str
    fix: str = ""
    severity: Severity | None = None
    distribution: str | None = None
    version: str | None = None
    installer: str | None = None
    conda_package: str | None = None
    conda_version: str | None = None
    paths: PathCounts | None = None
    location: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    brief: str = field(default="", compare=False, repr=False)
    dist: Distribution | None = field(default=None, compare=False, repr=False)
    record: CondaRecord | None = field(default=None, compare=False, repr=False)
    history_dist: HistoryDist | None = field(default=None, compare=False, repr=False)
    layer: Layer | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")
        if self.severity is None:
            object.__setattr__(self, "severity", KINDS[self.kind].severity)

    @classmethod
    def about(
        cls,
        kind: str,
        message: str,
        fix: str = "",
        *,
        dist: Distribution | None = None,
        record: CondaRecord | None = None,
        history_dist: HistoryDist | None = None,
        **fields: Any,
    ) -> Finding:
        """A finding about a distribution and/or a conda package, its names taken from them.

        *dist* gives ``distribution``, ``version``, ``installer`` and ``location``; *record*
        (or *history_dist*, when ``conda-meta`` lost the record) gives ``conda_package`` and
        ``conda_version``. *fields* give the rest, and win over those (``location=None``).
        """
        names: dict[str, Any] = {}
        if dist is not None:
            names.update(
                distribution=dist.name,
                version=dist.version,
                installer=dist.installer,
                location=dist.path,
            )
        package = record or history_dist
        if package is not None:
            names.update(conda_package=package.name, conda_version=package.version)
        return cls(
            kind,
            message,
            fix,
            dist=dist,
            record=record,
            history_dist=history_dist,
            **{**names, **fields},
        )

    @property
    def level(self) -> Severity:
        """The severity, never None."""
        return self.severity or KINDS[self.kind].severity

    @property
    def row(self) -> Kind:
        """The kind's row of the registry: how repair, export, verify and history treat it."""
        return KINDS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        """The finding as the JSON contract spells it."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "severity": str(self.level),
            "distribution": self.distribution,
            "version": self.version,
            "installer": self.installer,
            "conda_package": self.conda_package,
            "conda_version": self.conda_version,
            "paths": self.paths.to_dict() if self.paths else None,
            "location": self.location,
            "message": self.message,
            "fix": self.fix,
        }
        if self.details:
            data["details"] = self.details
        return data


VERDICTS = ("clean", "pip-touched", "at-risk", "broken")


def verdict(findings: Iterable[Finding], non_conda: int) -> str:
    """``clean``, ``pip-touched``, ``at-risk`` or ``broken`` from the worst finding."""
    worst = max((finding.level for finding in findings), default=None)
    if worst is Severity.ERROR:
        return "broken"
    if worst is Severity.WARNING:
        return "at-risk"
    if worst is Severity.INFO and non_conda:
        return "pip-touched"
    return "clean"


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by kind and distribution, for stable output."""
    return sorted(
        findings,
        key=lambda f: (-f.level, ORDER[f.kind], f.distribution or "", f.location or ""),
    )

"""The finding kinds, one row each: how bad, in which order, and how every reader treats them.

Adding a kind is one row here plus one rule (:mod:`.analysis` lists the rules): the repair
plan, the export, ``--verify`` and the timeline read a kind's attributes, never its name.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that ``max()`` gives the worst."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """``info``/``warning``/``error`` to a severity."""
        return cls[text.upper()]


class Repair(enum.Enum):
    """What ``conda pipguard fix`` does with a finding of a kind (:mod:`..repair.build`)."""

    #: Remove the non-conda distribution (when it names one), then reinstall conda's exact
    #: package (its record's, or the one ``conda-meta/history`` last linked).
    REPLACE = "replace"
    #: Reinstall conda's exact package: its files changed with no distribution to blame.
    REINSTALL = "reinstall"
    #: Remove the files a stale distribution left, and its metadata.
    CLEAR = "clear"
    #: Remove files no record and no distribution lists, after conda's reinstall (when the
    #: plan has one) has put conda's own back.
    SWEEP = "sweep"
    #: Resolved when the plan removes the distribution it names; a suggestion otherwise.
    FOLLOWS = "follows"
    #: Left alone, and listed as left alone.
    LEAVE = "leave"
    #: Not acted on: the finding's own fix is shown as a suggestion.
    SUGGEST = "suggest"


class Export(enum.Enum):
    """What ``conda pipguard export`` does with a finding of a kind (:mod:`..repair.export`)."""

    #: Its distribution goes under ``pip:`` (when wanted: requested, or needed by nothing).
    PIP = "pip"
    #: Its development install is written as a comment.
    EDITABLE = "editable"
    #: Not exported: conda's package is what the new env gets (a note says so).
    CONDA_WINS = "conda-wins"
    #: Not exported: its metadata is stale (a note says so).
    STALE = "stale"
    #: Exported under ``pip:`` again, complete (unless it shadows a conda package).
    COMPLETE = "complete"
    #: A note that installing it again overwrites conda's files again.
    OVERWRITES = "overwrites"
    #: Nothing to export.
    NONE = "none"


class Verify(enum.Enum):
    """What ``status --verify`` imports for a finding (warning or worse) of a kind."""

    #: The conda package the finding names.
    PACKAGE = "package"
    #: That package, and the conda packages that depend on it (another copy replaced it).
    DEPENDENTS = "dependents"
    #: Nothing.
    NONE = "none"


class Timeline(enum.Enum):
    """How ``conda pipguard history`` tells a finding as an install's effect."""

    #: "replaced conda's X"; counted in the install's one-line summary of what it replaced.
    REPLACED = "replaced"
    #: "overwrote N files of conda's X"; counted as :attr:`REPLACED` is.
    OVERWROTE = "overwrote"
    #: Gathered into one "broke conda's X, Y (need ...)"; about the conda package, not a copy.
    BROKE = "broke"
    #: Its message, as it is.
    AS_IS = "as-is"


@dataclass(frozen=True)
class Kind:
    """One finding kind (one row of DESIGN.md's table).

    Attributes:
        name: What text, JSON and tests call it.
        severity: Its findings' severity, unless a rule says otherwise for one finding.
        repair: What ``fix`` does with it.
        export: What ``export`` does with it.
        verify: What ``status --verify`` imports for it.
        timeline: How ``history`` tells it.
    """

    name: str
    severity: Severity
    repair: Repair = Repair.SUGGEST
    export: Export = Export.NONE
    verify: Verify = Verify.PACKAGE
    timeline: Timeline = Timeline.AS_IS


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

#: Every kind, in the order findings of one severity are shown.
_TABLE = (
    Kind("shadowed", _E, Repair.REPLACE, Export.CONDA_WINS, Verify.DEPENDENTS, Timeline.REPLACED),
    Kind("clobbered", _E, Repair.REPLACE, Export.OVERWRITES, Verify.DEPENDENTS, Timeline.OVERWROTE),
    Kind("import-shadowed", _E, Repair.REPLACE, Export.CONDA_WINS, Verify.DEPENDENTS),
    Kind("altered", _E, Repair.REINSTALL, verify=Verify.DEPENDENTS),
    Kind("incomplete", _E, export=Export.COMPLETE, verify=Verify.DEPENDENTS),
    Kind("conda-dependency-broken", _E, Repair.FOLLOWS, timeline=Timeline.BROKE),
    Kind("dependency-gone", _E, Repair.REPLACE),
    Kind("stale-metadata", _W, Repair.CLEAR, Export.STALE, Verify.DEPENDENTS),
    Kind("leftovers", _W, Repair.SWEEP, verify=Verify.DEPENDENTS),
    Kind("library-twin", _W, verify=Verify.NONE),
    Kind("duplicate", _W, Repair.FOLLOWS),
    Kind("unsatisfied", _W),
    Kind("missing-files", _W, Repair.REINSTALL),
    Kind("stranded", _W),
    Kind("user-site", _W),
    Kind("corrupt-record", _W),
    Kind("pip-only", _I, Repair.LEAVE, Export.PIP, Verify.NONE),
    Kind("editable", _I, Repair.LEAVE, Export.EDITABLE, Verify.NONE),
    Kind("debris", _I, verify=Verify.NONE),
    Kind("import-fails", _E),  # status --verify only (core/incident/verify.py)
)

#: Kind name -> its row.
KINDS: Mapping[str, Kind] = MappingProxyType({kind.name: kind for kind in _TABLE})

#: Kind name -> its place in the table (the sort order within a severity).
ORDER: Mapping[str, int] = MappingProxyType({kind.name: i for i, kind in enumerate(_TABLE)})

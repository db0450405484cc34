"""Twins without a shared name: one import name, or one shared library, in two owners' files.

``pip install opencv-python`` next to conda's ``opencv`` (both provide ``cv2``) shares no
distribution name and no file path with it, yet Python imports only one of them; PyPI's
``nvidia-cudnn-cu12`` next to conda's ``cudnn`` ships a second ``libcudnn.so.9``, and two copies of
one library in a process are a known source of crashes. The model finds them from file lists
alone (:mod:`..model.provides`); these rules say which copy wins and what to do.
"""

from __future__ import annotations

from ..disk.distributions import Distribution
from ..disk.records import CondaRecord
from ..model.overlay import Overlay
from ..model.ownership import label
from ..plurals import count_of
from .findings import Finding
from .fixes import FixCommands
from .kinds import Severity
from .layers import dependents_of

_SAMPLE = 20


def import_shadowed(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """A conda package and a non-conda distribution of another project provide one import name.

    When pip's copy wins, conda's package is shadowed: an error. When conda's wins, pip's copy
    is never imported, whatever ``pip list`` says: a warning, since what imports is conda's but
    the user believes to have pip's version (and removing conda's package would expose it).
    """
    site = overlay.env.python.site_packages if overlay.env.python else ""
    findings = []
    for twin in overlay.twins.imports:
        pip_wins = isinstance(twin.winner, Distribution)
        dist: Distribution = twin.winner if pip_wins else twin.loser
        record: CondaRecord = twin.loser if pip_wins else twin.winner
        conda = f"conda's {record.name} {record.version}"
        dist_path, conda_path = (
            (twin.winner_path, twin.loser_path) if pip_wins else (twin.loser_path, twin.winner_path)
        )
        dist_form, conda_form = (
            (twin.winner_form, twin.loser_form) if pip_wins else (twin.loser_form, twin.winner_form)
        )
        why = (
            f"{dist_form.text} ({dist_path}) comes before {conda_form.text} ({conda_path})"
            if pip_wins
            else f"{conda_form.text} ({conda_path}) comes before {dist_form.text} ({dist_path})"
        )
        if pip_wins:
            message = (
                f"{label(dist)} provides {twin.name} over {conda}: import {twin.name} loads "
                f"pip's, not conda's ({why})"
            )
        else:
            message = (
                f"{conda} provides {twin.name} over {label(dist)}: import {twin.name} loads "
                f"conda's, and {dist.name} {dist.version} is never imported ({why})"
            )
        findings.append(
            Finding.about(
                "import-shadowed",
                message,
                fixes.repair(),
                dist=dist,
                record=record,
                severity=None if pip_wins else Severity.WARNING,
                details={
                    "import_name": twin.name,
                    "loads": "pip" if pip_wins else "conda",
                    "distribution_path": f"{site}/{dist_path}",
                    "conda_path": f"{site}/{conda_path}",
                },
            )
        )
    return findings


def library_twin(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """A non-conda distribution ships a shared library under a name a conda package ships."""
    findings: list[Finding] = []
    if not overlay.twins.libraries:
        return findings  # (and no requirement is read)
    needed_by = dependents_of(overlay)
    for twin in overlay.twins.libraries:
        dist, record = twin.dist, twin.record
        first, conda_first = twin.pairs[0]
        more = len(twin.pairs) - 1
        also = f" (and {count_of(more, 'other library')})" if more else ""
        users = sorted(needed_by.get(dist.key, []))
        uninstall = fixes.pip("uninstall", "-y", dist.name)
        if users:
            fix = (
                f"install {', '.join(users)} from conda instead of pip, then run: {uninstall}"
                f" (pip's {dist.name} is there for {', '.join(users)})"
            )
        else:
            fix = uninstall  # nothing installed needs pip's copy: conda's stays
        findings.append(
            Finding.about(
                "library-twin",
                f"{label(dist)} ships {first}, a second copy of {conda_first} of conda's "
                f"{record.name} {record.version}{also}: which one a process loads depends on "
                "the RPATH/RUNPATH of the module that loads it, LD_LIBRARY_PATH and which "
                "package is imported first, and two copies in one process can crash it",
                fix,
                dist=dist,
                record=record,
                details={"libraries": [list(pair) for pair in twin.pairs[:_SAMPLE]]},
            )
        )
    return findings

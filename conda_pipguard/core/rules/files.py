"""Findings about conda's own files where pip writes: altered or missing, unexplained.

The model reads them once (:mod:`..model.condafiles`: directory times first, sizes next, hashes
last); records a live non-conda distribution replaced or overwrote are left to
``shadowed``/``clobbered``. A package whose import entry point or most of whose files are gone
is effectively not installed: its ``missing-files`` finding is an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.overlay import Overlay
from ..model.ownership import dist_dir_of
from ..plurals import count_of
from .findings import Finding, PathCounts
from .fixes import FixCommands
from .kinds import Severity

if TYPE_CHECKING:
    from ..model.condafiles import RecordDamage

_SAMPLE = 20


def file_findings(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """``altered`` and ``missing-files`` for every record no live layer explains."""
    findings = []
    gone = overlay.conda_files.gone()
    for damage in overlay.conda_files.damage.values():
        record = damage.record
        altered, missing = damage.altered, damage.missing
        if altered:
            findings.append(
                Finding.about(
                    "altered",
                    f"{count_of(len(altered), 'file')} of conda's {record.name} "
                    f"{record.version} {'was' if len(altered) == 1 else 'were'} changed after "
                    f"conda installed {'it' if len(altered) == 1 else 'them'}, and no installed "
                    f"distribution explains it ({', '.join(altered[:3])}"
                    f"{', ...' if len(altered) > 3 else ''})",
                    fixes.repair(),
                    record=record,
                    paths=PathCounts(overwritten=len(altered), deleted=len(missing), identical=0),
                    location=record.record_path,
                    details={"altered": list(altered[:_SAMPLE])},
                    brief=f"files of conda's {record.name} {record.version} were changed after "
                    "conda installed them, and no installed distribution explains it",
                )
            )
        if missing:
            findings.append(_missing(damage, record.name in gone, fixes))
    return findings


def _missing(damage: RecordDamage, gone: bool, fixes: FixCommands) -> Finding:
    record, missing = damage.record, damage.missing
    how = (
        " (its Python metadata is gone too: pip probably uninstalled it)"
        if any(dist_dir_of(path) for path in missing)
        else ""
    )
    number = count_of(len(missing), "file")
    conda = f"conda's {record.name} {record.version}"
    if gone:
        entries = damage.entries_missing
        what = f", {entries[0].rpartition('/site-packages/')[2]} among them" if entries else ""
        tail = "; it cannot be imported and counts as not installed"
        message = (
            f"{conda} is gone: {len(missing)} of its {count_of(damage.counted, 'file')} "
            f"are missing{what}{how}{tail}"
        )
        brief = f"{conda} is gone: files of it are missing{what}{how}{tail}"
    else:
        message = f"{number} of {conda} {'is' if len(missing) == 1 else 'are'} missing{how}"
        brief = f"files of {conda} are missing{how}"
    return Finding.about(
        "missing-files",
        message,
        fixes.repair(),
        record=record,
        severity=Severity.ERROR if gone else None,
        paths=PathCounts(deleted=len(missing)),
        location=record.record_path,
        details={
            "missing": list(missing[:_SAMPLE]),
            "gone": gone,
            "entries_missing": list(damage.entries_missing[:_SAMPLE]),
        },
        brief=brief,
    )

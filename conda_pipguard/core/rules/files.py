"""Findings about conda's own files where pip writes: altered or missing, unexplained.

One pass over the files of every conda record that lie in site-packages or the scripts
directory, asking the ledger (directory times first, sizes next, hashes last). Records a live
non-conda distribution replaced or overwrote are left to ``shadowed``/``clobbered``.
"""

from __future__ import annotations

from ..model.ledger import Content
from ..model.overlay import Overlay
from ..model.ownership import countable, dist_dir_of
from .findings import Finding, PathCounts, count_of
from .fixes import FixCommands

_SAMPLE = 20


def pip_areas(overlay: Overlay) -> tuple[str, ...]:
    """Prefix-relative directories (with a trailing slash) where pip and uv write."""
    python = overlay.env.python
    if python is None:
        return ()
    return (f"{python.site_packages}/", f"{python.scripts}/")


def file_findings(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """``altered`` and ``missing-files`` for every record no live layer explains."""
    areas = pip_areas(overlay)
    if not areas:
        return []
    ledger = overlay.ledger
    findings = []
    for record in overlay.env.records:
        if record.name in overlay.involved:
            continue
        altered: list[str] = []
        missing: list[str] = []
        since = ledger.record_time(record)
        directory, untouched = None, False
        for file in record.files:
            path = file.path
            if not path.startswith(areas):
                continue
            # files come grouped by directory: one look per directory clears most of them
            parent = path.rpartition("/")[0]
            if parent != directory:
                directory, untouched = parent, ledger.untouched_since(parent, since)
            if untouched or not countable(file):
                continue
            state = ledger.conda_state(record, file)
            if state is Content.ALTERED:
                altered.append(file.path)
            elif state is Content.MISSING:
                missing.append(file.path)
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
                    details={"altered": altered[:_SAMPLE]},
                )
            )
        if missing:
            how = (
                " (its Python metadata is gone too: pip probably uninstalled it)"
                if any(dist_dir_of(path) for path in missing)
                else ""
            )
            findings.append(
                Finding.about(
                    "missing-files",
                    f"{count_of(len(missing), 'file')} of conda's {record.name} {record.version} "
                    f"{'is' if len(missing) == 1 else 'are'} missing{how}",
                    fixes.repair(),
                    record=record,
                    paths=PathCounts(deleted=len(missing)),
                    location=record.record_path,
                    details={"missing": missing[:_SAMPLE]},
                )
            )
    return findings

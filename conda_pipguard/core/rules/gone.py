"""Conda packages whose dependency is gone, or no longer conda's on disk.

``pip uninstall numpy`` over conda's numpy, or ``conda remove --force numpy`` after pip replaced
it, leaves scipy and pandas without the numpy they were built for, while every record that is
left still looks fine. A dependency counts as gone when its record is there but its files are
not (:attr:`~..model.condafiles.RecordDamage.gone`), or when its record is gone and nothing
takes its place but a non-conda copy that is incomplete or of a version the ``depends`` entry
refuses. A dependency whose files are a mix with another install's (leftovers inside it, and
its own files changed) is not the package the dependents were built against either.

The fix puts conda's package back: its record's exact build, or the one
``conda-meta/history`` last linked; a broken non-conda copy is removed first, never reinstalled
alone.
"""

from __future__ import annotations

from ..disk.history import History, HistoryDist
from ..disk.names import name_keys
from ..disk.records import CondaRecord
from ..model.overlay import Layer, Overlay
from ..model.ownership import label
from ..plurals import count_of
from .findings import Finding
from .fixes import FixCommands
from .versionspec import Matcher, split_depends


def last_linked(history: History) -> dict[str, HistoryDist]:
    """Package name -> the build ``conda-meta/history`` linked last (even if unlinked since)."""
    found: dict[str, HistoryDist] = {}
    for revision in history.revisions:
        for dist in revision.linked:
            found[dist.name] = dist
    return found


def dependency_gone(overlay: Overlay, fixes: FixCommands, matcher: Matcher) -> list[Finding]:
    """``dependency-gone``, and ``conda-dependency-broken`` for a dependency that is a mix."""
    env = overlay.env
    files = overlay.conda_files
    gone = files.gone()
    mixed = files.mixed()
    present = {record.name: record for record in env.records}
    replaced = overlay.replaced  # the version pip put there: conda-dependency-broken says it
    history = last_linked(env.history)
    copies: dict[str, Layer] = {layer.dist.key: layer for layer in overlay.layers if layer.live}
    # names worth a look: gone or mixed records, names history knows that have no record;
    # and (per entry) names without a record that a non-conda copy stands for
    relevant = ({*gone, *mixed} | (history.keys() - present.keys())) - replaced.keys()
    stand_ins = copies.keys() - present.keys()
    if not relevant and not stand_ins:
        return []
    names: dict[str, str] = {}
    findings: list[Finding] = []
    for record in env.records:
        if record.name in gone:
            continue  # told by its own missing-files error
        for entry in record.depends:
            name = names.get(entry)
            if name is None:
                name = names[entry] = split_depends(entry)[0]
            if name not in relevant and (
                name in present or name in replaced or not name_keys(name) & stand_ins
            ):
                continue
            about = f"conda's {record.name} {record.version} requires {entry}"
            dependency = present.get(name)
            if dependency is not None:
                if name in gone:
                    damage = gone[name]
                    findings.append(
                        Finding.about(
                            "dependency-gone",
                            f"{about} but conda's {name} {dependency.version} is gone "
                            f"({count_of(len(damage.missing), 'file')} missing): "
                            f"{record.name} cannot import it",
                            fixes.repair(),
                            record=dependency,  # what the repair puts back
                            conda_package=record.name,
                            conda_version=record.version,
                            location=record.record_path,
                            details={"requirement": entry, "dependency": name},
                        )
                    )
                elif name in mixed:
                    left = files.leftovers[name]
                    findings.append(
                        Finding.about(
                            "conda-dependency-broken",
                            f"{about} but conda's {name} {dependency.version} is a mix on disk: "
                            f"its own files were changed and {count_of(len(left.files), 'file')} "
                            f"of another install {'lies' if len(left.files) == 1 else 'lie'} "
                            f"among them: what imports as {name} is not conda's "
                            f"{dependency.version}",
                            fixes.repair(),
                            record=record,
                            location=None,
                            details={"requirement": entry, "dependency": name},
                        )
                    )
                continue
            copy = next((copies[key] for key in name_keys(name) if key in copies), None)
            if (
                copy is not None
                and not copy.missing
                and matcher(entry, copy.dist.version) is not False
            ):
                continue  # a complete copy that fits takes its place
            restore = history.get(name)
            if copy is None and restore is None:
                continue  # never installed here: conda's own consistency check tells that
            findings.append(_record_gone(record, entry, name, copy, restore, about, fixes))
    return findings


def _record_gone(
    record: CondaRecord,
    entry: str,
    name: str,
    copy: Layer | None,
    restore: HistoryDist | None,
    about: str,
    fixes: FixCommands,
) -> Finding:
    """``dependency-gone`` for a dependency whose record is gone."""
    gone_text = " any more" if restore is not None else ""
    if copy is None:
        there = f"no conda package provides {name}{gone_text} and nothing else does"
    elif copy.missing:
        there = (
            f"no conda package provides {name}{gone_text}; only {label(copy.dist)} is there, "
            f"incomplete ({copy.missing} of the {count_of(copy.listed, 'file')} its RECORD "
            "lists are gone)"
        )
    else:
        there = (
            f"no conda package provides {name}{gone_text}; only {label(copy.dist)} is there, "
            "a version that does not fit"
        )
    if restore is not None:
        back = f"; the fix puts conda's {name} {restore.version} back (conda-meta/history)"
        fix = fixes.repair()
    else:
        back = f"; install {name} with conda"
        fix = fixes.conda("install", entry)
        if copy is not None:
            fix = f"{fixes.pip('uninstall', '-y', copy.dist.name)} && {fix}"
    return Finding.about(
        "dependency-gone",
        f"{about} but {there}{back}",
        fix,
        dist=copy.dist if copy is not None else None,
        history_dist=restore,  # what the repair puts back
        layer=copy,
        conda_package=record.name,
        conda_version=record.version,
        location=record.record_path,
        details={"requirement": entry, "dependency": name},
    )

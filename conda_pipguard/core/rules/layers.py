"""Findings about non-conda distributions, one pure function per kind.

Each rule takes the :class:`~..model.overlay.Overlay` (environment + ledger, read once) and the fix
spelling, and returns findings; none depends on another having run.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

from ..disk.distributions import Distribution
from ..disk.names import canonicalize_name, name_keys
from ..disk.records import CondaRecord
from ..model.ledger import Content
from ..model.overlay import Layer, Overlay, record_missing
from ..model.ownership import BYTECODE, installer_of, label
from ..plurals import agree, count_of
from .findings import Finding, PathCounts
from .fixes import FixCommands
from .kinds import Severity
from .requirements import needed, requirement_key
from .versionspec import Matcher, split_depends

#: How many paths a finding's details name.
_SAMPLE = 20


def shadowed(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """A live non-conda distribution of a conda package's own project."""
    findings = []
    for layer in overlay.layers:
        if not layer.live:
            continue
        dist = layer.dist
        for record in layer.counterparts:
            overlap = next((o for o in layer.overlaps if o.record is record), None)
            counts = PathCounts(
                overlap.overwritten if overlap else 0,
                len(record_missing(overlay.ledger, record)),
                overlap.count(Content.BOTH, Content.CONDA) if overlap else 0,
            )
            verb = "was reinstalled over" if dist.version == record.version else "shadows"
            is_pip = dist.key == "pip"
            same = _same_bytes(layer, record, counts)
            if same:
                message = (
                    f"{label(dist)} was reinstalled over conda's {record.name} {record.version} "
                    f"with the same bytes ({count_of(counts.identical or 0, 'file')}, none "
                    "changed): what imports is conda's, but its metadata is now "
                    f"{installer_of(dist)}'s, so pip and uv would uninstall or upgrade conda's "
                    "files as their own"
                )
                brief = ""
            else:
                brief = (
                    f"{label(dist)} {verb} conda's {record.name} {record.version}"
                    f"{_both_names(overlay, dist, record.name)}"
                )
                message = (
                    f"{brief}: {count_of(counts.overwritten or 0, 'file')} overwritten, "
                    f"{counts.deleted} deleted, {counts.identical} rewritten unchanged"
                )
            if is_pip and not same:
                upgraded = (
                    "; pip upgraded itself, conda will put its own pip back on its next change"
                )
                message, brief = message + upgraded, brief + upgraded
            findings.append(
                Finding.about(
                    "shadowed",
                    message,
                    fixes.repair(),
                    dist=dist,
                    record=record,
                    layer=layer,
                    severity=Severity.WARNING if is_pip or same else None,
                    paths=counts,
                    details={"same_bytes": True} if same else {},
                    brief=brief,
                )
            )
        gone = layer.history
        if gone is not None and not layer.counterparts:
            findings.append(
                Finding.about(
                    "shadowed",
                    f"{label(dist)} replaced conda's {gone.name} {gone.version}, whose record in "
                    "conda-meta is gone (conda-meta/history still lists it): conda no longer "
                    "knows what it installed",
                    fixes.repair(),
                    dist=dist,
                    history_dist=gone,
                    layer=layer,
                    paths=PathCounts.unknown(),
                    details={"record_missing": True},
                )
            )
    return findings


def _same_bytes(layer: Layer, record: CondaRecord, counts: PathCounts) -> bool:
    """Whether *layer* is conda's own package reinstalled byte for byte.

    Every file it wrote holds conda's bytes, none of conda's is gone, and it wrote nothing conda
    does not own: what imports is conda's, only the metadata changed hands.
    """
    return (
        layer.dist.version == record.version
        and bool(counts.identical)
        and not counts.overwritten
        and not counts.deleted
        and not layer.missing
        and not layer.leftovers
        and all(not o.overwritten for o in layer.overlaps)
    )


def clobbered(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """A live non-conda distribution that overwrote files of another conda package."""
    findings = []
    for layer in overlay.layers:
        if not layer.live:
            continue
        dist = layer.dist
        for overlap in layer.overlaps:
            if overlap.record in layer.counterparts or not overlap.overwritten:
                continue  # the same bytes (a shared namespace __init__.py): nothing is broken
            record = overlap.record
            conda = (
                f"conda's {record.name} {record.version}{_both_names(overlay, dist, record.name)}"
            )
            findings.append(
                Finding.about(
                    "clobbered",
                    f"{label(dist)} overwrote {count_of(overlap.overwritten, 'file')} of {conda}",
                    fixes.repair(),
                    dist=dist,
                    record=record,
                    layer=layer,
                    paths=PathCounts(
                        overlap.overwritten, 0, overlap.count(Content.BOTH, Content.CONDA)
                    ),
                    brief=f"{label(dist)} overwrote files of {conda}",
                )
            )
    return findings


def stale_metadata(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """Files conda put back over a non-conda one whose metadata stayed."""
    findings = []
    for layer in overlay.layers:
        if not layer.stale:
            continue
        dist = layer.dist
        record = layer.counterparts[0]
        left = len(layer.leftovers)
        owner, exists = overlay.owners.paths.owner, overlay.ledger.exists
        bytecode = sum(
            1
            for e in dist.files or ()
            if e.path.endswith(BYTECODE) and owner(e.path) is None and exists(e.path)
        )
        extra = (
            f"; {count_of(left, 'file')} of its RECORD that no conda package owns "
            f"{'is' if left == 1 else 'are'} left over"
            + (f" (and {count_of(bytecode, 'byte-code file')})" if bytecode else "")
            if left
            else ""
        )
        message = (
            f"{label(dist)} is stale: conda's {record.name} {record.version} is back on "
            f"disk, but pip still lists {dist.version}{extra}"
        )
        source = _cloned_with(overlay, dist)
        if source is not None:
            message = (
                f"{label(dist)} came with the clone of {source}: conda linked its own "
                f"{record.name} {record.version} here, but `conda create --clone` also copied "
                f"{installer_of(dist)}'s metadata of {dist.version}, which conda does not "
                f"track{extra}"
            )
        findings.append(
            Finding.about(
                "stale-metadata",
                message,
                fixes.repair(),
                dist=dist,
                record=record,
                layer=layer,
                details={
                    **({"cloned_from": source} if source is not None else {}),
                    "leftovers": left,
                    "leftover_bytecode": bytecode,
                    "leftover_paths": list(layer.leftovers[:_SAMPLE]),
                },
            )
        )
    return findings


def _cloned_with(overlay: Overlay, dist: Distribution) -> str | None:
    """The source env when *dist* was copied by the ``conda create --clone`` that made the env.

    conda copies what it does not track just before it writes the clone's first revision:
    metadata not written after that second came with the clone.
    """
    cloned = overlay.env.history.cloned()
    entry = overlay.ledger.entry(dist.path)
    if cloned is None or cloned[1] is None or entry is None:
        return None
    try:
        written = entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return None
    return cloned[0] if written < cloned[1] + 1 else None


def incomplete(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """A non-conda distribution with files of its RECORD gone.

    Its fix reinstalls that copy, unless conda packages depend on its project and no conda
    package provides it any more: then conda's package comes back (``dependency-gone`` says
    which), never the broken copy alone.
    """
    findings = []
    needed = conda_needs(overlay)
    for layer in overlay.layers:
        if not layer.live or not layer.missing or layer.dist.kind != "dist-info":
            continue  # an egg-info's SOURCES.txt names source files, not installed ones
        dist = layer.dist
        users = needed.get(dist.key, [])
        message = (
            f"{label(dist)} is incomplete: {layer.missing} of the "
            f"{count_of(layer.listed, 'file')} its RECORD lists "
            f"{agree(layer.missing, 'is', 'are')} gone "
            "(conda probably removed the package pip had replaced)"
        )
        if users:
            message += (
                f"; conda's {', '.join(users[:3])} {agree(len(users), 'needs', 'need')} "
                f"{dist.name} from conda: the fix puts conda's back"
            )
        findings.append(
            Finding.about(
                "incomplete",
                message,
                fixes.repair() if users else fixes.reinstall_dist(dist),
                dist=dist,
                layer=layer,
                details={
                    "missing": layer.missing,
                    "listed": layer.listed,
                    "needed_by_conda": list(users),
                },
            )
        )
    return findings


def conda_needs(overlay: Overlay) -> dict[str, list[str]]:
    """Python project -> conda packages that depend on it while no conda record provides it."""
    present = {record.name for record in overlay.env.records}
    wanted = {layer.dist.key for layer in overlay.layers if layer.missing}
    result: dict[str, list[str]] = {}
    if not wanted:
        return result
    for record in overlay.env.records:
        for entry in record.depends:
            name, _ = split_depends(entry)
            if name in present:
                continue
            for key in name_keys(name) & wanted:
                result.setdefault(key, []).append(record.name)
    return result


def dependents_of(overlay: Overlay) -> dict[str, list[str]]:
    """Non-conda project -> the distributions that require it (markers evaluated)."""
    python = overlay.env.python
    markers = cache(lambda: python.marker_environment() if python else None)  # packaging's
    wanted = {layer.dist.key for layer in overlay.layers}
    result: dict[str, list[str]] = defaultdict(list)
    for dist in overlay.env.distributions:
        for text in dist.requires:
            if requirement_key(text) not in wanted:
                continue  # most requirements name conda's packages: no need to parse them
            requirement = needed(text, markers())
            if requirement is None:
                continue
            key = canonicalize_name(requirement.name)
            if dist.name not in result[key]:
                result[key].append(dist.name)
    return result


def pip_only(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """Non-conda distributions with no conda counterpart, and development installs."""
    dependents = dependents_of(overlay)
    findings = []
    for layer in overlay.layers:
        dist = layer.dist
        if dist.editable:
            source = dist.editable_source or "an unknown directory"
            findings.append(
                Finding.about(
                    "editable",
                    f"{dist.name} {dist.version} is a development install from {source}",
                    "",
                    dist=dist,
                    layer=layer,
                    details={"source": dist.editable_source},
                )
            )
            continue
        if layer.replaces_conda or _damaged(layer) or overlay.twins.of(dist):
            continue  # (a twin of a conda package's import name is told as import-shadowed)
        needed_by = sorted(dependents.get(dist.key, []))
        if dist.requested or not needed_by:
            why = "installed on request"
        else:
            more = f" and {len(needed_by) - 3} more" if len(needed_by) > 3 else ""
            why = f"a dependency of {', '.join(needed_by[:3])}{more}"
        findings.append(
            Finding.about(
                "pip-only",
                f"{label(dist)} is not from conda ({why}); conda does not track it"
                + _conda_twin(overlay, dist),
                "",  # nothing needs doing; `conda install` over it would clobber pip's files
                dist=dist,
                layer=layer,
                details={"requested": dist.requested, "required_by": needed_by},
            )
        )
    return findings


def _both_names(overlay: Overlay, dist: Distribution, conda_name: str) -> str:
    """Both names, where they differ and conda-pypi's table says they are one package.

    `` (opencv-python is PyPI's name for conda's opencv)``, or ''; the table is read only when
    the names differ.
    """
    if dist.key in name_keys(conda_name):
        return ""
    table = overlay.pypi_names()
    if table is None or table.conda_name_of(dist.name) != conda_name:
        return ""
    return f" ({dist.name} is PyPI's name for conda's {conda_name})"


def _conda_twin(overlay: Overlay, dist: Distribution) -> str:
    """The conda package of the env that conda-pypi's table says *dist* is another copy of.

    ``; pyqt5 is PyPI's name for conda's pyqt 5.15.9, installed here too``, or ''.
    """
    table = overlay.pypi_names()
    name = table.conda_name_of(dist.name) if table is not None else None
    record = overlay.env.records_by_name.get(name) if name else None
    if record is None or dist.key not in table.pypi_names_of(record.name, record.version):
        return ""
    return (
        f"; {dist.name} is PyPI's name for conda's {record.name} {record.version}, "
        "installed here too"
    )


def _damaged(layer: Layer) -> bool:
    return layer.missing > 0 and layer.dist.kind == "dist-info"


def dependency_broken(overlay: Overlay, fixes: FixCommands, matcher: Matcher) -> list[Finding]:
    """Conda packages whose ``depends`` the version a live non-conda layer put there breaks."""
    replaced = overlay.replaced
    findings = []
    for record in overlay.env.records:
        if record.name in replaced:
            continue
        for entry in record.depends:
            name, _ = split_depends(entry)
            dist = replaced.get(name)
            if dist is None or matcher(entry, dist.version) is not False:
                continue
            findings.append(
                Finding.about(
                    "conda-dependency-broken",
                    f"conda's {record.name} {record.version} requires {entry!s} but "
                    f"{label(dist)} is installed in its place",
                    fixes.repair(),
                    dist=dist,
                    record=record,
                    location=None,  # the finding is about the conda package, not this copy
                    details={"requirement": entry},
                )
            )
    return findings

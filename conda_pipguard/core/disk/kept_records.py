"""The conda records that ``conda list``/``conda export`` are about to delete, and our copies.

conda's PyPI loader (conda 26.7.1, ``conda/plugins/prefix_data_loaders/pypi/__init__.py``) takes
each record of a package that depends on python, finds its *anchor* among its ``files`` (a
``<site-packages>/<x>.dist-info/RECORD``, ``<x>.egg-info/PKG-INFO`` or ``<x>.egg-info``; the
longest when there are several) and deletes the record from ``conda-meta`` when that anchor is
not among the anchors of what is in site-packages now. That is every package pip replaced with
another version: pip removed conda's ``numpy-1.26.4.dist-info``. This module finds those records
cheaply (directory names first, the JSON only of the few candidates) and reads the copies the
guard keeps of them in ``conda-meta/.pipguard-records/`` (conda reads only ``conda-meta/*.json``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import safeio
from .condameta import CondaMeta, split_record_name
from .history import HistoryDist
from .names import canonicalize_name, name_keys
from .places import EVIDENCE_DIR
from .python import discover

_ANCHOR_ENDINGS = (".egg-info/PKG-INFO", ".dist-info/RECORD", ".egg-info")
#: A copy larger than this is not read (a record is rarely over a few MB).
_MAX_COPY = 64 * 1024 * 1024


@dataclass(frozen=True)
class RecordAtRisk:
    """A conda record conda's PyPI loader would delete.

    Attributes:
        file_name: The record's file name in ``conda-meta``.
        name: Package name.
        version: Package version.
        anchor: The prefix-relative anchor file that is gone.
    """

    file_name: str
    name: str
    version: str
    anchor: str


def _entry_is(check: Callable[[], bool]) -> bool:
    """A ``DirEntry`` type check; False for a link that loops or cannot be followed."""
    try:
        return check()
    except OSError:
        return False


def present_anchors(prefix: Path, site_packages: str) -> set[str]:
    """The anchors of what is in site-packages now, as conda's loader computes them."""
    anchors: set[str] = set()
    try:
        with os.scandir(prefix / site_packages) as entries:
            for entry in entries:
                name = entry.name
                if name.endswith(".dist-info"):
                    anchors.add(f"{site_packages}/{name}/RECORD")
                elif name.endswith(".egg-info"):
                    is_file = _entry_is(entry.is_file)
                    anchors.add(f"{site_packages}/{name}" + ("" if is_file else "/PKG-INFO"))
                elif name.endswith(".egg") and _entry_is(entry.is_dir):
                    anchors.add(f"{site_packages}/{name}/EGG-INFO/PKG-INFO")
                elif name.endswith(".egg-link"):
                    anchors.add(f"{site_packages}/{name}")
    except OSError:
        return set()
    return anchors


def record_anchor(raw: Any, site_packages: str) -> str | None:
    """The anchor conda's loader takes from a decoded record's ``files`` (the longest)."""
    files = raw.get("files") if isinstance(raw, dict) else None
    if not isinstance(files, list):
        return None
    match = re.compile(
        rf"^{re.escape(site_packages)}/[^/]+(?:{'|'.join(map(re.escape, _ANCHOR_ENDINGS))})$"
    ).match
    anchors = [path for path in files if isinstance(path, str) and match(path)]
    return max(anchors, key=len) if anchors else None


def records_at_risk(prefix: Path) -> list[RecordAtRisk]:
    """The records conda's PyPI loader would delete: their package was replaced by another copy.

    Cheap: one listing of ``conda-meta`` and of site-packages; a record is opened only when a
    distribution of its project is in site-packages with another version, which is what pip
    leaves after replacing it.
    """
    try:
        meta = CondaMeta(prefix)
    except OSError:
        return []
    python = discover(meta) if "python" in meta.files else None  # conda's loader needs it
    if python is None:
        return []
    site_packages = python.site_packages
    anchors = present_anchors(prefix, site_packages)
    versions: dict[str, set[str]] = {}
    for anchor in anchors:
        stem = anchor[len(site_packages) + 1 :].split("/", 1)[0].rsplit(".", 1)[0]
        project, _, version = stem.partition("-")
        versions.setdefault(canonicalize_name(project), set()).add(version.split("-")[0])
    at_risk = []
    for file_name in meta.listed:
        parts = split_record_name(file_name)
        if parts is None:
            continue
        name, version, _ = parts
        found = [versions[key] for key in name_keys(name) if key in versions]
        if not found or any(version in seen for seen in found):
            continue
        try:
            raw = meta.load(file_name)
        except (OSError, ValueError):
            continue
        anchor = record_anchor(raw, site_packages)
        if anchor is not None and anchor not in anchors:
            at_risk.append(RecordAtRisk(file_name, name, version, anchor))
    return at_risk


def kept_records(prefix: Path, live: Set[str], linked: Mapping[str, HistoryDist]) -> dict[str, Any]:
    """Our copies of records conda deleted, for packages conda still has linked.

    *live* names the packages ``conda-meta`` has a record of (readable or not). A copy is used
    only when ``conda-meta`` has no record of that package any more and
    ``conda-meta/history`` still has that exact build linked (conda since unlinked or relinked it
    otherwise, and the post-transaction hook drops the copy).

    Returns:
        Decoded records keyed by prefix-relative path (``conda-meta/.pipguard-records/...``).
    """
    folder = prefix / "conda-meta" / EVIDENCE_DIR
    if not folder.is_dir() or folder.is_symlink():
        return {}
    kept: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        parts = split_record_name(path.name)
        if parts is None or parts[0] in live:
            continue
        current = linked.get(parts[0])
        if current is None or (current.version, current.build) != parts[1:]:
            continue
        try:
            raw = safeio.load_json(path, limit=_MAX_COPY, root=str(folder))
            kept[f"conda-meta/{EVIDENCE_DIR}/{path.name}"] = raw
        except (OSError, ValueError):
            continue
    return kept

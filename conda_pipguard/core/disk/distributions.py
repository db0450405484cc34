"""Find the Python distributions installed in a site-packages directory.

Metadata is read through our own bounded, non-blocking reader (:mod:`.metafiles` over
:mod:`.safeio`): a package author's files can be anything, and a FIFO, a
link to ``/dev/zero`` or one odd byte must neither hang the scan nor hide the distribution. The
directory listing is ours, so that broken entries and pip's leftovers are seen instead of
skipped.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from . import safeio
from .containment import LEADS_OUTSIDE
from .metafiles import MetadataDir, RecordEntry, RecordListing, first, parse_headers, read_small
from .names import canonicalize_name

_EGG_INFO_SUFFIX = re.compile(r"-py\d+(?:\.\d+)*(?:-[^-]+)?$")


class DistDir(NamedTuple):
    """A metadata entry in site-packages, before its metadata is read.

    A named tuple, not a frozen dataclass: the guard lists every one of an env's (hundreds) in
    each conda command, and a frozen dataclass's ``__init__`` costs three times as much.

    Attributes:
        path: Prefix-relative POSIX path of the dist-info/egg-info directory (or file).
        kind: ``dist-info``, ``egg-info`` or ``egg-link``.
        name: Project name as the entry's file name spells it.
        version: Version from the file name ('' when it has none).
    """

    path: str
    kind: str
    name: str
    version: str

    @property
    def key(self) -> str:
        """The canonical project name."""
        return canonicalize_name(self.name)


@dataclass(frozen=True)
class Distribution:
    """An installed Python distribution.

    Attributes:
        name: Project name from its metadata.
        version: Version from its metadata.
        path: Prefix-relative path of its metadata directory (or egg-info file / egg-link).
        kind: ``dist-info``, ``egg-info`` or ``egg-link``.
        site_packages: Prefix-relative site-packages directory it was found in (absolute for
            the user site directory, which lies outside the prefix).
        installer: Content of ``INSTALLER``, stripped, or None.
        requested: True when ``REQUESTED`` exists (the user asked for it by name).
        editable: True for a development install.
        editable_source: Where an editable install's code lives.
        direct_url: Decoded ``direct_url.json``, or None.
        requires: ``Requires-Dist`` strings.
        listing: What its RECORD says, parsed on first use of :attr:`files`; None when it has
            no RECORD.
        unreadable: Its metadata files that were refused (a FIFO, a device, too large, a
            link out of the prefix) and why; they were read as missing.
        metadata_read: False for a distribution known from its directory name only (see
            :func:`shallow_distribution`); :func:`with_metadata` reads the rest.
    """

    name: str
    version: str
    path: str
    kind: str = "dist-info"
    site_packages: str = ""
    installer: str | None = None
    requested: bool = False
    editable: bool = False
    editable_source: str | None = None
    direct_url: dict[str, Any] | None = None
    requires: tuple[str, ...] = ()
    listing: RecordListing | None = None
    metadata_read: bool = True
    unreadable: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """The canonical project name."""
        return canonicalize_name(self.name)

    @cached_property
    def files(self) -> tuple[RecordEntry, ...] | None:
        """The files its RECORD lists, or None when it has no RECORD."""
        return None if self.listing is None else self.listing.entries()


@dataclass(frozen=True)
class Debris:
    """Something in site-packages that is not a usable distribution.

    Attributes:
        path: Prefix-relative path.
        reason: One line saying what it is.
    """

    path: str
    reason: str


def _split_name_version(stem: str, kind: str) -> tuple[str, str]:
    if kind == "egg-info":
        stem = _EGG_INFO_SUFFIX.sub("", stem)
    if "-" not in stem:
        return stem, ""
    name, version = stem.rsplit("-", 1)
    return name, version


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """``entry.is_dir()``, False for a link that loops or cannot be followed (not an error)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


#: The names :func:`list_dist_dirs` looks at (besides ``~``-prefixed ones).
_LISTED = (".dist-info", ".egg-info", ".egg-link", ".conda_trash")


def list_dist_dirs(prefix: Path, site_packages: str) -> tuple[list[DistDir], list[Debris]]:
    """List metadata entries of *site_packages* (prefix-relative) without reading them.

    This is the cheap scan the hooks use: a single ``scandir``. Neither *site_packages* nor a
    metadata entry is read through a link that leads out of *prefix* (each is debris).
    """
    site = prefix / site_packages
    dists: list[DistDir] = []
    debris: list[Debris] = []
    if not safeio.is_within(prefix, site):
        return dists, [Debris(site_packages, f"not read: {LEADS_OUTSIDE}")]
    try:
        with os.scandir(site) as listing:
            entries = sorted(
                (name, entry)
                for entry in listing
                if (name := entry.name).endswith(_LISTED) or name[:1] == "~"
            )
    except OSError:
        return dists, debris
    new = tuple.__new__  # a DistDir without the named tuple's Python-level __new__
    for name, entry in entries:
        rel = f"{site_packages}/{name}"
        if entry.is_symlink() and not safeio.is_within(prefix, site / name):
            if name.endswith((".dist-info", ".egg-info", ".egg-link")):
                debris.append(Debris(rel, f"not read: {LEADS_OUTSIDE}"))
            continue
        if name.endswith(".dist-info") and name[0] != "~" and _is_dir(entry):
            project, dash, version = name[:-10].rpartition("-")  # most of them: split inline
            fields = (
                (rel, "dist-info", project, version) if dash else (rel, "dist-info", version, "")
            )
            dists.append(new(DistDir, fields))
            continue
        if name.startswith("~"):
            debris.append(Debris(rel, "left behind by an interrupted pip install or uninstall"))
        elif name.endswith(".conda_trash"):
            debris.append(Debris(rel, "a file conda could not delete (.conda_trash)"))
        elif name.endswith(".egg-info"):
            dists.append(DistDir(rel, "egg-info", *_split_name_version(name[:-9], "egg-info")))
        elif name.endswith(".egg-link") and not _is_dir(entry):
            dists.append(DistDir(rel, "egg-link", name[:-9], ""))
    return dists, debris


def _listing(meta: MetadataDir, kind: str, site_packages: str) -> RecordListing | None:
    """RECORD, kept as text; an egg-info without one lists its files elsewhere."""
    text = meta.read_text("RECORD")
    if text is not None:
        return RecordListing(site_packages, text)
    if kind != "egg-info" or meta.read_text("PKG-INFO") is None:
        return None
    from .eggmeta import egg_files  # installed-files.txt or SOURCES.txt

    paths = egg_files(meta)
    return None if paths is None else RecordListing(site_packages, paths=paths)


def _editable(direct_url: dict[str, Any] | None) -> tuple[bool, str | None]:
    if not direct_url:
        return False, None
    dir_info = direct_url.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable"):
        url = direct_url.get("url")
        return True, url.removeprefix("file://") if isinstance(url, str) else None
    return False, None


def _egg_link(prefix: Path, entry: DistDir) -> Distribution | Debris:
    text = read_small(prefix / entry.path, prefix) or ""
    source = text.splitlines()[0].strip() if text.strip() else ""
    if not source:
        return Debris(entry.path, "an .egg-link that names no source directory")
    version = ""
    for info in sorted(Path(source).glob("*.egg-info")):
        meta = read_small(info / "PKG-INFO", Path(source))
        if meta:
            version = first(parse_headers(meta), "version") or ""
            break
    return Distribution(
        name=entry.name,
        version=version,
        path=entry.path,
        kind="egg-link",
        site_packages=posixpath.dirname(entry.path),
        editable=True,
        editable_source=source,
    )


def load_distribution(prefix: Path, entry: DistDir) -> Distribution | Debris:
    """Read the metadata of one entry; a broken one comes back as :class:`Debris`."""
    if entry.kind == "egg-link":
        return _egg_link(prefix, entry)
    path = prefix / entry.path
    site_packages = posixpath.dirname(entry.path)
    if path.is_file():  # a single-file egg-info is its own PKG-INFO
        fields = parse_headers(read_small(path, prefix) or "")
        name = first(fields, "name")
        if not name:
            return Debris(entry.path, "an egg-info file without a Name")
        return Distribution(
            name=name,
            version=first(fields, "version") or "",
            path=entry.path,
            kind="egg-info",
            site_packages=site_packages,
        )
    dist = MetadataDir(path, str(prefix))
    missing = "METADATA" if entry.kind == "dist-info" else "PKG-INFO"
    try:
        text = dist.read_text(missing)
        metadata = parse_headers(text) if text else None
        name = first(metadata, "name") if metadata is not None else None
        version = (first(metadata, "version") if metadata is not None else None) or ""
        if not name and missing in dist.unreadable and entry.name:
            # the file is there but refused: the distribution is not hidden for it
            name, version = entry.name, entry.version
        elif not name:
            return Debris(entry.path, f"{entry.kind} without a readable {missing}")
        installer = dist.read_text("INSTALLER")
        direct_url_text = dist.read_text("direct_url.json")
        if metadata is None:
            requires: tuple[str, ...] = ()
        elif entry.kind == "dist-info":
            requires = tuple(metadata.get("requires-dist", ()))
        else:
            from .eggmeta import egg_requires

            requires = egg_requires(dist)  # requires.txt, its sections as markers
        listing = _listing(dist, entry.kind, site_packages)
    except (OSError, ValueError, TypeError) as err:
        return Debris(entry.path, f"unreadable metadata: {err}")
    direct_url = None
    if direct_url_text:
        try:
            decoded = json.loads(direct_url_text)
            direct_url = decoded if isinstance(decoded, dict) else None
        except ValueError:
            direct_url = None
    editable, source = _editable(direct_url)
    return Distribution(
        name=name,
        version=version,
        path=entry.path,
        kind=entry.kind,
        site_packages=site_packages,
        installer=installer.strip() if installer and installer.strip() else None,
        requested=os.path.exists(f"{path}/REQUESTED"),
        editable=editable,
        editable_source=source,
        direct_url=direct_url,
        requires=requires,
        listing=listing,
        unreadable=tuple(sorted(dist.unreadable.items())),
    )


def shallow_distribution(entry: DistDir) -> Distribution:
    """A distribution known from its directory name only (no metadata read)."""
    return Distribution(
        name=entry.name,
        version=entry.version,
        path=entry.path,
        kind=entry.kind,
        site_packages=posixpath.dirname(entry.path),
        metadata_read=False,
    )


def with_metadata(prefix: Path, dist: Distribution) -> Distribution:
    """*dist* with its metadata read, when a cheap scan left it out (broken metadata: as is)."""
    if dist.metadata_read:
        return dist
    loaded = load_distribution(prefix, DistDir(dist.path, dist.kind, dist.name, dist.version))
    return loaded if isinstance(loaded, Distribution) else dist


def scan_site_packages(
    prefix: Path, site_packages: str, *, metadata: bool = True
) -> tuple[list[Distribution], list[Debris]]:
    """Every distribution in *site_packages* (prefix-relative).

    Args:
        prefix: The root the path is relative to.
        site_packages: The directory to scan.
        metadata: Read each distribution's metadata; False keeps to the directory listing
            (names and versions from directory names), which is what the hooks need first.
    """
    entries, debris = list_dist_dirs(prefix, site_packages)
    if not metadata:
        return [shallow_distribution(entry) for entry in entries], debris
    dists: list[Distribution] = []
    for entry in entries:
        loaded = load_distribution(prefix, entry)
        if isinstance(loaded, Debris):
            debris.append(loaded)
            continue
        dists.append(loaded)
        debris.extend(
            Debris(f"{loaded.path}/{file}", f"not read ({reason}): not a file pip writes")
            for file, reason in loaded.unreadable
        )
    return dists, debris


def conda_develop_paths(prefix: Path, site_packages: str) -> list[str]:
    """Source directories added by ``conda develop`` (its ``conda.pth``)."""
    text = read_small(prefix / site_packages / "conda.pth", prefix)
    if not text:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]

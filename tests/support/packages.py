"""Real ``.conda`` packages (conda-package-handling), generic or holding a Python distribution."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support import templates
from tests.support.host import host_python
from tests.support.wheels import (
    _WHEEL_TEXT,
    FileContent,
    _as_bytes,
    _metadata_text,
    _record_text,
    normalize_dist_name,
    sha256_file,
)

_ZSTD_LEVEL = 1


_LINK_TYPE_HARDLINK = 1


def _write_tree(root: Path, files: Mapping[str, FileContent], symlinks: Mapping[str, str]) -> None:
    """Write package payload files (``bin/*`` executable) and symlinks under ``root``."""
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_as_bytes(content))
        target.chmod(0o755 if rel.startswith("bin/") else 0o644)
    for rel, link_target in symlinks.items():
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(link_target)


def _payload(root: Path) -> list[str]:
    """Sorted package-relative paths of files and symlinks under ``root``, without ``info/``."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        if not rel_dir.parts:
            dirnames[:] = [d for d in dirnames if d != "info"]
        found += [(rel_dir / f).as_posix() for f in filenames]
        found += [(rel_dir / d).as_posix() for d in dirnames if (Path(dirpath) / d).is_symlink()]
    return sorted(found)


def _paths_entry(root: Path, rel: str) -> dict[str, object]:
    full = root / rel
    entry: dict[str, object] = {"_path": rel}
    if full.is_symlink():
        entry["path_type"] = "softlink"
        if full.is_file():
            entry["sha256"] = sha256_file(full)
            entry["size_in_bytes"] = full.stat().st_size
        return entry
    entry["path_type"] = "hardlink"
    entry["sha256"] = sha256_file(full)
    entry["size_in_bytes"] = full.stat().st_size
    return entry


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _index_json(
    name: str,
    version: str,
    build: str,
    build_number: int,
    depends: Sequence[str],
    subdir: str,
    noarch_python: bool,
) -> dict[str, object]:
    index: dict[str, object] = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": build_number,
        "depends": list(depends),
        "license": "MIT",
        "subdir": subdir,
        "timestamp": int(time.time() * 1000),
    }
    if noarch_python:
        index["noarch"] = "python"
    elif subdir != "noarch":
        os_name, _, arch = subdir.partition("-")
        index["platform"] = os_name
        index["arch"] = "x86_64" if arch == "64" else arch
    return index


def _link_json(entry_points: Sequence[str]) -> dict[str, object]:
    noarch: dict[str, object] = {"type": "python"}
    if entry_points:
        noarch["entry_points"] = list(entry_points)
    return {"noarch": noarch, "package_metadata_version": 1}


def pack_conda_package(
    root: Path,
    channel_dir: Path,
    index: Mapping[str, object],
    *,
    entry_points: Sequence[str] = (),
) -> Path:
    """Turn a staged payload directory into ``<channel>/<subdir>/<name>-<version>-<build>.conda``.

    Writes ``info/index.json``, ``info/paths.json``, ``info/files`` and, for
    ``noarch: python`` packages, ``info/link.json`` into ``root`` first.

    Args:
        root: Directory holding the package payload (package-relative layout).
        channel_dir: Channel directory; the file goes into its ``index["subdir"]`` folder.
        index: Content of ``info/index.json``.
        entry_points: ``"cmd = module:func"`` entries for ``info/link.json`` (noarch python).

    Returns:
        Path of the ``.conda`` file.
    """
    payload = _payload(root)
    paths = [_paths_entry(root, rel) for rel in payload]
    _write_json(root / "info" / "index.json", dict(index))
    _write_json(root / "info" / "paths.json", {"paths": paths, "paths_version": 1})
    (root / "info" / "files").write_text("".join(f"{rel}\n" for rel in payload))
    if index.get("noarch") == "python":
        _write_json(root / "info" / "link.json", _link_json(entry_points))
    info = sorted(p.relative_to(root).as_posix() for p in (root / "info").rglob("*") if p.is_file())
    out_dir = channel_dir / str(index["subdir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{index['name']}-{index['version']}-{index['build']}.conda"
    from conda_package_handling import api as cph_api

    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
        built = cph_api.create(
            str(root), info + payload, str(Path(scratch) / out.name), compression_level=_ZSTD_LEVEL
        )
        Path(built).replace(out)
    return out


def make_conda_package(
    channel_dir: Path,
    name: str,
    version: str,
    build: str = "0",
    build_number: int = 0,
    depends: Sequence[str] = (),
    files: Mapping[str, FileContent] | None = None,
    *,
    symlinks: Mapping[str, str] | None = None,
    noarch_python: bool = False,
    subdir: str | None = None,
    entry_points: Sequence[str] = (),
) -> Path:
    """Build a conda package from in-memory files.

    Args:
        channel_dir: Channel directory receiving the package.
        name: Package name.
        version: Package version.
        build: Build string.
        build_number: Build number.
        depends: Run dependencies (match specs).
        files: Payload, package-relative path -> content. ``bin/*`` is made executable.
            For noarch python packages use ``site-packages/...`` and ``python-scripts/...``.
        symlinks: Package-relative path -> symlink target (``path_type: softlink``).
        noarch_python: Make a ``noarch: python`` package (forces subdir ``noarch``).
        subdir: ``linux-64``, ``noarch``, ...; default: ``noarch`` for noarch python, else
            the host's.
        entry_points: Console scripts conda/rattler generate at link time (noarch python only).

    Returns:
        Path of the ``.conda`` file.
    """
    if noarch_python:
        subdir = "noarch"
    elif subdir is None:
        subdir = host_python().subdir
    files = {rel: _as_bytes(content) for rel, content in (files or {}).items()}
    symlinks = dict(symlinks or {})

    def build_into(channel: Path) -> Path:
        index = _index_json(name, version, build, build_number, depends, subdir, noarch_python)
        with tempfile.TemporaryDirectory(prefix="pipguard-pkg-") as staging:
            root = Path(staging)
            _write_tree(root, files, symlinks)
            return pack_conda_package(root, channel, index, entry_points=entry_points)

    store = templates.active()
    if store is None:
        return build_into(channel_dir)
    key = templates.fingerprint(
        name, version, build, build_number, list(depends), sorted(files.items()),
        sorted(symlinks.items()), noarch_python, subdir, list(entry_points),
    )  # fmt: skip
    return _place(store.package(key, subdir, build_into), channel_dir / subdir)


def _place(package: Path, out_dir: Path) -> Path:
    """Copy a package built once per session into a channel (replacing one of that name)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / package.name
    scratch = out_dir / f".{package.name}.{os.getpid()}.tmp"
    shutil.copy2(package, scratch)
    scratch.replace(out)
    return out


@dataclasses.dataclass(frozen=True)
class Dist:
    """A Python distribution laid out inside a conda package's site-packages.

    Attributes:
        name: Distribution name (METADATA ``Name``).
        version: Distribution version.
        modules: Files relative to site-packages.
        requires_dist: ``Requires-Dist`` entries.
        installer: INSTALLER content, or ``None`` for no INSTALLER file.
        egg_info: Write ``<name>-<ver>-pyX.Y.egg-info/`` instead of a dist-info directory.
    """

    name: str
    version: str
    modules: Mapping[str, FileContent] = dataclasses.field(default_factory=dict)
    requires_dist: Sequence[str] = ()
    installer: str | None = "conda"
    egg_info: bool = False


def dist_files(dist: Dist, python_short: str) -> dict[str, bytes]:
    """Site-packages-relative files of ``dist``, including its dist-info or egg-info directory.

    A dist-info gets METADATA, WHEEL, INSTALLER (unless ``None``) and a RECORD listing
    every file, as pip writes it; no REQUESTED and no direct_url.json, as conda-forge
    ships them. An egg-info directory gets PKG-INFO, SOURCES.txt and top_level.txt.
    """
    files = {path: _as_bytes(data) for path, data in dist.modules.items()}
    stem = f"{normalize_dist_name(dist.name)}-{dist.version}"
    metadata = _metadata_text(dist.name, dist.version, dist.requires_dist).encode()
    if dist.egg_info:
        info = f"{stem}-py{python_short}.egg-info"
        files[f"{info}/PKG-INFO"] = metadata
        files[f"{info}/SOURCES.txt"] = "".join(f"{p}\n" for p in dist.modules).encode()
        top_level = sorted({p.split("/")[0].removesuffix(".py") for p in dist.modules})
        files[f"{info}/top_level.txt"] = "".join(f"{t}\n" for t in top_level).encode()
        return files
    info = f"{stem}.dist-info"
    files[f"{info}/METADATA"] = metadata
    files[f"{info}/WHEEL"] = _WHEEL_TEXT
    if dist.installer is not None:
        files[f"{info}/INSTALLER"] = f"{dist.installer}\n".encode()
    files[f"{info}/RECORD"] = _record_text(files, f"{info}/RECORD").encode()
    return files


def _with_python_dependency(depends: Sequence[str], noarch: bool, python_short: str) -> list[str]:
    if any(re.split(r"[\s=<>!~]", spec, maxsplit=1)[0] == "python" for spec in depends):
        return list(depends)
    if noarch:
        return [*depends, "python"]
    major, minor = python_short.split(".")
    return [*depends, f"python >={python_short},<{major}.{int(minor) + 1}.0a0"]


def make_python_conda_package(
    channel_dir: Path,
    name: str,
    version: str,
    *,
    dist_name: str | None = None,
    dist_version: str | None = None,
    modules: Mapping[str, FileContent],
    requires_dist: Sequence[str] = (),
    depends: Sequence[str] = (),
    noarch: bool = True,
    installer: str | None = "conda",
    extra_dists: Sequence[Dist] = (),
    egg_info: bool = False,
    build: str = "0",
    build_number: int = 0,
    entry_points: Sequence[str] = (),
) -> Path:
    """Build a conda package holding a Python distribution, laid out as conda-forge does.

    ``noarch=True`` puts files under ``site-packages/`` (linked to the env's
    site-packages at install time); ``noarch=False`` makes a ``linux-64``-style package
    with files under ``lib/pythonX.Y/site-packages/``. A ``python`` dependency is added
    unless ``depends`` already names python.

    Args:
        channel_dir: Channel directory receiving the package.
        name: Conda package name.
        version: Conda package version.
        dist_name: Python distribution name (default: ``name``).
        dist_version: Python distribution version (default: ``version``).
        modules: Files of the distribution relative to site-packages.
        requires_dist: ``Requires-Dist`` entries of the distribution.
        depends: Conda run dependencies.
        noarch: ``noarch: python`` (True) or arch-specific (False).
        installer: INSTALLER content (``None``: no INSTALLER file).
        extra_dists: Further distributions shipped in the same package.
        egg_info: Use an egg-info directory (old conda-build style) instead of dist-info.
        build: Build string.
        build_number: Build number.
        entry_points: ``"cmd = module:func"`` console scripts (noarch python, via link.json).

    Returns:
        Path of the ``.conda`` file.
    """
    host = host_python()
    main = Dist(
        name=dist_name or name,
        version=dist_version or version,
        modules=modules,
        requires_dist=requires_dist,
        installer=installer,
        egg_info=egg_info,
    )
    site = "site-packages" if noarch else host.site_packages_rel
    files: dict[str, FileContent] = {}
    for dist in (main, *extra_dists):
        for rel, data in dist_files(dist, host.short_version).items():
            files[f"{site}/{rel}"] = data
    return make_conda_package(
        channel_dir,
        name,
        version,
        build,
        build_number,
        _with_python_dependency(depends, noarch, host.short_version),
        files,
        noarch_python=noarch,
        subdir=None if noarch else host.subdir,
        entry_points=entry_points,
    )

"""Build real conda environments on disk for the tests, offline.

Everything here is real: conda packages (``.conda`` files made with
conda-package-handling), a local channel indexed and solved by py-rattler, an
environment linked by py-rattler, a CPython interpreter copied from the running
interpreter's base installation, and pip from the wheel bundled with ensurepip.

Typical use in a test::

    kit = EnvKit(tmp_path)
    kit.add_package("numpy", "1.26.4", modules={"numpy/__init__.py": ""})
    prefix = kit.create("env", ["python", "pip", "numpy"], dialect="conda")
    kit.pip(prefix, "install", kit.wheel("numpy", "2.1.0", {"numpy/__init__.py": ""}))

Environments can be left as rattler writes them (``dialect="rattler"``) or be
rewritten into what conda itself writes (``dialect="conda"``, see
:func:`to_conda_dialect`).
"""

from __future__ import annotations

import asyncio
import base64
import csv
import dataclasses
import hashlib
import importlib.util
import io
import json
import marshal
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest

if TYPE_CHECKING:
    from rattler import Config, PrefixRecord, RepoDataRecord

PYTHON_BUILD = "0_pipguard_test"
"""Build string of the conda ``python`` package made from the host interpreter."""

PYTHON_BUILD_SITE_PACKAGES_PATH = "0_pipguard_test_sp"
"""Build string of the variant declaring ``python_site_packages_path`` (distinct, so that
rattler's package cache, keyed by name-version-build, never mixes the two)."""

CACHE_ENV_VAR = "PIPGUARD_TEST_CACHE"
"""Environment variable that overrides the directory caching built packages."""

DEFAULT_CONDA_VERSION = "25.5.1"
"""The conda version :func:`to_conda_dialect` and :func:`append_history` imitate."""

STDLIB_EXCLUDED = frozenset(
    {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip"}
    # A distribution's own PEP 668 marker and site hook (Debian ships both) stay out too.
    | {"EXTERNALLY-MANAGED", "sitecustomize.py"}
)
"""Top-level stdlib entries left out of the ``python`` package."""

FileContent = str | bytes
Dialect = Literal["rattler", "conda"]

_ZSTD_LEVEL = 1
_LINK_TYPE_HARDLINK = 1


class HostUnsupportedError(RuntimeError):
    """The running interpreter cannot be turned into a conda ``python`` package."""


# --------------------------------------------------------------------------- host


@dataclasses.dataclass(frozen=True)
class HostPython:
    """The base installation of the running interpreter, as the kit packages it.

    Attributes:
        base_prefix: ``sys.base_prefix``.
        version: Full version, e.g. ``3.11.7``.
        short_version: ``major.minor``, e.g. ``3.11``.
        executable: The real interpreter binary in ``<base_prefix>/bin``.
        stdlib_rel: Standard library directory relative to the prefix.
        libraries: ``lib/libpython3*.so*`` files and symlinks.
        subdir: The conda subdir of this host, e.g. ``linux-64``.
    """

    base_prefix: Path
    version: str
    short_version: str
    executable: Path
    stdlib_rel: str
    libraries: tuple[Path, ...]
    subdir: str

    @property
    def site_packages_rel(self) -> str:
        """Prefix-relative site-packages directory, e.g. ``lib/python3.11/site-packages``."""
        return f"{self.stdlib_rel}/site-packages"

    @property
    def pip_wheel(self) -> Path:
        """The pip wheel bundled with ensurepip in the base installation."""
        bundled = self.base_prefix / self.stdlib_rel / "ensurepip" / "_bundled"
        wheels = sorted(bundled.glob("pip-*.whl"))
        if not wheels:
            raise HostUnsupportedError(f"no bundled pip wheel in {bundled}")
        return wheels[-1]


_SUBDIRS = {("linux", "x86_64"): "linux-64", ("linux", "aarch64"): "linux-aarch64"}


def host_python() -> HostPython:
    """Describe the running interpreter's base installation.

    Returns:
        The layout the kit copies into the ``python`` package.

    Raises:
        HostUnsupportedError: The host is not Linux, or the installation does not
            have the ``bin/pythonX.Y`` + ``lib/pythonX.Y`` layout this kit knows.
    """
    subdir = _SUBDIRS.get((sys.platform, platform.machine()))
    if subdir is None:
        raise HostUnsupportedError(f"unsupported platform {sys.platform}/{platform.machine()}")
    base = Path(sys.base_prefix)
    short = f"{sys.version_info.major}.{sys.version_info.minor}"
    executable = base / "bin" / f"python{short}"
    stdlib = Path(sysconfig.get_path("stdlib"))
    if not executable.is_file() or not stdlib.is_relative_to(base):
        raise HostUnsupportedError(f"no bin/python{short} with its stdlib under {base}")
    if not (stdlib / "os.py").is_file() or not (stdlib / "lib-dynload").is_dir():
        raise HostUnsupportedError(f"{stdlib} lacks os.py or lib-dynload")
    libraries = tuple(sorted((base / "lib").glob("libpython3*.so*")))
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and not libraries:
        raise HostUnsupportedError(f"shared Python without lib/libpython3*.so* in {base}")
    return HostPython(
        base_prefix=base,
        version=platform.python_version(),
        short_version=short,
        executable=executable.resolve(),
        stdlib_rel=stdlib.relative_to(base).as_posix(),
        libraries=libraries,
        subdir=subdir,
    )


_DESCRIBE = """
import json, platform, sys, sysconfig
print(json.dumps({"base": sys.base_prefix, "version": platform.python_version(),
                  "stdlib": sysconfig.get_path("stdlib"),
                  "shared": bool(sysconfig.get_config_var("Py_ENABLE_SHARED"))}))
"""


def describe_python(executable: Path) -> HostPython:
    """Describe another installed interpreter (run it once) the way :func:`host_python` does.

    Raises:
        HostUnsupportedError: It does not run, or lacks the layout the kit knows.
    """
    subdir = _SUBDIRS.get((sys.platform, platform.machine()))
    try:
        out = subprocess.run(
            [str(executable), "-I", "-c", _DESCRIBE],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        facts = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError) as err:
        raise HostUnsupportedError(f"{executable} cannot describe itself: {err}") from None
    base, stdlib = Path(facts["base"]), Path(facts["stdlib"])
    short = ".".join(facts["version"].split(".")[:2])
    binary = base / "bin" / f"python{short}"
    libraries = tuple(sorted((base / "lib").glob("libpython3*.so*")))
    if subdir is None or not binary.is_file() or not stdlib.is_relative_to(base):
        raise HostUnsupportedError(f"{executable} has no bin/python{short} under {base}")
    if facts["shared"] and not libraries:
        raise HostUnsupportedError(f"shared Python without lib/libpython3*.so* in {base}")
    return HostPython(
        base_prefix=base,
        version=facts["version"],
        short_version=short,
        executable=binary.resolve(),
        stdlib_rel=stdlib.relative_to(base).as_posix(),
        libraries=libraries,
        subdir=subdir,
    )


def other_python() -> HostPython | None:
    """Another CPython minor version installed on this machine (pyenv's), or None."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    current = f"{sys.version_info.major}.{sys.version_info.minor}"

    def minor(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.name.removeprefix("python").split("."))

    candidates = [
        path for path in root.glob("3.*/bin/python3.*") if re.fullmatch(r"python3\.\d+", path.name)
    ]
    for candidate in sorted(candidates, key=minor, reverse=True):
        short = candidate.name.removeprefix("python")
        if short != current and minor(candidate) >= (3, 10):
            try:
                return describe_python(candidate)
            except HostUnsupportedError:
                continue
    return None


def require_host() -> HostPython:
    """Return :func:`host_python`, or skip the calling test when the host can't be used."""
    try:
        host = host_python()
        _ = host.pip_wheel
    except HostUnsupportedError as err:
        pytest.skip(f"cannot build real conda environments here: {err}")
    return host


# --------------------------------------------------------------------------- hashing


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _record_hash(data: bytes) -> str:
    """Hash in the form wheel RECORD files use: ``sha256=<urlsafe b64, no padding>``."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _as_bytes(content: FileContent) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


# --------------------------------------------------------------------------- dist metadata


def normalize_dist_name(name: str) -> str:
    """Distribution name as used in wheel and dist-info file names (``foo_bar``)."""
    return re.sub(r"[-_.]+", "_", name)


def _metadata_text(
    name: str,
    version: str,
    requires_dist: Iterable[str] = (),
    extra_metadata: Iterable[tuple[str, str]] = (),
) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {req}" for req in requires_dist]
    lines += [f"{key}: {value}" for key, value in extra_metadata]
    return "\n".join(lines) + "\n\n"


def _entry_points_text(entry_points: Mapping[str, Mapping[str, str]]) -> str:
    sections = []
    for group, entries in entry_points.items():
        body = "".join(f"{key} = {value}\n" for key, value in entries.items())
        sections.append(f"[{group}]\n{body}")
    return "\n".join(sections)


_WHEEL_TEXT = (
    b"Wheel-Version: 1.0\nGenerator: pipguard-envkit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
)


def _record_text(files: Mapping[str, bytes], record_path: str) -> str:
    """RECORD content listing ``files`` (paths relative to site-packages) and itself."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, data in files.items():
        writer.writerow([path, _record_hash(data), len(data)])
    writer.writerow([record_path, "", ""])
    return out.getvalue()


def _extra_items(extra: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(extra.items()) if isinstance(extra, Mapping) else list(extra)


# --------------------------------------------------------------------------- wheels


def make_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    modules: Mapping[str, FileContent],
    requires_dist: Iterable[str] = (),
    extra_metadata: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write a minimal, valid ``py3-none-any`` wheel.

    Args:
        dest_dir: Directory to write the wheel into (created if missing).
        name: Distribution name, e.g. ``my-pkg``.
        version: Distribution version.
        modules: Files relative to site-packages, e.g. ``{"my_pkg/__init__.py": "x = 1"}``.
        requires_dist: ``Requires-Dist`` entries.
        extra_metadata: Further METADATA headers (mapping or ``(key, value)`` pairs).
        entry_points: ``{"console_scripts": {"cmd": "mod:func"}}`` style groups.

    Returns:
        Path of the ``.whl`` file.
    """
    dist = f"{normalize_dist_name(name)}-{version}"
    info = f"{dist}.dist-info"
    files = {path: _as_bytes(data) for path, data in modules.items()}
    files[f"{info}/METADATA"] = _metadata_text(
        name, version, requires_dist, _extra_items(extra_metadata)
    ).encode()
    files[f"{info}/WHEEL"] = _WHEEL_TEXT
    if entry_points:
        files[f"{info}/entry_points.txt"] = _entry_points_text(entry_points).encode()
    files[f"{info}/RECORD"] = _record_text(files, f"{info}/RECORD").encode()
    dest_dir.mkdir(parents=True, exist_ok=True)
    wheel = dest_dir / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


# --------------------------------------------------------------------------- conda packages


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
    index = _index_json(name, version, build, build_number, depends, subdir, noarch_python)
    with tempfile.TemporaryDirectory(prefix="pipguard-pkg-") as staging:
        root = Path(staging)
        _write_tree(root, files or {}, symlinks or {})
        return pack_conda_package(root, channel_dir, index, entry_points=entry_points)


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


# --------------------------------------------------------------------------- python and pip


def _stdlib_ignore(stdlib: Path) -> Callable[[str, list[str]], set[str]]:
    """``shutil.copytree`` filter: no bytecode, no excluded stdlib parts, no static libpython."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n == "__pycache__"}
        if Path(directory) == stdlib:
            skipped |= STDLIB_EXCLUDED.intersection(names)
        if Path(directory).name.startswith("config-"):
            skipped |= {n for n in names if n.endswith(".a")}
        return skipped

    return ignore


def _stage_python(root: Path, host: HostPython) -> None:
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True)
    exe_name = f"python{host.short_version}"
    shutil.copy2(host.executable, bin_dir / exe_name)
    for alias in ("python3", "python"):
        (bin_dir / alias).symlink_to(exe_name)
    (root / "lib").mkdir()
    for library in host.libraries:
        shutil.copy2(library, root / "lib" / library.name, follow_symlinks=False)
    stdlib = host.base_prefix / host.stdlib_rel
    shutil.copytree(stdlib, root / host.stdlib_rel, symlinks=True, ignore=_stdlib_ignore(stdlib))
    readme = root / host.site_packages_rel / "README.txt"
    readme.parent.mkdir(parents=True)
    readme.write_text("This directory exists so that 3rd party packages can be installed here.\n")


def build_python_package(
    channel_dir: Path, *, site_packages_path: bool = False, host: HostPython | None = None
) -> Path:
    """Build the conda ``python`` package from the host interpreter's base installation.

    Args:
        channel_dir: Channel directory receiving the package.
        site_packages_path: Add ``python_site_packages_path`` to index.json, as newer
            conda-forge python packages do.
        host: Host description (default: :func:`host_python`).

    Returns:
        Path of ``python-<version>-0_pipguard_test[_sp].conda``.
    """
    host = host or host_python()
    build = PYTHON_BUILD_SITE_PACKAGES_PATH if site_packages_path else PYTHON_BUILD
    index = _index_json("python", host.version, build, 0, [], host.subdir, False)
    if site_packages_path:
        index["python_site_packages_path"] = host.site_packages_rel
    with tempfile.TemporaryDirectory(prefix="pipguard-python-") as staging:
        _stage_python(Path(staging), host)
        return pack_conda_package(Path(staging), channel_dir, index)


def _console_scripts(entry_points_txt: str) -> list[str]:
    scripts, in_section = [], False
    for line in entry_points_txt.splitlines():
        line = line.strip()
        if line.startswith("["):
            in_section = line == "[console_scripts]"
        elif in_section and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            scripts.append(f"{key} = {value}")
    return scripts


def _set_record_installer(dist_info: Path, installer: str) -> None:
    """Write INSTALLER in ``dist_info`` and list it in RECORD (replacing any old line)."""
    data = f"{installer}\n".encode()
    (dist_info / "INSTALLER").write_bytes(data)
    record = dist_info / "RECORD"
    if not record.exists():
        return
    rel = f"{dist_info.name}/INSTALLER"
    rows = [row for row in csv.reader(record.read_text().splitlines()) if row and row[0] != rel]
    rows.insert(-1, [rel, _record_hash(data), str(len(data))])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    record.write_text(out.getvalue())


def build_pip_package(
    channel_dir: Path, *, installer: str | None = "conda", host: HostPython | None = None
) -> Path:
    """Build a ``noarch: python`` conda ``pip`` package from the ensurepip wheel (offline).

    Args:
        channel_dir: Channel directory receiving the package.
        installer: INSTALLER of the ``pip`` dist-info (conda-forge ships ``conda``);
            ``None`` keeps the wheel as is (no INSTALLER).
        host: Host description (default: :func:`host_python`).

    Returns:
        Path of ``pip-<version>-pyh_pipguard_test.conda``.
    """
    host = host or host_python()
    wheel = host.pip_wheel
    version = wheel.name.split("-")[1]
    with tempfile.TemporaryDirectory(prefix="pipguard-pip-") as staging:
        site = Path(staging) / "site-packages"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
        dist_info = site / f"pip-{version}.dist-info"
        scripts = _console_scripts((dist_info / "entry_points.txt").read_text())
        if installer is not None:
            _set_record_installer(dist_info, installer)
        index = _index_json("pip", version, "pyh_pipguard_test", 0, ["python"], "noarch", True)
        return pack_conda_package(Path(staging), channel_dir, index, entry_points=scripts)


def set_installer(prefix: Path, dist_name: str, installer: str) -> Path:
    """Rewrite INSTALLER (and its RECORD line) of an installed distribution in ``prefix``.

    Returns:
        The dist-info directory changed.
    """
    site = site_packages(prefix)
    wanted = normalize_dist_name(dist_name).lower()
    for dist_info in site.glob("*.dist-info"):
        if normalize_dist_name(dist_info.name.split("-")[0]).lower() == wanted:
            _set_record_installer(dist_info, installer)
            return dist_info
    raise FileNotFoundError(f"no dist-info for {dist_name} in {site}")


# --------------------------------------------------------------------------- cache


def _kit_fingerprint(host: HostPython) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(f"{host.base_prefix}|{host.version}".encode())
    return digest.hexdigest()[:12]


def cache_root() -> Path:
    """Cache of built packages: ``$PIPGUARD_TEST_CACHE`` or ``~/.cache/conda-pipguard-tests``."""
    override = os.environ.get(CACHE_ENV_VAR)
    if override:
        return Path(override)
    return Path.home() / ".cache" / "conda-pipguard-tests"


def cached_base_packages(*, site_packages_path: bool = False) -> tuple[Path, Path]:
    """Build (once) and return the cached ``python`` and ``pip`` ``.conda`` files.

    The cache key is the Python version plus a hash of this module's source and the
    base prefix; editing this file invalidates it. Both python variants share one pip.

    Returns:
        ``(python_package, pip_package)`` paths inside the cache (a channel layout).
    """
    host = host_python()
    channel = cache_root() / f"{host.version}-{_kit_fingerprint(host)}"
    build = PYTHON_BUILD_SITE_PACKAGES_PATH if site_packages_path else PYTHON_BUILD
    python_pkg = channel / host.subdir / f"python-{host.version}-{build}.conda"
    if not python_pkg.exists():
        _prune_stale_builds(channel)
        build_python_package(channel, site_packages_path=site_packages_path, host=host)
    pip_pkgs = sorted((channel / "noarch").glob("pip-*.conda"))
    if not pip_pkgs:
        pip_pkgs = [build_pip_package(channel, host=host)]
    os.utime(channel)  # marks the build as in use for _prune_stale_builds
    return python_pkg, pip_pkgs[-1]


def _prune_stale_builds(current: Path, max_age: float = 86400.0) -> None:
    """Delete cached builds of other kit versions not used for ``max_age`` seconds."""
    version = current.name.split("-")[0]
    for stale in current.parent.glob(f"{version}-*"):
        if stale != current and time.time() - stale.stat().st_mtime > max_age:
            shutil.rmtree(stale, ignore_errors=True)


def _link_or_copy(source: Path, dest: Path) -> None:
    if dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


# --------------------------------------------------------------------------- rattler


def index_channel(channel_dir: Path) -> None:
    """(Re)write ``repodata.json`` of every subdir of a local channel with py-rattler."""
    from rattler.index import index_fs

    (channel_dir / "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel_dir, write_zst=False, write_shards=False, force=True))


def _rattler_config() -> Config:
    """Copy, never hardlink: tests edit installed files, which must not reach the package cache.

    (``allow-symbolic-links = false`` would also turn the packages' own symlinks into copies.)
    """
    from rattler import Config

    return Config.from_toml("allow-hard-links = false\n")


def _installed_records(prefix: Path) -> list[PrefixRecord]:
    from rattler import PrefixRecord

    meta = prefix / "conda-meta"
    return [PrefixRecord.from_path(p) for p in sorted(meta.glob("*.json"))] if meta.is_dir() else []


def _solve(
    channel_dir: Path, specs: Sequence[str], locked: list[PrefixRecord], cache_dir: Path
) -> list[RepoDataRecord]:
    from rattler import Channel, Gateway, solve

    subdir = host_python().subdir
    gateway = Gateway(cache_dir=cache_dir / "repodata", show_progress=False)
    channel = Channel(channel_dir.resolve().as_uri())
    return asyncio.run(
        solve(
            [channel],
            list(specs),
            gateway=gateway,
            platforms=[subdir, "noarch"],
            locked_packages=locked,
            virtual_packages=[],
        )
    )


def _link(
    prefix: Path, records: Sequence[RepoDataRecord], specs: Sequence[str], cache_dir: Path
) -> None:
    from rattler import MatchSpec
    from rattler import install as rattler_install

    def run(requested: list) -> None:
        asyncio.run(
            rattler_install(
                list(records),
                target_prefix=prefix,
                cache_dir=cache_dir / "pkgs",
                show_progress=False,
                requested_specs=requested,
                config=_rattler_config(),
            )
        )

    match_specs = [MatchSpec(s) for s in specs]
    try:
        run(match_specs)
    except TypeError:
        # py-rattler 0.28 hands requested_specs to Rust unwrapped ("'MatchSpec' object is
        # not an instance of 'PyMatchSpec'"), before doing anything: pass the inner objects.
        run([spec._match_spec for spec in match_specs])


def default_rattler_cache() -> Path:
    """Package and repodata cache shared by a test session (inside :func:`cache_root`)."""
    return cache_root() / "rattler"


def install(
    prefix: Path, channel_dir: Path, specs: Sequence[str], *, cache_dir: Path | None = None
) -> Path:
    """Solve ``specs`` against the local channel only and link the result into ``prefix``.

    Packages already in ``prefix`` stay (they are locked and re-requested), like
    ``conda install``, and keep their requested specs. Files are copied from the
    package cache, never hardlinked.

    Args:
        prefix: Target prefix (created if missing).
        channel_dir: Indexed local channel (see :func:`index_channel`).
        specs: Match specs to add.
        cache_dir: rattler cache (default: :func:`default_rattler_cache`).

    Returns:
        ``prefix``.
    """
    cache_dir = cache_dir or default_rattler_cache()
    installed = _installed_records(prefix)
    new_names = _spec_names(specs)
    keep = [r.name.normalized for r in installed if r.name.normalized not in new_names]
    records = _solve(channel_dir, [*specs, *keep], installed, cache_dir)
    _link(prefix, records, [*specs, *_requested_specs(prefix, skip=new_names)], cache_dir)
    return prefix


def remove(prefix: Path, names: Iterable[str], *, cache_dir: Path | None = None) -> Path:
    """Unlink the named packages from ``prefix`` with rattler (no solve, no dependency check).

    rattler deletes what a record's ``paths_data`` lists, so on records in conda's
    dialect it leaves the files of noarch python packages behind; see :func:`unlink_records`.
    """
    cache_dir = cache_dir or default_rattler_cache()
    drop = set(names)
    keep = [r for r in _installed_records(prefix) if r.name.normalized not in drop]
    _link(prefix, keep, _requested_specs(prefix, skip=drop), cache_dir)
    return prefix


def unlink_records(prefix: Path, names: Iterable[str]) -> list[dict[str, object]]:
    """Remove packages as conda does: delete each record's ``files``, empty dirs, the record.

    Returns:
        The records removed.
    """
    drop = set(names)
    removed = []
    for file_name, record in read_records(prefix).items():
        if record.get("name") not in drop:
            continue
        for rel in record.get("files", []):  # type: ignore[union-attr]
            _unlink_with_empty_parents(prefix, prefix / str(rel))
        (prefix / "conda-meta" / file_name).unlink()
        removed.append(record)
    return removed


def _unlink_with_empty_parents(prefix: Path, path: Path) -> None:
    path.unlink(missing_ok=True)
    parent = path.parent
    while parent != prefix and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def _requested_specs(prefix: Path, skip: set[str]) -> list[str]:
    """Specs the records in ``prefix`` were requested with, except for packages in ``skip``."""
    records = read_records(prefix).values() if (prefix / "conda-meta").is_dir() else []
    return [s for r in records if r.get("name") not in skip for s in _requested(r)]


def _spec_names(specs: Iterable[str]) -> set[str]:
    from rattler import MatchSpec

    return {MatchSpec(s).name.normalized for s in specs}


# --------------------------------------------------------------------------- prefix helpers


def env_python(prefix: Path) -> Path:
    """``<prefix>/bin/python``."""
    return prefix / "bin" / "python"


def python_record(prefix: Path) -> dict[str, object] | None:
    """The ``python`` record of ``prefix``, or ``None``."""
    for record in read_records(prefix).values():
        if record.get("name") == "python":
            return record
    return None


def site_packages(prefix: Path) -> Path:
    """Site-packages of the env's python (from its conda record)."""
    record = python_record(prefix)
    if record is None:
        raise FileNotFoundError(f"no python record in {prefix}/conda-meta")
    major, minor = str(record["version"]).split(".")[:2]
    return prefix / "lib" / f"python{major}.{minor}" / "site-packages"


def stdlib_dir(prefix: Path) -> Path:
    """Standard library directory of the env's python (where EXTERNALLY-MANAGED goes)."""
    return site_packages(prefix).parent


def read_records(prefix: Path) -> dict[str, dict[str, object]]:
    """``conda-meta/*.json`` of ``prefix``, keyed by file name."""
    meta = prefix / "conda-meta"
    return {p.name: json.loads(p.read_text()) for p in sorted(meta.glob("*.json"))}


# --------------------------------------------------------------------------- conda dialect


def channel_canonical_name(record: Mapping[str, object]) -> str:
    """conda's canonical channel name of a record: the URL for a local ``file://`` channel."""
    channel = str(record.get("channel") or "").rstrip("/")
    subdir = str(record.get("subdir") or "")
    if subdir and channel.endswith("/" + subdir):
        channel = channel[: -len(subdir) - 1]
    return channel


def dist_str(record: Mapping[str, object]) -> str:
    """``<channel>/<subdir>::<name>-<version>-<build>`` as conda writes it in ``history``."""
    subdir = record.get("subdir")
    where = channel_canonical_name(record) + (f"/{subdir}" if subdir else "")
    return f"{where}::{record['name']}-{record['version']}-{record['build']}"


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


@dataclasses.dataclass(frozen=True)
class _CondaTarget:
    """What rewriting records into conda's dialect needs to know about one prefix."""

    prefix: Path
    site_rel: str
    cache_tag: str
    conda_version: tuple[int, ...]
    compile_pyc: bool

    @classmethod
    def of(cls, prefix: Path, conda_version: str, compile_pyc: bool) -> _CondaTarget:
        python = python_record(prefix)
        site_rel = site_packages(prefix).relative_to(prefix).as_posix() if python else ""
        cache_tag = ""
        if python:
            cache_tag = "cpython-" + "".join(str(python["version"]).split(".")[:2])
        return cls(prefix, site_rel, cache_tag, _version_tuple(conda_version), compile_pyc)

    @property
    def sizes_generated_files(self) -> bool:
        """conda >= 26.1 records ``size_in_bytes`` of pyc files and entry points."""
        return self.conda_version >= (26, 1)


_ENTRY_POINT_TYPES = frozenset({"unix_python_entry_point", "windows_python_entry_point_script"})
_RATTLER_ONLY_KEYS = ("indexed_timestamp", "arch", "platform", "requested_spec", "requested_specs")


def _noarch_source_path(target: str, site_rel: str) -> str:
    """Package-relative path conda keeps in ``paths_data`` for a linked noarch python file."""
    if target.startswith(site_rel + "/"):
        return "site-packages/" + target[len(site_rel) + 1 :]
    if target.startswith("bin/"):
        return "python-scripts/" + target[len("bin/") :]
    return target


def _linked_entry(ctx: _CondaTarget, entry: Mapping[str, object], noarch: bool) -> dict:
    """A linked file's entry: package-relative for noarch, with ``sha256_in_prefix`` for files."""
    target = str(entry["_path"])
    out = dict(entry)
    if noarch:
        out["_path"] = _noarch_source_path(target, ctx.site_rel)
    out.pop("sha256_in_prefix", None)  # rattler hashes a softlink's target string here
    if out.get("path_type") == "hardlink" and (ctx.prefix / target).is_file():
        out["sha256_in_prefix"] = sha256_file(ctx.prefix / target)
    return out


def _generated_entry(ctx: _CondaTarget, target: str, path_type: str) -> dict[str, object]:
    """Entry of a file conda creates at link time (pyc, entry point): no hashes."""
    out: dict[str, object] = {"_path": target, "path_type": path_type}
    if ctx.sizes_generated_files and (ctx.prefix / target).is_file():
        out["size_in_bytes"] = (ctx.prefix / target).stat().st_size
    return out


def _conda_paths(ctx: _CondaTarget, record: Mapping[str, object]) -> list[tuple[str, dict]]:
    """``(prefix-relative file, paths_data entry)`` pairs in the order conda writes them.

    conda lists the package's files (in paths.json order), then the pyc files it
    compiled, then the entry points it generated.
    """
    paths = list((record.get("paths_data") or {}).get("paths", []))  # type: ignore[union-attr]
    noarch = record.get("noarch") == "python"
    linked = [p for p in paths if p.get("path_type") not in _ENTRY_POINT_TYPES]
    pairs = [(str(p["_path"]), _linked_entry(ctx, p, noarch)) for p in linked]
    pairs.sort(key=lambda pair: str(pair[1]["_path"]))
    if noarch and ctx.compile_pyc:
        pycs = _compile_noarch(ctx.prefix, [target for target, _ in pairs], ctx.cache_tag)
        pairs += [(pyc, _generated_entry(ctx, pyc, "pyc_file")) for pyc in pycs]
    for entry in paths:
        if entry.get("path_type") in _ENTRY_POINT_TYPES:
            target = str(entry["_path"])
            pairs.append((target, _generated_entry(ctx, target, str(entry["path_type"]))))
    return pairs


def _requested(record: Mapping[str, object]) -> list[str]:
    specs = record.get("requested_specs") or record.get("_requested_specs") or []
    if not specs and record.get("requested_spec") not in (None, "None"):
        specs = [record["requested_spec"]]
    return [str(s) for s in specs]  # type: ignore[union-attr]


def _requested_fields(requested: Sequence[str], conda_version: tuple[int, ...]) -> dict:
    """``requested_spec(s)`` as conda writes them: a string (``"None"``) before 26.3, then lists."""
    if conda_version < (26, 3):
        return {"requested_spec": requested[0] if requested else "None"}
    if not requested:
        return {"_requested_specs": []}
    return {"requested_spec": requested[0], "requested_specs": list(requested)}


def _conda_record(ctx: _CondaTarget, record: Mapping[str, object]) -> dict[str, object]:
    out = {k: v for k, v in record.items() if k not in _RATTLER_ONLY_KEYS}
    pairs = _conda_paths(ctx, record)
    out["files"] = [target for target, _ in pairs]
    out["paths_data"] = {"paths": [entry for _, entry in pairs], "paths_version": 1}
    out["channel"] = f"{channel_canonical_name(record)}/{record.get('subdir')}"
    out.setdefault("constrains", [])
    source = str(record.get("extracted_package_dir") or "")
    out["link"] = {"source": source, "type": _LINK_TYPE_HARDLINK}
    out["package_tarball_full_path"] = f"{source}.conda" if source else ""
    if record.get("noarch") == "python":
        out["package_type"] = "noarch_python"
    out.update(_requested_fields(_requested(record), ctx.conda_version))
    return out


def convert_records(
    prefix: Path,
    file_names: Iterable[str] | None = None,
    *,
    compile_pyc: bool = True,
    conda_version: str = DEFAULT_CONDA_VERSION,
) -> list[str]:
    """Rewrite rattler-written ``conda-meta/*.json`` records as conda writes them.

    See :func:`to_conda_dialect` for what changes. Records already converted must not be
    passed again.

    Args:
        prefix: The environment.
        file_names: Record file names to convert (default: all).
        compile_pyc: Byte-compile noarch python files and list the pyc files, like conda.
        conda_version: conda version to imitate.

    Returns:
        The converted records' file names.
    """
    ctx = _CondaTarget.of(prefix, conda_version, compile_pyc)
    records = read_records(prefix)
    names = list(records) if file_names is None else list(file_names)
    for name in names:
        _write_json(prefix / "conda-meta" / name, _conda_record(ctx, records[name]))
    return names


def to_conda_dialect(
    prefix: Path,
    *,
    history: bool = True,
    compile_pyc: bool = True,
    cmd: str | None = None,
    specs: Sequence[str] | None = None,
    conda_version: str = DEFAULT_CONDA_VERSION,
    when: time.struct_time | None = None,
) -> None:
    """Rewrite a fresh environment made by :func:`install` into what ``conda create`` leaves.

    Checked against conda 26.7.1 creating the same environment from the same channel:

    * noarch python records: ``paths_data.paths[]._path`` becomes package-relative
      (``site-packages/...``, ``python-scripts/...``) while ``files`` stays prefix-relative;
      with ``compile_pyc`` the ``.py`` files are byte-compiled and the ``.pyc`` files added
      to ``files`` and as ``pyc_file`` entries; entry points lose their ``sha256``;
    * ``hardlink`` entries get ``sha256_in_prefix`` computed from the file on disk
      (softlinks, pyc files and entry points get none, as with conda);
    * ``channel`` gets the subdir, ``link``/``constrains``/``package_tarball_full_path``/
      ``package_type`` are set, rattler's ``indexed_timestamp``/``arch``/``platform`` go,
      requested specs take the form of ``conda_version`` (string ``"None"`` before 26.3);
    * rattler's ``CACHEDIR.TAG`` in the prefix is removed; ``conda-meta/history`` (empty
      when rattler wrote it) gets one ``create`` entry, or is removed when ``history`` is
      false; ``conda-meta/created_at`` is written for conda >= 25.11.

    Args:
        prefix: Environment created by :func:`install`.
        history: Write ``conda-meta/history``; false leaves none at all.
        compile_pyc: Byte-compile noarch python files like conda.
        cmd: ``# cmd:`` line (default ``conda create -p <prefix> <specs>``).
        specs: ``# update specs:`` (default: the requested specs found in the records).
        conda_version: conda version to imitate in records and history.
        when: Timestamp of the history entry (default: now).
    """
    records = read_records(prefix)
    convert_records(prefix, compile_pyc=compile_pyc, conda_version=conda_version)
    (prefix / "CACHEDIR.TAG").unlink(missing_ok=True)
    (prefix / "conda-meta" / "history").unlink(missing_ok=True)
    if _version_tuple(conda_version) >= (25, 11):
        (prefix / "conda-meta" / "created_at").write_text(f"{time.time():.3f}")
    if not history:
        return
    if specs is None:
        specs = [spec for record in records.values() for spec in _requested(record)]
    append_history(
        prefix,
        linked=[dist_str(r) for r in records.values()],
        cmd=cmd or f"conda create -p {prefix} " + " ".join(specs),
        specs=specs,
        conda_version=conda_version,
        when=when,
    )


def append_history(
    prefix: Path,
    *,
    linked: Iterable[str] = (),
    unlinked: Iterable[str] = (),
    cmd: str = "conda install",
    specs: Sequence[str] = (),
    remove_specs: Sequence[str] = (),
    conda_version: str = DEFAULT_CONDA_VERSION,
    when: time.struct_time | None = None,
) -> Path:
    """Append one transaction to ``conda-meta/history`` the way conda writes it.

    Args:
        prefix: The environment.
        linked: Dist strings linked (``channel/subdir::name-version-build``, see :func:`dist_str`).
        unlinked: Dist strings unlinked.
        cmd: The command line for ``# cmd:``.
        specs: ``# update specs:`` entries.
        remove_specs: ``# remove specs:`` entries.
        conda_version: Version for ``# conda version:``.
        when: Timestamp (default: now).

    Returns:
        Path of the history file.
    """
    path = prefix / "conda-meta" / "history"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"==> {time.strftime('%Y-%m-%d %H:%M:%S', when or time.localtime())} <==",
        f"# cmd: {cmd}",
        f"# conda version: {'.'.join(conda_version.split('.')[:3])}",
    ]
    lines += [f"-{dist}" for dist in sorted(unlinked)]
    lines += [f"+{dist}" for dist in sorted(linked)]
    if remove_specs:
        lines.append(f"# remove specs: {list(remove_specs)}")
    if specs:
        lines.append(f"# update specs: {list(specs)}")
    with path.open("a", encoding="utf-8") as stream:
        stream.write("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- byte-compiling


def _code_bytes(source: bytes, rel: str) -> bytes | None:
    """Marshalled code of ``source`` compiled here, cached on disk; ``None`` if it is invalid."""
    key = hashlib.sha256(rel.encode() + b"\0" + source).hexdigest()
    cached = cache_root() / "pyc" / sys.implementation.cache_tag / key[:2] / key
    if cached.is_file():
        return cached.read_bytes()
    try:
        code = compile(source, rel, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    data = marshal.dumps(code)
    cached.parent.mkdir(parents=True, exist_ok=True)
    scratch = cached.with_name(f"{key}.{os.getpid()}.tmp")
    scratch.write_bytes(data)
    scratch.replace(cached)
    return data


def _write_pyc(prefix: Path, rel: str) -> str | None:
    """Write the timestamp-based ``__pycache__`` file of ``<prefix>/<rel>``, as compileall does.

    Returns:
        The prefix-relative ``.pyc`` path, or ``None`` when the source does not compile.
    """
    source = prefix / rel
    code = _code_bytes(source.read_bytes(), rel)
    if code is None:
        return None
    stat = source.stat()
    header = importlib.util.MAGIC_NUMBER + b"\0\0\0\0"
    header += (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
    header += (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    pyc = Path(importlib.util.cache_from_source(rel)).as_posix()
    (prefix / pyc).parent.mkdir(exist_ok=True)
    (prefix / pyc).write_bytes(header + code)
    return pyc


def _compile_with_env_python(prefix: Path, sources: Sequence[str], cache_tag: str) -> list[str]:
    subprocess.run(
        [str(env_python(prefix)), "-Wi", "-m", "compileall", "-q", "-l", "-j0", *sources],
        cwd=prefix,
        check=False,
        capture_output=True,
        env=_clean_python_env(),
    )
    pycs = [Path(s).parent / "__pycache__" / f"{Path(s).stem}.{cache_tag}.pyc" for s in sources]
    return [pyc.as_posix() for pyc in pycs if (prefix / pyc).exists()]


def _compile_noarch(prefix: Path, files: Sequence[str], cache_tag: str) -> list[str]:
    """Byte-compile the ``.py`` files of a noarch record as conda does after linking.

    When the env's python is this interpreter's version (always so with the kit's own
    python package) the code is compiled in-process and cached by content: much faster
    than running compileall for every environment, and the same ``.pyc`` files apart
    from the embedded ``co_filename`` (prefix-relative here; Python fixes it at import).

    Returns:
        Prefix-relative paths of the ``.pyc`` files written.
    """
    sources = [f for f in files if f.endswith(".py") and "/site-packages/" in f]
    if not sources or not cache_tag:
        return []
    if cache_tag != sys.implementation.cache_tag:
        return _compile_with_env_python(prefix, sources, cache_tag)
    return [pyc for pyc in (_write_pyc(prefix, rel) for rel in sources) if pyc]


# --------------------------------------------------------------------------- running pip


CONFIG_VAR_PREFIXES = ("PIP_", "UV_", "CONDA_", "MAMBA_", "PIXI_")
"""Variables that configure pip, uv or conda: no subprocess of the tests inherits them."""

_DROPPED_VARS = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PYTHONSTARTUP",
    "PYTHONDONTWRITEBYTECODE",  # the env's python writes __pycache__ as it would for a user
    "VIRTUAL_ENV",
)


GLOBAL_CONFIG_DIR = "xdg-config-dirs"
"""Directory under a kit HOME standing in for ``/etc/xdg``: ``XDG_CONFIG_DIRS`` of every
subprocess, so a test plants a *global* pip configuration at ``<home>/xdg-config-dirs/pip/pip.conf``
(see :func:`global_pip_conf`)."""

PIP_LAUNCHER = """\
import os, sys
from pip._internal.utils import appdirs
dirs = [d for d in os.environ.get("XDG_CONFIG_DIRS", "").split(os.pathsep) if d]
appdirs.site_config_dirs = lambda appname: [os.path.join(d, appname) for d in dirs]
from pip._internal.cli.main import main
sys.exit(main(sys.argv[1:]))
"""
"""``python -c PIP_LAUNCHER ARGS`` is ``python -m pip ARGS`` whose global configuration comes
only from ``XDG_CONFIG_DIRS``: pip otherwise always reads ``/etc/pip.conf`` too, which cannot be
turned off without turning off the env's own site ``pip.conf`` (``PIP_CONFIG_FILE=/dev/null``)."""


def pip_command(python: Path | str) -> list[str]:
    """The argv prefix that runs ``python``'s pip with the machine's ``/etc`` configs left out."""
    return [str(python), "-c", PIP_LAUNCHER]


def global_pip_conf(home: Path) -> Path:
    """Where a test plants the global pip configuration that subprocesses under ``home`` read."""
    return home / GLOBAL_CONFIG_DIR / "pip" / "pip.conf"


def _clean_python_env() -> dict[str, str]:
    """``os.environ`` without pip's, uv's and conda's variables and the host's Python setup."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(CONFIG_VAR_PREFIXES) and key not in _DROPPED_VARS
    }


def isolated_env(
    home: Path,
    *,
    find_links: Path | Sequence[Path] = (),
    user_site: bool = False,
    env_extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment for running an env's python and pip isolated from the host's configuration.

    Drops every ``PIP_*`` variable and ``PYTHONPATH``, ``PYTHONHOME``, ``PYTHONUSERBASE``,
    ``PYTHONSTARTUP``, ``PYTHONDONTWRITEBYTECODE`` and ``VIRTUAL_ENV``, sets
    ``PIP_NO_INDEX``, ``PIP_DISABLE_PIP_VERSION_CHECK``, ``PIP_NO_INPUT`` and
    ``PIP_FIND_LINKS`` (an empty directory when none is given, which overrides find-links
    from any config file), points ``HOME``, ``XDG_CONFIG_HOME``, ``XDG_CACHE_HOME`` and
    ``XDG_CONFIG_DIRS`` (the global pip config, see :func:`global_pip_conf`) into ``home`` (so
    the user site is ``<home>/.local/...``), sets ``UV_NO_CONFIG=1`` and sets
    ``PYTHONNOUSERSITE=1`` unless ``user_site``. ``PIP_CONFIG_FILE`` is left unset: pip still
    reads the site config ``<prefix>/pip.conf``; :func:`run_python` runs pip through
    :data:`PIP_LAUNCHER` so that ``/etc/pip.conf`` is not read either.
    """
    links = [find_links] if isinstance(find_links, Path | str) else list(find_links)
    if not links:
        links = [home / "no-find-links"]
        links[0].mkdir(parents=True, exist_ok=True)
    env = _clean_python_env()
    env.update(
        {
            "PIP_NO_INDEX": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "PIP_FIND_LINKS": " ".join(str(p) for p in links),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_DIRS": str(home / GLOBAL_CONFIG_DIR),
            "UV_NO_CONFIG": "1",
        }
    )
    if not user_site:
        env["PYTHONNOUSERSITE"] = "1"
    env.update(env_extra or {})
    (home / GLOBAL_CONFIG_DIR).mkdir(parents=True, exist_ok=True)
    return env


def default_home(prefix: Path) -> Path:
    """Fake HOME used for ``prefix`` when none is given: ``<prefix parent>/.<name>-home``."""
    home = prefix.parent / f".{prefix.name}-home"
    home.mkdir(parents=True, exist_ok=True)
    return home


def run_python(
    prefix: Path,
    *args: str | Path,
    check: bool = True,
    env_extra: Mapping[str, str] | None = None,
    user_site: bool = False,
    home: Path | None = None,
    find_links: Path | Sequence[Path] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``<prefix>/bin/python *args`` in :func:`isolated_env`, capturing text output.

    Args:
        prefix: The environment.
        *args: Arguments (paths are converted to strings).
        check: Raise ``AssertionError`` with stdout/stderr when the command fails.
        env_extra: Extra environment variables (applied last).
        user_site: Leave the user site enabled (``PYTHONNOUSERSITE`` unset).
        home: Fake HOME (default: :func:`default_home`).
        find_links: Directories/files for ``PIP_FIND_LINKS``.

    Returns:
        The completed process.

    Raises:
        AssertionError: ``check`` is set and the command failed.
    """
    env = isolated_env(
        home or default_home(prefix),
        find_links=find_links,
        user_site=user_site,
        env_extra=env_extra,
    )
    argv = list(map(str, args))
    if argv[:2] == ["-m", "pip"]:
        command = [*pip_command(env_python(prefix)), *argv[2:]]
    else:
        command = [str(env_python(prefix)), *argv]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def run_pip(
    prefix: Path,
    *args: str | Path,
    find_links: Path | Sequence[Path] = (),
    check: bool = True,
    env_extra: Mapping[str, str] | None = None,
    user_site: bool = False,
    home: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``<prefix>/bin/python -m pip *args`` offline, isolated from the host's pip config.

    See :func:`run_python` for the arguments and :func:`isolated_env` for the environment.
    """
    return run_python(
        prefix,
        "-m",
        "pip",
        *args,
        check=check,
        env_extra=env_extra,
        user_site=user_site,
        home=home,
        find_links=find_links,
    )


# --------------------------------------------------------------------------- pytest factory


class EnvKit:
    """Factory for real conda environments under one temporary root.

    :attr:`channel` is a local channel that already holds ``python`` and ``pip``
    (linked from the session cache); add packages with :meth:`add_package` or
    :meth:`add_conda_package`, then :meth:`create` environments from it. Operations
    in the ``conda`` dialect leave records and history as conda would.
    """

    def __init__(
        self,
        tmp_root: Path,
        *,
        site_packages_path: bool = False,
        conda_version: str = DEFAULT_CONDA_VERSION,
    ) -> None:
        """Prepare ``<tmp_root>/channel`` with python and pip (skips the test if impossible).

        Args:
            tmp_root: A per-test temporary directory.
            site_packages_path: Use a python package declaring ``python_site_packages_path``.
            conda_version: conda version imitated by the ``conda`` dialect.
        """
        self.host = require_host()
        self.root = Path(tmp_root)
        self.channel = self.root / "channel"
        self.wheels = self.root / "wheels"
        self.home = self.root / "home"
        self.cache_dir = default_rattler_cache()
        self.conda_version = conda_version
        python_pkg, pip_pkg = cached_base_packages(site_packages_path=site_packages_path)
        for package in (python_pkg, pip_pkg):
            _link_or_copy(package, self.channel / package.parent.name / package.name)
        self._dirty = True

    @property
    def channel_url(self) -> str:
        """``file://`` URL of :attr:`channel`."""
        return self.channel.resolve().as_uri()

    def add_package(self, name: str, version: str, **kwargs: object) -> Path:
        """:func:`make_python_conda_package` into :attr:`channel`."""
        self._dirty = True
        return make_python_conda_package(self.channel, name, version, **kwargs)  # type: ignore[arg-type]

    def add_conda_package(self, name: str, version: str, **kwargs: object) -> Path:
        """:func:`make_conda_package` into :attr:`channel`."""
        self._dirty = True
        return make_conda_package(self.channel, name, version, **kwargs)  # type: ignore[arg-type]

    def add_python(self, host: HostPython) -> Path:
        """Add a ``python`` package built from another interpreter (see :func:`other_python`)."""
        self._dirty = True
        return build_python_package(self.channel, host=host)

    def wheel(
        self, name: str, version: str, modules: Mapping[str, FileContent], **kwargs: object
    ) -> Path:
        """:func:`make_wheel` into :attr:`wheels` (the default find-links of :meth:`pip`)."""
        return make_wheel(self.wheels, name, version, modules, **kwargs)  # type: ignore[arg-type]

    def prefix(self, name: Path | str) -> Path:
        """Absolute prefix for ``name``: relative names go under ``<root>/envs``."""
        return Path(name) if Path(name).is_absolute() else self.root / "envs" / str(name)

    def create(
        self, prefix: Path | str, specs: Sequence[str], dialect: Dialect = "rattler"
    ) -> Path:
        """Create an environment from :attr:`channel` (``conda create``).

        Returns:
            The prefix.
        """
        target = self.prefix(prefix)
        if target.exists():
            raise FileExistsError(target)
        self.index()
        install(target, self.channel, specs, cache_dir=self.cache_dir)
        if dialect == "conda":
            to_conda_dialect(target, specs=list(specs), conda_version=self.conda_version)
        return target

    def install(self, prefix: Path, specs: Sequence[str], dialect: Dialect = "rattler") -> Path:
        """Add packages to an environment (``conda install``).

        In the conda dialect, records of packages that stay are kept byte for byte
        (rattler would rewrite their requested specs), new records are converted and
        history gets an entry.
        """
        self.index()
        before = _record_texts(prefix)
        install(prefix, self.channel, specs, cache_dir=self.cache_dir)
        if dialect == "conda":
            self._conda_transaction(prefix, before, f"install -p {prefix}", specs=list(specs))
        return prefix

    def remove(self, prefix: Path, names: Sequence[str], dialect: Dialect = "rattler") -> Path:
        """Remove packages (``conda remove``, without a dependency check).

        The conda dialect deletes each record's ``files`` like conda
        (:func:`unlink_records`); the rattler dialect lets rattler unlink.
        """
        before = _record_texts(prefix)
        if dialect == "conda":
            unlink_records(prefix, names)
            self._conda_transaction(prefix, before, f"remove -p {prefix}", remove_specs=names)
        else:
            remove(prefix, names, cache_dir=self.cache_dir)
        return prefix

    def pip(
        self, prefix: Path, *args: str | Path, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        """:func:`run_pip` with :attr:`wheels` as find-links and the kit's fake HOME."""
        self.wheels.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("find_links", [self.wheels])
        kwargs.setdefault("home", self.home)
        return run_pip(prefix, *args, **kwargs)  # type: ignore[arg-type]

    def python(
        self, prefix: Path, *args: str | Path, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        """:func:`run_python` with the kit's fake HOME."""
        kwargs.setdefault("home", self.home)
        return run_python(prefix, *args, **kwargs)  # type: ignore[arg-type]

    def index(self) -> None:
        if self._dirty:
            index_channel(self.channel)
            self._dirty = False

    def _conda_transaction(
        self,
        prefix: Path,
        before: Mapping[str, str],
        args: str,
        *,
        specs: Sequence[str] = (),
        remove_specs: Sequence[str] = (),
    ) -> None:
        after = _record_texts(prefix)
        for file_name in before.keys() & after.keys():
            (prefix / "conda-meta" / file_name).write_text(before[file_name])
        added = [file_name for file_name in after if file_name not in before]
        gone = [json.loads(text) for file_name, text in before.items() if file_name not in after]
        convert_records(prefix, added, conda_version=self.conda_version)
        records = read_records(prefix)
        append_history(
            prefix,
            linked=[dist_str(records[file_name]) for file_name in added],
            unlinked=[dist_str(record) for record in gone],
            cmd=f"conda {args} " + " ".join([*specs, *remove_specs]),
            specs=specs,
            remove_specs=remove_specs,
            conda_version=self.conda_version,
        )


def _record_texts(prefix: Path) -> dict[str, str]:
    meta = prefix / "conda-meta"
    return {p.name: p.read_text() for p in sorted(meta.glob("*.json"))}


def tree_hashes(root: Path) -> dict[str, str]:
    """Every directory, file and symlink under *root* with its content hash (or link target)."""
    found: dict[str, str] = {}
    for directory, dirs, files in os.walk(root):
        base = Path(directory)
        for name in dirs + files:
            path = base / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = f"link:{os.readlink(path)}"
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


#: A PEP 517/660 in-tree build backend for a project ``proj`` 0.1, so that ``pip install -e``
#: works offline with no setuptools: pip writes a real editable install (direct_url.json).
EDITABLE_BACKEND = """
import base64, hashlib, os, zipfile

NAME, VERSION = "proj", "0.1"
DIST = f"{NAME}-{VERSION}.dist-info"


def _record(items):
    lines = []
    for path, data in items:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    return "\\n".join(lines + [f"{DIST}/RECORD,,"]) + "\\n"


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    items = [
        (f"__editable__.{NAME}.pth", os.path.abspath(".") + "\\n"),
        (f"{DIST}/METADATA", f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n"),
        (f"{DIST}/WHEEL", "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"),
    ]
    items = [(path, text.encode()) for path, text in items]
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        for path, data in items:
            wheel.writestr(path, data)
        wheel.writestr(f"{DIST}/RECORD", _record(items))
    return name
"""


def editable_project(root: Path) -> Path:
    """Lay out the ``proj`` project (built by :data:`EDITABLE_BACKEND`) under *root*."""
    project = root / "proj"
    (project / "proj").mkdir(parents=True)
    (project / "proj" / "__init__.py").write_text("")
    (project / "backend.py").write_text(EDITABLE_BACKEND)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    return project

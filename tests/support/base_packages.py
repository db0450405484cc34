"""The ``python`` and ``pip`` conda packages built once from the host and cached across sessions."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.support.host import HostPython, host_python
from tests.support.packages import _index_json, pack_conda_package
from tests.support.wheels import _record_hash

PYTHON_BUILD = "0_pipguard_test"
"""Build string of the conda ``python`` package made from the host interpreter."""


PYTHON_BUILD_SITE_PACKAGES_PATH = "0_pipguard_test_sp"
"""Build string of the variant declaring ``python_site_packages_path`` (distinct, so that
rattler's package cache, keyed by name-version-build, never mixes the two)."""


CACHE_ENV_VAR = "PIPGUARD_TEST_CACHE"
"""Environment variable that overrides the directory caching built packages."""


STDLIB_EXCLUDED = frozenset(
    {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip"}
    # A distribution's own PEP 668 marker and site hook (Debian ships both) stay out too.
    | {"EXTERNALLY-MANAGED", "sitecustomize.py"}
)
"""Top-level stdlib entries left out of the ``python`` package."""


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


#: The kit modules whose code decides what the cached packages contain.
_BUILDERS = ("host.py", "wheels.py", "packages.py", "base_packages.py")


def _kit_fingerprint(host: HostPython) -> str:
    digest = hashlib.sha256()
    for module in _BUILDERS:
        digest.update((Path(__file__).parent / module).read_bytes())
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

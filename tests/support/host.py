"""The interpreter the kit turns into a conda ``python`` package: the running one, or another."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest


class HostUnsupportedError(RuntimeError):
    """The running interpreter cannot be turned into a conda ``python`` package."""


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

"""A local conda channel of real PyPI wheels, as conda-forge would ship them.

The package tests build conda-pipguard's recipe and run conda from conda packages; both need a
channel holding real packages: the build tools (pip, hatchling and what it needs), the run
dependencies (packaging, pluggy) and conda with everything it imports. This module resolves
requirements with pip against PyPI (once, then cached), downloads the exact wheels with the
kit's :func:`tests.support.pypi.download` and converts each the way conda-forge packages it:

* a pure wheel (``*-none-any``) becomes a ``noarch: python`` package, its console scripts as
  ``info/link.json`` entry points that conda (or rattler) writes at link time;
* any other wheel becomes a package of this platform with the kit's
  :func:`tests.support.pypi.conda_package_from_wheel`.

Each package's ``depends`` are the names of its requirements that hold here (markers
evaluated for this Python, no extras). A requirement no package of the channel can provide
(conda's ``menuinst``, which is not on PyPI; conda runs on Linux without it) is left out of
``depends`` and of the distribution's ``Requires-Dist`` alike, so that ``pip check`` in an env
of this channel judges everything else.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from email.parser import HeaderParser
from pathlib import Path

from tests.support.envkit import cache_root, make_conda_package
from tests.support.pypi import (
    PYPI_INDEX,
    PyPIUnreachable,
    _pip_env,
    conda_package_from_wheel,
    download,
    wheel_files,
)
from tests.support.wheels import _record_hash


def conda_name(name: str) -> str:
    """The package name a distribution gets in the channel (PEP 503: ``ruamel-yaml``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclasses.dataclass(frozen=True)
class Pin:
    """One distribution of a resolution: exact version and its ``Requires-Dist``."""

    name: str
    version: str
    requires: tuple[str, ...] = ()

    @classmethod
    def of_wheel(cls, wheel: Path) -> Pin:
        """The pin a wheel file describes (its METADATA)."""
        with zipfile.ZipFile(wheel) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            headers = HeaderParser().parsestr(archive.read(name).decode())
        return cls(headers["Name"], headers["Version"], tuple(headers.get_all("Requires-Dist", [])))


def resolve(requirements: Sequence[str]) -> list[Pin]:
    """What pip installs for *requirements* on this Python, from PyPI (cached per input).

    Raises:
        PyPIUnreachable: pip could not resolve them from PyPI.
    """
    key = hashlib.sha256(
        "\n".join([*requirements, sys.version, sys.platform, PYPI_INDEX]).encode()
    ).hexdigest()[:16]
    cached = cache_root() / "pypi-resolved" / f"{key}.json"
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        report = cached.with_name(f"{key}.{os.getpid()}.report")
        command = [
            *(sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"),
            *("--quiet", "--prefer-binary", "--index-url", PYPI_INDEX),
            *("--report", str(report), *requirements),
        ]
        proc = subprocess.run(
            command, capture_output=True, text=True, env=_pip_env(), check=False, timeout=300
        )
        if proc.returncode or not report.is_file():
            raise PyPIUnreachable(f"cannot resolve {requirements} from PyPI: {proc.stderr[-500:]}")
        installs = json.loads(report.read_text())["install"]
        pins = [
            [
                item["metadata"]["name"],
                item["metadata"]["version"],
                item["metadata"].get("requires_dist", []),
            ]
            for item in installs
        ]
        report.unlink()
        cached.write_text(json.dumps(pins, indent=1))
    return [Pin(name, version, tuple(req)) for name, version, req in json.loads(cached.read_text())]


def wheel_of(pin: Pin, dest: Path) -> Path:
    """The wheel of *pin* for this Python: PyPI's (:func:`download`), else built from its sdist.

    pycosat, which conda's classic solver needs, has no wheel for Linux on PyPI: pip builds
    it (a C compiler and Python's headers are needed, as for installing conda from its wheels).

    Raises:
        PyPIUnreachable: Neither a wheel nor an sdist could be had.
    """
    spec = f"{pin.name}=={pin.version}"
    try:
        return download(spec, dest)
    except PyPIUnreachable:
        pass
    built = dest / "built"
    stem = f"{re.sub(r'[-_.]+', '_', pin.name).lower()}-{pin.version}-"
    found = sorted(p for p in built.glob("*.whl") if p.name.lower().startswith(stem))
    if not found:
        command = [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--index-url", PYPI_INDEX, "--wheel-dir", str(built), spec),
        ]
        proc = subprocess.run(
            command, capture_output=True, text=True, env=_pip_env(), check=False, timeout=600
        )
        found = sorted(p for p in built.glob("*.whl") if p.name.lower().startswith(stem))
        if proc.returncode or not found:
            raise PyPIUnreachable(f"cannot build a wheel of {spec}: {proc.stderr[-500:]}")
    return found[0]


def _holds(requirement: str) -> bool:
    from packaging.requirements import Requirement

    marker = Requirement(requirement).marker
    return marker is None or marker.evaluate({"extra": ""})


def _dropped(pin: Pin, available: set[str]) -> list[str]:
    """Requirements of *pin* that hold here but that no package of the channel provides."""
    from packaging.requirements import Requirement

    return [
        req
        for req in pin.requires
        if _holds(req) and conda_name(Requirement(req).name) not in available
    ]


def _without_requirements(files: dict[str, bytes], dropped: Iterable[str]) -> None:
    """Take *dropped* out of the METADATA in *files* and set its RECORD line again."""
    gone = {f"Requires-Dist: {req}" for req in dropped}
    if not gone:
        return
    metadata_path = next(p for p in files if p.endswith(".dist-info/METADATA"))
    lines = files[metadata_path].decode().split("\n")
    data = "\n".join(line for line in lines if line not in gone).encode()
    files[metadata_path] = data
    record_path = metadata_path.replace("/METADATA", "/RECORD")
    info_rel = metadata_path.split("/", 1)[1] if metadata_path.count("/") > 1 else metadata_path
    rows = list(csv.reader(files[record_path].decode().splitlines()))
    for row in rows:
        if row and row[0] == info_rel:
            row[1:] = [_record_hash(data), str(len(data))]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    files[record_path] = out.getvalue().encode()


def _console_scripts(files: Mapping[str, bytes]) -> list[str]:
    path = next((p for p in files if p.endswith(".dist-info/entry_points.txt")), None)
    if path is None:
        return []
    scripts, section = [], ""
    for line in files[path].decode().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[console_scripts]" and "=" in line:
            command, target = (part.strip() for part in line.split("=", 1))
            scripts.append(f"{command} = {target}")
    return scripts


def _is_pure(wheel: Path) -> bool:
    return wheel.name.endswith("-none-any.whl")


def noarch_package_from_wheel(
    wheel: Path,
    channel: Path,
    pin: Pin,
    depends: Sequence[str],
    *,
    dropped: Sequence[str] = (),
    entry_points: Sequence[str] | None = None,
) -> Path:
    """A ``noarch: python`` package of a pure *wheel* in *channel* (built once, then copied).

    Args:
        wheel: A ``*-none-any`` wheel.
        channel: The channel directory.
        pin: The wheel's name and version.
        depends: The package's run dependencies (``python`` is added).
        dropped: Requirements to take out of the METADATA (see the module's docstring).
        entry_points: Console scripts for ``info/link.json`` (default: the wheel's own).
    """
    key = hashlib.sha256(Path(__file__).read_bytes())
    key.update(f"{wheel.name}|{depends}|{dropped}|{entry_points}".encode())
    cache = cache_root() / "pypi-noarch" / key.hexdigest()[:16]
    built = sorted(cache.glob("noarch/*.conda"))
    if not built:
        scratch = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        shutil.rmtree(scratch, ignore_errors=True)
        files = {
            ("python-scripts/" + path[4:] if path.startswith("bin/") else path): data
            for path, data in wheel_files(wheel, "site-packages").items()
            if "/__pycache__/" not in path  # conda compiles noarch packages when it links them
        }
        _without_requirements(files, dropped)
        scripts = _console_scripts(files) if entry_points is None else list(entry_points)
        make_conda_package(
            scratch,
            conda_name(pin.name),
            pin.version,
            "pyh_pipguard_test",
            0,
            [*depends, "python"],
            files,
            noarch_python=True,
            entry_points=scripts,
        )
        shutil.rmtree(cache, ignore_errors=True)
        scratch.replace(cache)
        built = sorted(cache.glob("noarch/*.conda"))
    (package,) = built
    target = channel / "noarch" / package.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package, target)
    return target


def add_wheels(
    channel: Path,
    pins: Sequence[Pin],
    *,
    local: Mapping[str, Path] | None = None,
    entry_points: Mapping[str, Sequence[str]] | None = None,
) -> list[Path]:
    """Put a package of every pin into *channel*; return the packages' paths.

    Args:
        channel: The channel directory (index it afterwards).
        pins: The distributions, e.g. from :func:`resolve` or :meth:`Pin.of_wheel`.
        local: Wheel files to use instead of PyPI's, by conda name.
        entry_points: Console scripts to write instead of a wheel's own, by conda name.

    Raises:
        PyPIUnreachable: A wheel could not be downloaded.
    """
    from packaging.requirements import Requirement

    local = dict(local or {})
    entry_points = dict(entry_points or {})
    available = {conda_name(pin.name) for pin in pins} | {"python", "pip"}
    wheels_dir = cache_root() / "pypi-wheels"
    packages = []
    for pin in pins:
        name = conda_name(pin.name)
        wheel = local.get(name) or wheel_of(pin, wheels_dir)
        depends = sorted(
            {
                conda_name(Requirement(req).name)
                for req in pin.requires
                if _holds(req) and conda_name(Requirement(req).name) in available
            }
        )
        dropped = _dropped(pin, available)
        if _is_pure(wheel):
            packages.append(
                noarch_package_from_wheel(
                    wheel,
                    channel,
                    pin,
                    depends,
                    dropped=dropped,
                    entry_points=entry_points.get(name),
                )
            )
        elif dropped:
            raise ValueError(f"{pin.name} needs {dropped}, which the channel cannot provide")
        else:
            packages.append(conda_package_from_wheel(wheel, channel, name, pin.version, depends))
    return packages


__all__ = [
    "Pin",
    "PyPIUnreachable",
    "add_wheels",
    "conda_name",
    "noarch_package_from_wheel",
    "resolve",
]

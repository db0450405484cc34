"""Real PyPI wheels turned into conda packages, for tests that need real-world sizes.

Tiny fixtures hide what real packages have: thousands of files, byte code, vendored libraries
(``numpy.libs/``), scripts. This module downloads exact wheels from PyPI with pip, isolated from
the machine's pip configuration (``PIP_CONFIG_FILE=/dev/null``, no ``PIP_*`` variables, only the
PyPI index), and converts each into a ``.conda`` package laid out as conda-forge's are: the
wheel's files under site-packages, ``INSTALLER`` saying conda, and ``__pycache__`` byte code for
every module. Both the wheels and the packages are cached under the kit's cache directory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from tests.support.envkit import _code_bytes, cache_root, host_python, make_conda_package

PYPI_INDEX = "https://pypi.org/simple"


class PyPIUnreachable(RuntimeError):
    """PyPI could not be reached (the tests that need it skip with this message)."""


def _pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
        }
    )
    return env


def download(spec: str, dest: Path) -> Path:
    """The wheel of *spec* (``name==version``) for this Python, downloaded once into *dest*.

    Raises:
        PyPIUnreachable: pip could not get it from PyPI.
    """
    name, _, version = spec.partition("==")
    stem = f"{name.replace('-', '_').lower()}-{version}-"
    cached = sorted(p for p in dest.glob("*.whl") if p.name.lower().startswith(stem))
    if cached:
        return cached[0]
    dest.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--index-url",
        PYPI_INDEX,
        "--dest",
        str(dest),
        spec,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, env=_pip_env(), check=False)
    found = sorted(p for p in dest.glob("*.whl") if p.name.lower().startswith(stem))
    if proc.returncode or not found:
        raise PyPIUnreachable(f"cannot download {spec} from {PYPI_INDEX}: {proc.stderr[-500:]}")
    return found[0]


def _pyc_header(source: bytes) -> bytes:
    # An unchecked hash-based pyc (PEP 552): valid whatever the mtime of the linked source.
    return (
        importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little") + importlib.util.source_hash(source)
    )


def wheel_files(wheel: Path, site: str) -> dict[str, bytes]:
    """Package-relative files of *wheel* as conda-forge lays them out (site-packages *site*)."""
    files: dict[str, bytes] = {}
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name, data = info.filename, archive.read(info)
            first, _, rest = name.partition("/")
            if first.endswith(".data"):
                kind, _, inner = rest.partition("/")
                target = {
                    "scripts": f"bin/{inner}",
                    "data": inner,
                    "headers": f"include/{inner}",
                }.get(kind, f"{site}/{inner}")
            else:
                target = f"{site}/{name}"
            files[target] = data
            if target.endswith(".py") and target.startswith(f"{site}/"):
                code = _code_bytes(data, target)
                if code is not None:
                    head, _, module = target.rpartition("/")
                    files[f"{head}/__pycache__/{module[:-3]}.{tag}.pyc"] = _pyc_header(data) + code
    info_dir = next(p.rsplit("/", 1)[0] for p in files if p.endswith(".dist-info/METADATA"))
    # conda-forge builds with `pip install`: INSTALLER exists and RECORD lists it
    files[f"{info_dir}/INSTALLER"] = b"conda\n"
    record = files[f"{info_dir}/RECORD"].decode()
    files[f"{info_dir}/RECORD"] = (
        record.rstrip("\n") + f"\n{info_dir.split('/')[-1]}/INSTALLER,,\n"
    ).encode()
    return files


def conda_package_from_wheel(
    wheel: Path, channel: Path, name: str, version: str, depends: Sequence[str]
) -> Path:
    """A ``.conda`` package of *wheel* in *channel* (built once, then copied from the cache)."""
    host = host_python()
    key = hashlib.sha256(Path(__file__).read_bytes())
    key.update(f"{wheel.name}|{host.version}|{'|'.join(depends)}".encode())
    cache = cache_root() / "pypi-conda" / key.hexdigest()[:16]
    built = sorted(cache.glob("*/*.conda"))
    if not built:
        scratch = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        shutil.rmtree(scratch, ignore_errors=True)
        files = wheel_files(wheel, host.site_packages_rel)
        major, minor = host.short_version.split(".")
        python = f"python >={host.short_version},<{major}.{int(minor) + 1}.0a0"
        make_conda_package(
            scratch, name, version, "pypi_0", 0, [*depends, python], files, subdir=host.subdir
        )
        shutil.rmtree(cache, ignore_errors=True)
        scratch.replace(cache)
        built = sorted(cache.glob("*/*.conda"))
    (package,) = built
    target = channel / package.parent.name / package.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package, target)
    return target

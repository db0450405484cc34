"""Conda packages laid out as conda-pypi's wheel extractor lays them out.

conda-pypi (``conda install`` of PyPI packages through conda) turns a wheel into a ``noarch:
python`` conda package and lets conda link it, so the env gets a conda record for it. Its
extractor (``conda_pypi/package_extractors/whl.py``, through the ``installer`` library) writes:
the wheel's files under ``site-packages/``; a dist-info whose ``INSTALLER`` says
``conda-via-whl``; a RECORD that also lists the console scripts as ``../../../bin/<name>,,``
(conda makes them from ``info/link.json``'s entry points); no byte code (conda compiles it at
link time); build string ``pypi_0``. The record conda writes then names the channel ``pypi``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.packages import make_conda_package
from tests.support.wheels import (
    _WHEEL_TEXT,
    FileContent,
    _as_bytes,
    _metadata_text,
    _record_text,
    normalize_dist_name,
)

INSTALLER = "conda-via-whl"
BUILD = "pypi_0"


def conda_pypi_package(
    channel: Path,
    name: str,
    version: str,
    modules: Mapping[str, FileContent],
    *,
    scripts: Sequence[str] = (),
    requires_dist: Sequence[str] = (),
) -> Path:
    """A conda-pypi style ``.conda`` of project *name* in *channel*.

    Args:
        channel: The channel directory.
        name: The PyPI project name (conda-pypi keeps it as the package name).
        version: Its version.
        modules: Files relative to site-packages.
        scripts: ``"cmd = module:func"`` console scripts.
        requires_dist: ``Requires-Dist`` entries.
    """
    files = {path: _as_bytes(data) for path, data in modules.items()}
    info = f"{normalize_dist_name(name)}-{version}.dist-info"
    files[f"{info}/METADATA"] = _metadata_text(name, version, requires_dist).encode()
    files[f"{info}/WHEEL"] = _WHEEL_TEXT
    files[f"{info}/INSTALLER"] = f"{INSTALLER}\n".encode()
    record = _record_text(files, f"{info}/RECORD")
    record += "".join(f"../../../bin/{script.split('=')[0].strip()},,\n" for script in scripts)
    files[f"{info}/RECORD"] = record.encode()
    return make_conda_package(
        channel,
        name,
        version,
        BUILD,
        0,
        ["python"],
        {f"site-packages/{path}": data for path, data in files.items()},
        noarch_python=True,
        entry_points=scripts,
    )


def as_conda_pypi_record(prefix: Path, name: str) -> Path:
    """Make *name*'s record in *prefix* name the ``pypi`` channel, as conda-pypi's do."""
    (record,) = (prefix / "conda-meta").glob(f"{name}-*-{BUILD}.json")
    data = json.loads(record.read_text())
    data["channel"] = "pypi"
    record.write_text(json.dumps(data, indent=2, sort_keys=True))
    return record

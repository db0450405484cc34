"""Shared fixtures: real conda environments built offline (see tests/support/envkit.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conda_pipguard.core.diagnosis import Diagnosis, diagnose
from tests.support.envkit import EnvKit

#: conda is the host and not on PyPI: its integration tests run only where it is importable.
HAVE_CONDA = importlib.util.find_spec("conda") is not None
if HAVE_CONDA:
    pytest_plugins = ("conda.testing.fixtures",)

    @pytest.fixture(scope="session", autouse=True)
    def PYTHONPATH():
        """Keep conda's session-wide PYTHONPATH out of the env interpreters the tests run."""
        yield


NUMPY_1 = {
    "numpy/__init__.py": "__version__ = '1.26.4'\n",
    "numpy/linalg.py": "BLAS = 'openblas'\n",
    "numpy/_old_api.py": "removed_in_2 = True\n",
    "numpy/_multiarray.so": b"\x7fELF conda-forge build linked against conda's openblas",
}
NUMPY_2 = {
    "numpy/__init__.py": "__version__ = '2.1.0'\n",
    "numpy/linalg.py": "BLAS = 'openblas'\n",  # byte-identical to conda's copy
    "numpy/_multiarray.so": b"\x7fELF PyPI manylinux build with its own bundled openblas",
    "numpy/_new_api.py": "added_in_2 = True\n",
}


@pytest.fixture
def kit(tmp_path: Path) -> EnvKit:
    """A factory of real environments under this test's temporary directory."""
    return EnvKit(tmp_path)


@pytest.fixture
def scan(kit: EnvKit):
    """Diagnose a prefix with HOME pointing at the kit's empty home (no real user site)."""

    def run(prefix: Path, **kwargs) -> Diagnosis:
        return diagnose(prefix, environ={"HOME": str(kit.home), "PATH": ""}, **kwargs)

    return run


@pytest.fixture
def numpy_channel(kit: EnvKit) -> EnvKit:
    """The user story's channel: numpy 1.26.4 and scipy (needs numpy <2), plus numpy 2.1 wheel."""
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.add_package(
        "scipy",
        "1.11.4",
        modules={"scipy/__init__.py": "import numpy\n"},
        depends=["numpy >=1.23.5,<2.0a0"],
        requires_dist=["numpy<2,>=1.23.5"],
        noarch=False,
    )
    kit.wheel("numpy", "2.1.0", NUMPY_2)
    return kit


def kinds(diagnosis: Diagnosis) -> list[tuple[str, str | None]]:
    """(kind, distribution or conda package) of every finding, for compact assertions."""
    return [(f.kind, f.distribution or f.conda_package) for f in diagnosis.analysis.findings]

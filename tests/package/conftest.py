"""The package as shipped: the recipe built with rattler-build, installed and run by real conda.

Once per session: a local channel (the kit's Python and pip, the build tools and conda with its
dependencies converted from their PyPI wheels, conda's own wheel from ``../shared/conda``),
the recipe built against it (its tests run in that build), then a base-like environment made
from the channel that runs conda 26.7.1 from conda packages with the built conda-pipguard in
it. Every conda command of these tests is that environment's ``bin/python -m conda``, offline,
classic solver, with its own package cache and envs directory.

These tests need ``../shared/conda`` (conda is not on PyPI) and py-rattler-build (the ``test``
extra); without either they skip, saying why. With ``PIPGUARD_REQUIRE_CONDA`` set (CI) and
``../shared/conda`` present, a missing rattler-build fails them instead.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import NUMPY_1, NUMPY_2
from tests.support.envkit import (
    _link_or_copy,
    cached_base_packages,
    index_channel,
    install,
    isolated_env,
    make_python_conda_package,
    make_wheel,
    require_host,
)
from tests.support.running import offline_conda_settings
from tests.support.wheel_channel import Pin, PyPIUnreachable, add_wheels, resolve

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipe" / "recipe.yaml"
SHARED_CONDA = ROOT.parent / "shared" / "conda"
#: The conda the base-like environment runs (its wheel is in ../shared/conda).
CONDA_VERSION = "26.7.1"
REQUIRE_VAR = "PIPGUARD_REQUIRE_CONDA"
#: Every subprocess of these tests ends within this many seconds.
TIMEOUT = 600


def project_field(key: str) -> str:
    """A string field of ``pyproject.toml``'s ``[project]`` table (no tomllib on Python 3.10)."""
    text = (ROOT / "pyproject.toml").read_text()
    table = text.split("\n[project]\n", 1)[1].split("\n[", 1)[0]
    found = re.findall(rf'(?m)^{re.escape(key)} = "([^"]*)"$', table)
    assert len(found) == 1, f"pyproject.toml's [project] has no single {key} string"
    return found[0]


def project_version() -> str:
    """``pyproject.toml``'s version: the one the package must carry."""
    return project_field("version")


def _needs() -> None:
    """Skip (or, in CI, fail) when the package cannot be built here."""
    wheel = SHARED_CONDA / f"conda-{CONDA_VERSION}-py3-none-any.whl"
    if not wheel.is_file():
        pytest.skip(
            f"no ../shared/conda/{wheel.name} beside the checkout (conda is not on PyPI): the "
            "package tests build conda's package from it"
        )
    if importlib.util.find_spec("rattler_build") is None:
        reason = (
            "py-rattler-build is not installed: it comes with the test extra "
            "(python -m pip install -e '.[test]')"
        )
        if os.environ.get(REQUIRE_VAR):
            pytest.fail(f"{REQUIRE_VAR} is set but {reason}")
        pytest.skip(reason)


def channel_requirements() -> list[str]:
    """What the channel needs from PyPI: conda's requirements, hatchling, packaging, pluggy."""
    text = (SHARED_CONDA / f"requirements-{CONDA_VERSION}.txt").read_text()
    conda = [line.strip() for line in text.splitlines() if line.strip()[:1] not in ("", "#")]
    return [*conda, "hatchling", "packaging", "pluggy"]


@pytest.fixture(scope="session")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local channel: the kit's python and pip, PyPI's wheels and conda, converted.

    The conversions are cached across sessions (the kit's cache); the channel is this session's.
    """
    _needs()
    require_host()
    channel = tmp_path_factory.mktemp("package") / "channel"
    for package in cached_base_packages():
        _link_or_copy(package, channel / package.parent.name / package.name)
    conda_wheel = SHARED_CONDA / f"conda-{CONDA_VERSION}-py3-none-any.whl"
    try:
        pins = [*resolve(channel_requirements()), Pin.of_wheel(conda_wheel)]
        add_wheels(
            channel,
            pins,
            local={"conda": conda_wheel},
            # conda's own package writes bin/conda for conda.cli.main (`conda init --install`);
            # the wheel's console script is conda's pip stub, which refuses most commands
            entry_points={"conda": ["conda = conda.cli.main:main"]},
        )
    except PyPIUnreachable as err:
        pytest.skip(f"PyPI cannot be reached: {err}")
    index_channel(channel)
    return channel


@pytest.fixture(scope="session")
def built(channel: Path, tmp_path_factory: pytest.TempPathFactory):
    """conda-pipguard built from ``recipe/`` against the channel (its tests run), then added.

    The channel holds one Python, the one running the tests: ``python_min`` (3.10 in
    ``recipe/variants.yaml``, as conda-forge pins it) is set to that Python's version here.
    """
    from tests.support.recipe_build import build_recipe

    host = require_host()
    output = tmp_path_factory.mktemp("rattler-build-output")
    result = build_recipe(
        RECIPE, channel, output, variant_overrides={"python_min": host.short_version}
    )
    shutil.copy2(result.package, channel / "noarch" / result.package.name)
    index_channel(channel)
    return result


@dataclasses.dataclass(frozen=True)
class CondaRun:
    """The base-like environment that runs conda from conda packages, and how to call it.

    Attributes:
        base: Its prefix (python, conda 26.7.1, conda-pipguard, from the local channel).
        root: The session's directory for it (package cache, envs, HOME).
        channel: The local channel.
        environ: The environment of every command: isolated from the machine's pip and
            conda configuration, offline, classic solver, its own package cache and envs.
    """

    base: Path
    root: Path
    channel: Path
    environ: dict[str, str]

    def run(self, *argv: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run *argv* in :attr:`environ`; with *check*, fail the test when it fails.

        The working directory is :attr:`root`, never the checkout: ``python -c`` would import
        ``conda_pipguard`` from there instead of the installed package.
        """
        command = [str(arg) for arg in argv]
        proc = subprocess.run(
            command,
            cwd=self.root,
            capture_output=True,
            text=True,
            env=self.environ,
            check=False,
            timeout=TIMEOUT,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"{' '.join(command)} exited {proc.returncode}\n"
                f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
            )
        return proc

    def conda(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``<base>/bin/python -m conda ARGS``."""
        return self.run(self.base / "bin" / "python", "-m", "conda", *args, check=check)

    def create(self, name: str, specs: Sequence[str]) -> Path:
        """``conda create -y -p <root>/envs/NAME SPECS`` from the local channel."""
        prefix = self.root / "envs" / name
        self.conda("create", "-y", "-p", prefix, *specs)
        return prefix

    @property
    def wheels(self) -> Path:
        """Wheels pip may install from (numpy 2.1.0 of the user story)."""
        return self.root / "wheels"

    def pip(self, prefix: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
        """``<prefix>/bin/python -m pip ARGS``, offline, from :attr:`wheels`."""
        python = prefix / "bin" / "python"
        return self.run(python, "-m", "pip", *args, "--no-index", "--find-links", self.wheels)

    def damaged(self, name: str) -> Path:
        """The user story: conda's numpy and scipy, then ``pip install --force-reinstall numpy``."""
        prefix = self.create(name, ["python", "pip", "numpy", "scipy"])
        self.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
        return prefix


@pytest.fixture(scope="session")
def conda_run(built, channel: Path, tmp_path_factory: pytest.TempPathFactory) -> CondaRun:
    """The base-like env (python, conda, the built conda-pipguard) and its command runner."""
    root = tmp_path_factory.mktemp("conda-run")
    # The user story's packages (tests/conftest.py): conda's numpy 1.26.4, scipy needing numpy <2
    make_python_conda_package(channel, "numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    make_python_conda_package(
        channel,
        "scipy",
        "1.11.4",
        modules={"scipy/__init__.py": "import numpy\n"},
        depends=["numpy >=1.23.5,<2.0a0"],
        requires_dist=["numpy<2,>=1.23.5"],
        noarch=False,
    )
    make_python_conda_package(channel, "tinyweb", "1.0", modules={"tinyweb/__init__.py": ""})
    make_wheel(root / "wheels", "numpy", "2.1.0", NUMPY_2)
    index_channel(channel)
    base = root / "base"
    install(base, channel, ["python", f"conda =={CONDA_VERSION}", "conda-pipguard"])
    (root / "home").mkdir()
    environ = isolated_env(root / "home")
    environ.update(offline_conda_settings(str(root / "pkgs"), channel.resolve().as_uri()))
    environ["CONDA_ENVS_DIRS"] = str(root / "envs")
    # conda's system .condarc locations (/etc/conda, ...) hold nothing in a test: no CONDARC
    environ.pop("CONDARC", None)
    return CondaRun(base=base, root=root, channel=channel, environ=environ)


def built_files(package: Path, scratch: Path) -> dict[str, str]:
    """The files of a ``.conda`` package, path to text (binary files as ``''``)."""
    from conda_package_handling import api

    api.extract(str(package), dest_dir=str(scratch / "extracted"))
    files = {}
    for path in sorted((scratch / "extracted").rglob("*")):
        if path.is_file():
            rel = path.relative_to(scratch / "extracted").as_posix()
            try:
                files[rel] = path.read_text()
            except UnicodeDecodeError:
                files[rel] = ""
    return files

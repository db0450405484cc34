"""Shared fixtures: real conda environments built offline (see tests/support/envkit.py)."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conda_pipguard.core.diagnosis import Diagnosis, diagnose
from conda_pipguard.core.locks import pipconfig
from conda_pipguard.core.pipcheck import pipenv
from tests.support import templates
from tests.support.envkit import (
    CACHE_ENV_VAR,
    CONFIG_VAR_PREFIXES,
    GLOBAL_CONFIG_DIR,
    EnvKit,
    cache_root,
    host_python,
    pip_command,
)

#: ``major.minor`` of the Python in every test env (a copy of the interpreter running the tests).
PY = f"{sys.version_info.major}.{sys.version_info.minor}"
#: Another minor version, for a Python the env no longer has.
OLD_PY = f"{sys.version_info.major}.{sys.version_info.minor - 1}"

#: The core's own rule for where pip's global configuration lives (the session replaces it).
MACHINE_GLOBAL_CONFIG_DIRS = pipconfig.global_config_dirs

#: conda is the host and not on PyPI: its integration tests run only where it is importable.
HAVE_CONDA = importlib.util.find_spec("conda") is not None
#: Set by CI where conda must be importable: a missing conda is then an error, not a skip.
REQUIRE_CONDA_VAR = "PIPGUARD_REQUIRE_CONDA"
NO_CONDA_REASON = (
    "conda is not importable here (it is not on PyPI): install it from its wheels, see the "
    "README's 'Test it'"
)
#: Fixtures that need conda; a test using any of them is a conda integration test (``-m conda``).
CONDA_FIXTURES = frozenset({"conda_cli", "conda_envs", "plugin_manager", "story", "conda_settings"})

if HAVE_CONDA:
    pytest_plugins = ("conda.testing.fixtures",)

    @pytest.fixture(scope="session", autouse=True)
    def PYTHONPATH():
        """Keep conda's session-wide PYTHONPATH out of the env interpreters the tests run."""
        yield


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(REQUIRE_CONDA_VAR) and not HAVE_CONDA:
        raise pytest.UsageError(f"{REQUIRE_CONDA_VAR} is set but {NO_CONDA_REASON}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark conda integration tests ``conda``; skip them, saying why, where conda is absent."""
    skip = pytest.mark.skip(reason=NO_CONDA_REASON)
    for item in items:
        if CONDA_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.conda)
        if item.get_closest_marker("conda") and not HAVE_CONDA:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def hermetic_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No pip, uv or conda configuration of this machine or its user reaches any test.

    For the whole session: every ``PIP_*``, ``UV_*``, ``CONDA_*``, ``MAMBA_*`` and ``PIXI_*``
    variable is dropped, ``HOME``/``XDG_CONFIG_HOME`` point into an empty directory (no
    ``~/.config/pip``, ``~/.condarc``, ``~/.conda/environments.txt``, user site; also for conda
    run as root, see :func:`_conda_user_files_in`) and ``XDG_CONFIG_DIRS`` to an empty stand-in
    for ``/etc/xdg`` (no ``/etc/xdg/pip/pip.conf``). pip always reads ``/etc/pip.conf`` as well:
    the kit runs pip through ``envkit.PIP_LAUNCHER``, which leaves it out, the core's reader of
    pip's configuration does the same in this process, so does the pip that ``conda pipguard pip
    install`` runs (``pipenv.pip_launcher``), and the conda tests leave conda's system
    ``.condarc`` paths out (``tests/guard/conftest.py``).

    Yields:
        The session's empty HOME.
    """
    cache = cache_root()  # keeps the package cache where it was before HOME moves
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    home = tmp_path_factory.mktemp("hermetic-home")
    (home / GLOBAL_CONFIG_DIR).mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith(CONFIG_VAR_PREFIXES) or key in ("PYTHONUSERBASE", "PYTHONSTARTUP"):
                patch.delenv(key)
        patch.setenv("HOME", str(home))
        patch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        patch.setenv("XDG_CONFIG_DIRS", str(home / GLOBAL_CONFIG_DIR))
        patch.setenv(CACHE_ENV_VAR, str(cache))
        patch.setenv("PYENV_ROOT", pyenv_root)
        # In this process too, pip's global configuration is read from XDG_CONFIG_DIRS only, as
        # the kit's pip launcher reads it: not from /etc/pip.conf.
        patch.setattr(pipconfig, "global_config_dirs", _xdg_config_dirs_only)
        _conda_user_files_in(home, patch)
        # And the pip that `conda pipguard pip install` runs reads it as the kit's pip does.
        patch.setattr(pipenv, "pip_launcher", pip_command)
        yield home


def _conda_user_files_in(home: Path, patch: pytest.MonkeyPatch) -> None:
    """conda's per-user files in the session's *home* too, also those it found before.

    conda computed the user ``.condarc`` that ``conda config`` writes when it was imported (with
    this conftest, before the session began), and run by an administrator (root) it reads (and
    rewrites) ``~/.conda/environments.txt`` in the home directory of every user of the machine's
    user database, whatever ``HOME`` says: the user database this session sees has one user,
    this one, whose home is the session's.
    """
    if os.name == "posix":
        import pwd

        me = pwd.getpwuid(os.getuid())
        entry = pwd.struct_passwd((*me[:5], str(home), me.pw_shell))
        patch.setattr(pwd, "getpwall", lambda: [entry])
    if HAVE_CONDA:
        from conda.base import context as conda_context

        patch.setattr(conda_context, "user_rc_path", str(home / ".condarc"))


#: ``0`` builds every env in place instead of copying the session's template of its kind.
TEMPLATES_VAR = "PIPGUARD_TEST_TEMPLATES"


@pytest.fixture(scope="session", autouse=True)
def env_templates(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[templates.TemplateStore | None]:
    """Build each kind of env once per session, copy it per test (``tests/support/templates.py``).

    Yields:
        The session's store (``None`` when ``PIPGUARD_TEST_TEMPLATES=0``).
    """
    if os.environ.get(TEMPLATES_VAR) == "0":
        yield None
        return
    store = templates.TemplateStore(tmp_path_factory.mktemp("env-templates"))
    with templates.using(store):
        yield store
    _SUMMARY.append(store.summary())
    store.close()


_SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:
    for line in _SUMMARY:
        terminalreporter.write_line(line)


def _xdg_config_dirs_only(environ) -> list[Path]:
    dirs = environ.get("XDG_CONFIG_DIRS", "")
    return [Path(d) / "pip" for d in dirs.split(os.pathsep) if d]


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
    return add_story_packages(kit)


def add_story_packages(kit: EnvKit) -> EnvKit:
    """Put the user story's packages in *kit*'s channel and wheels (see ``numpy_channel``)."""
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


def pip_version() -> str:
    """Version of the pip in the kit's envs: the one bundled with the Python running the tests."""
    return host_python().pip_wheel.name.split("-")[1]


def kinds(diagnosis: Diagnosis) -> list[tuple[str, str | None]]:
    """(kind, distribution or conda package) of every finding, for compact assertions."""
    return [(f.kind, f.distribution or f.conda_package) for f in diagnosis.analysis.findings]

"""conda integration fixtures: conda's own ``conda.testing`` fixtures on a local offline channel.

Everything here needs conda importable; the test modules skip with a reason when it is not.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import templates
from tests.support.envkit import EnvKit, index_channel, python_files
from tests.support.running import offline_conda_settings

#: Marks a conda integration test: ``tests/conftest.py`` skips it, saying why, without conda.
requires_conda = pytest.mark.conda


def user_search_path() -> tuple[str, ...]:
    """conda's ``.condarc`` search path without the machine-wide files (``/etc/conda``, ...).

    What remains (``$CONDA_ROOT``, ``~``, ``$XDG_CONFIG_HOME``, ``$CONDA_PREFIX``, ``$CONDARC``)
    points into the test's own directories (see ``hermetic_environment``).
    """
    from conda.base.constants import SEARCH_PATH

    return tuple(path for path in SEARCH_PATH if path.startswith(("$", "~")))


@pytest.fixture(autouse=True)
def conda_settings(tmp_path_factory, monkeypatch) -> Iterator[None]:
    """Offline, classic solver, no pip auto-dependency, no global env registry, own pkgs dir."""
    if importlib.util.find_spec("conda") is None:
        yield
        return
    from conda.base import context as context_module
    from conda.base.context import reset_context

    # One package cache per test: offline, conda < 25.7's classic solver adds every cached
    # package to the index, so a shared cache would mix other tests' channels into solves.
    pkgs = tmp_path_factory.mktemp("conda-pkgs")
    for name, value in {
        **offline_conda_settings(str(pkgs), channels=""),
        "REQUESTS_CA_BUNDLE": "",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    # conda's CLI re-reads its configuration from context.SEARCH_PATH on every command.
    search_path = user_search_path()
    monkeypatch.setattr(context_module, "SEARCH_PATH", search_path)
    reset_context(search_path)
    yield
    reset_context(search_path)
    # Extracted packages (a python each) are no help in reading a failure: don't keep them.
    shutil.rmtree(pkgs, ignore_errors=True)


@pytest.fixture
def plugin_manager(monkeypatch):
    """conda's built-in plugins plus ours, as the plugin manager conda uses in this test.

    conda does not ship this fixture in ``conda.testing``; this is the same pattern as conda's
    own tests/conftest.py, loading our real ``plugin`` module (no entry point needed).
    """
    from conda.base.context import reset_context
    from conda.plugins import manager
    from conda.plugins.hookspec import CondaSpecs

    from conda_pipguard import plugin

    builtin = manager.get_plugin_manager()
    pm = manager.CondaPluginManager()
    pm.add_hookspecs(CondaSpecs)
    for name, module in builtin.list_name_plugin():
        if name.startswith("conda.plugins."):
            pm.register(module, name=name)
    pm.register(plugin, name="conda-pipguard")
    monkeypatch.setattr(manager, "get_plugin_manager", lambda: pm)
    reset_context()
    yield pm
    reset_context()


class CondaEnvs:
    """Create and change environments with the real ``conda`` CLI (in-process ``conda_cli``)."""

    def __init__(self, kit: EnvKit, conda_cli, path_factory) -> None:
        self.kit = kit
        self.cli = conda_cli
        self.path_factory = path_factory

    def channel_args(self) -> list[str]:
        """Only the kit's local channel."""
        self.kit.index()
        return ["--override-channels", "-c", self.kit.channel_url]

    def create(self, *specs: str, prefix: Path | None = None) -> Path:
        """``conda create -p PREFIX SPECS -y``.

        Each kind (specs, channel content, conda and its settings) is created by conda once
        per session and copied here (``tests/support/templates.py``); the copy names this
        test's prefix, channel and package cache, which stays empty.
        """
        prefix = prefix or self.path_factory()
        self.kit.index()  # as conda create on the test's channel leaves it
        store = templates.active()
        if store is not None:
            template = store.template(
                self._kind(specs), self.kit.channel, self._builder(specs), shared_roots=python_files
            )
            if template is not None:
                from conda.base.context import context

                places = {
                    "prefix": str(prefix),
                    "channel": str(self.kit.channel.resolve()),
                    "pkgs": context.pkgs_dirs[0],
                }
                store.copy(template, Path(prefix), places)
                return prefix
        _out, err, code = self.cli("create", "-p", prefix, *self.channel_args(), *specs, "-y")
        assert not code, err
        return prefix

    def _kind(self, specs: tuple[str, ...]) -> str:
        """What decides what ``conda create`` makes, besides the channel's packages."""
        from conda import __version__

        settings = sorted(
            (key, value)
            for key, value in os.environ.items()
            if key.startswith(templates.SETTING_PREFIXES) and key != "CONDA_PKGS_DIRS"
        )
        condarcs = [
            (str(path), path.read_text())
            for entry in user_search_path()
            for path in _condarc_files(entry)
        ]
        return templates.fingerprint(
            "conda create", specs, __version__, settings, condarcs, channel=self.kit.channel
        )

    def _builder(self, specs: tuple[str, ...]):
        def build(env: Path, channel: Path, work: Path) -> dict[str, object]:
            pkgs = work / "pkgs"
            index_channel(channel)
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("CONDA_PKGS_DIRS", str(pkgs))
                channel_args = ["--override-channels", "-c", channel.resolve().as_uri()]
                _out, err, code = self.cli("create", "-p", env, *channel_args, *specs, "-y")
            assert not code, err
            shutil.rmtree(pkgs)  # the copies name their own test's package cache
            return {"strings": {"pkgs": str(pkgs)}}

        return build

    def run(self, verb: str, prefix: Path, *args: str, raises=None):
        """``conda VERB -p PREFIX --override-channels -c CHANNEL ARGS``.

        With ``--dry-run`` conda ends in ``DryRunExit`` (exit code 0 under conda's exception
        handler, which ``conda_cli`` does not use): that comes back as code 0.
        """
        from conda.exceptions import DryRunExit

        channel = self.channel_args() if verb in ("install", "update", "create") else []
        if raises is None and "--dry-run" in args:
            out, err, _ = self.cli(verb, "-p", prefix, *channel, *args, raises=DryRunExit)
            return out, err, 0
        return self.cli(verb, "-p", prefix, *channel, *args, raises=raises)


@pytest.fixture
def conda_envs(kit, conda_cli, path_factory, plugin_manager) -> CondaEnvs:
    """Real conda on the kit's channel, with conda-pipguard loaded."""
    return CondaEnvs(kit, conda_cli, path_factory)


@pytest.fixture
def story(conda_envs, numpy_channel) -> Path:
    """Issue #2's env made by conda: python, pip, numpy 1.26.4 and scipy (numpy 2.1 wheel ready)."""
    return conda_envs.create("python", "pip", "numpy", "scipy")


def _condarc_files(entry: str) -> list[Path]:
    path = Path(os.path.expanduser(os.path.expandvars(entry)))
    if "$" in str(path):
        return []
    if entry.endswith("/"):
        return sorted(path.glob("*.yml")) + sorted(path.glob("*.yaml")) if path.is_dir() else []
    return [path] if path.is_file() else []

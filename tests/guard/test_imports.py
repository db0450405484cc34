"""What conda pays for the plugin on commands that never reach it (``conda config``, ``info``)."""

from __future__ import annotations

import subprocess
import sys

from tests.guard.conftest import requires_conda

pytestmark = requires_conda

#: What conda calls on every command: the plugin module and the hooks that build its parser and
#: settings and list its exporters and health checks.
_EVERY_COMMAND = """
import sys
import conda_pipguard.plugin as plugin
list(plugin.conda_subcommands())
list(plugin.conda_settings())
list(plugin.conda_environment_exporters())
print("\\n".join(sorted(m for m in sys.modules if m.startswith(("conda_pipguard", "packaging")))))
"""


def test_conda_commands_that_do_not_run_a_hook_import_nothing_heavy():
    out = subprocess.run(
        [sys.executable, "-I", "-c", _EVERY_COMMAND], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [m for m in out if m.startswith("packaging")], out
    assert not [m for m in out if m.startswith(("conda_pipguard.core", "conda_pipguard.cli"))], out


#: A mutating command's pre-command with ``pipguard_mode: off``: the hook runs, reads nothing.
_MODE_OFF = """
import sys
from conda.base.context import context
context.__init__()
assert context.plugins.pipguard_mode == "off"
from conda_pipguard.guard import hooks
hooks.pre_command("install")
print("\\n".join(sorted(m for m in sys.modules if m.startswith(("conda_pipguard", "packaging")))))
"""


def test_mode_off_imports_only_the_hooks_small_modules(tmp_path):
    environ = {"HOME": str(tmp_path), "CONDARC": str(tmp_path / ".condarc")}
    environ["CONDA_PLUGINS_PIPGUARD_MODE"] = "off"
    out = subprocess.run(
        [sys.executable, "-I", "-c", _MODE_OFF],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=environ,
    ).stdout.split()
    assert "conda_pipguard.guard.hooks" in out
    # not the core, and not the errors either: they are imported when something fails
    assert [m for m in out if m.startswith(("conda_pipguard.core", "packaging"))] == [], out
    assert "conda_pipguard.guard.errors" not in out

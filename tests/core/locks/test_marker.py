"""The hard lock (issue #3) on real environments, with the env's own Python, pip and uv.

Every environment is built by tests/support/envkit.py: real conda packages linked by py-rattler,
a real CPython copied into the prefix (not a venv, so PEP 668 applies) and pip 23.2.1.
"""

from __future__ import annotations

import configparser
import contextlib
import multiprocessing
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conda_pipguard.core.disk.activation import Activation, read_env_vars
from conda_pipguard.core.disk.environment import load_environment
from conda_pipguard.core.disk.python import PythonLayout
from conda_pipguard.core.errors import LockError
from conda_pipguard.core.locks.marker import (
    MARKER_NAME,
    bypasses,
    is_ours,
    marker_path,
    remove_marker,
    render,
    stale_markers,
    sync_hard_marker,
    write_marker,
)
from tests.conftest import OLD_PY
from tests.support.envkit import isolated_env

#: A minor version older still than ``OLD_PY``.
OLDER_PY = f"3.{int(OLD_PY.split('.')[1]) - 1}"

TARGET = "-n env"


@pytest.fixture
def env(kit):
    """A conda env with python and pip, and a pip-only wheel to try installing."""
    kit.wheel("tinydep", "1.0", {"tinydep.py": "VERSION = '1.0'\n"})
    return kit.create("env", ["python", "pip"], dialect="conda")


def layout_of(prefix: Path) -> PythonLayout:
    layout = load_environment(prefix, include_user_site=False).python
    assert layout is not None
    return layout


def marker_of(prefix: Path) -> Path:
    return prefix / marker_path(layout_of(prefix))


def uv_binary() -> str:
    """The uv executable, or skip: uv is optional (``pip install uv``)."""
    try:
        import uv  # type: ignore[import-not-found]

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return found
    pytest.skip("uv is not installed: pip install uv (it is on PyPI) to run the uv checks")


def run_uv(kit, prefix: Path, *args: str, env_extra=None) -> subprocess.CompletedProcess[str]:
    """``uv pip install --python <env python> ...`` offline, from the kit's wheels only."""
    env = {k: v for k, v in isolated_env(kit.home).items() if not k.startswith("UV_")}
    env.update({"UV_NO_CONFIG": "1", **(env_extra or {})})
    command = [uv_binary(), "pip", "install", "--python", str(prefix / "bin" / "python")]
    command += ["--offline", "--no-index", "--find-links", str(kit.wheels), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def installed(kit, prefix: Path, name: str) -> bool:
    probe = f"import importlib.metadata as m; m.version({name!r})"
    return kit.python(prefix, "-c", probe, check=False).returncode == 0


# -- where the marker goes ---------------------------------------------------------------------


def test_marker_path_is_the_stdlib_of_the_env_interpreter(kit, env):
    result = kit.python(env, "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))")
    stdlib = Path(result.stdout.strip())
    assert stdlib.is_dir()
    assert marker_of(env).parent == stdlib
    assert marker_path(layout_of(env)) == f"lib/python{kit.host.short_version}/{MARKER_NAME}"


def test_free_threaded_and_windows_layouts():
    assert marker_path(PythonLayout.build("3.13", free_threaded=True)) == (
        "lib/python3.13t/EXTERNALLY-MANAGED"
    )
    assert marker_path(PythonLayout.build("3.12", windows=True)) == "Lib/EXTERNALLY-MANAGED"


# -- what pip and uv do with it ----------------------------------------------------------------


def test_pip_refuses_a_marked_env_with_our_text_and_installs_after_unmark(kit, env):
    action = write_marker(env, layout_of(env), TARGET)
    assert (action.action, action.reason) == ("written", "pip now refuses to install here")

    refused = kit.pip(env, "install", "tinydep", check=False)
    assert refused.returncode != 0
    out = refused.stdout + refused.stderr
    assert "externally-managed-environment" in out
    assert "conda-pipguard locked this conda environment against pip" in out
    assert "Install with conda:  conda install -n env <package>" in out
    assert "conda pipguard pip -n env install <package>" in out
    assert "See what pip already changed:  conda pipguard status -n env" in out
    assert "Lift this lock:  conda pipguard unmark -n env" in out
    assert "#" not in out.split("╰─>")[1].split("note:")[0]  # no comment line leaked in
    assert not installed(kit, env, "tinydep")

    assert remove_marker(env, layout_of(env)).action == "removed"
    kit.pip(env, "install", "tinydep")
    assert installed(kit, env, "tinydep")


def test_uv_refuses_a_marked_env_and_installs_after_unmark(kit, env):
    uv_binary()
    write_marker(env, layout_of(env), TARGET)
    refused = run_uv(kit, env, "tinydep")
    assert refused.returncode != 0
    assert "externally managed" in refused.stderr
    assert "Lift this lock:  conda pipguard unmark -n env" in refused.stderr
    assert not installed(kit, env, "tinydep")

    remove_marker(env, layout_of(env))
    done = run_uv(kit, env, "tinydep")
    assert done.returncode == 0, done.stderr
    assert installed(kit, env, "tinydep")


def test_marker_text_is_what_pep_668_asks_for():
    text = render("-p '/opt/my envs/x'")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    message = parser.get("externally-managed", "Error")
    assert message.splitlines()[0].startswith("conda-pipguard locked this conda environment")
    assert "conda pipguard unmark -p '/opt/my envs/x'" in message
    assert is_ours(text)
    assert not is_ours(text.split("\n", 1)[1])


def test_what_the_hard_lock_does_not_stop(kit, env, tmp_path):
    """The README's list, checked: only installs into the env's own site-packages are refused."""
    write_marker(env, layout_of(env), TARGET)
    assert kit.pip(env, "install", "--user", "tinydep", check=False).returncode != 0
    assert kit.pip(env, "uninstall", "-y", "pip", check=False).returncode != 0

    kit.pip(env, "install", "--target", tmp_path / "target", "tinydep")
    assert (tmp_path / "target" / "tinydep.py").is_file()
    kit.pip(env, "install", "--prefix", tmp_path / "prefix", "tinydep")
    assert list((tmp_path / "prefix").rglob("tinydep.py"))
    kit.pip(env, "install", "--root", tmp_path / "root", "tinydep")
    assert list((tmp_path / "root").rglob("tinydep.py"))
    venv = tmp_path / "venv"
    kit.python(env, "-m", "venv", "--without-pip", "--system-site-packages", venv)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "tinydep"],
        env=isolated_env(kit.home, find_links=kit.wheels),
        check=True,
        capture_output=True,
    )
    assert list(venv.rglob("tinydep.py"))
    assert not installed(kit, env, "tinydep")

    kit.pip(env, "install", "--break-system-packages", "tinydep")
    assert installed(kit, env, "tinydep")


# -- idempotence, foreign markers, symlinks -----------------------------------------------------


def test_mark_is_idempotent_and_dry_run_writes_nothing(env):
    layout = layout_of(env)
    assert write_marker(env, layout, TARGET, dry_run=True).action == "written"
    assert not marker_of(env).exists()
    assert write_marker(env, layout, TARGET).action == "written"
    assert write_marker(env, layout, TARGET).action == "unchanged"
    # the same lock under another name for the env: the message is brought up to date
    updated = write_marker(env, layout, "-p /elsewhere")
    assert (updated.action, updated.reason) == ("written", "updated the message")
    assert "conda pipguard unmark -p /elsewhere" in marker_of(env).read_text()
    assert remove_marker(env, layout, dry_run=True).action == "removed"
    assert marker_of(env).exists()
    assert remove_marker(env, layout).action == "removed"
    assert remove_marker(env, layout).action == "unchanged"


def test_foreign_marker_is_kept_by_mark_and_unmark(env, scan):
    path = marker_of(env)
    foreign = "[externally-managed]\nError=Managed by the site admins.\n"
    path.write_text(foreign)
    layout = layout_of(env)

    mark = write_marker(env, layout, TARGET)
    assert mark.action == "skipped"
    assert mark.reason.startswith("foreign")
    unmark = remove_marker(env, layout)
    assert unmark.action == "skipped"
    assert "--force" in unmark.reason
    assert path.read_text() == foreign
    assert scan(env).marker.state == "foreign"

    assert remove_marker(env, layout, force=True).action == "removed"
    assert not path.exists()


def test_marker_a_conda_package_owns_is_never_removed(kit, scan):
    stdlib = f"lib/python{kit.host.short_version}"
    shipped = "[externally-managed]\nError=This env is managed by conda: use conda install.\n"
    kit.add_conda_package(
        "conda-managed-env", "1.0", depends=["python"], files={f"{stdlib}/{MARKER_NAME}": shipped}
    )
    prefix = kit.create("env", ["python", "pip", "conda-managed-env"], dialect="conda")
    layout = layout_of(prefix)

    assert write_marker(prefix, layout, TARGET).action == "skipped"
    forced = remove_marker(prefix, layout, records=load_environment(prefix).records, force=True)
    assert forced.action == "skipped"
    assert "conda package conda-managed-env owns it" in forced.reason
    assert marker_of(prefix).read_text() == shipped
    status = scan(prefix).marker
    assert (status.state, status.owner) == ("foreign", "conda-managed-env")


def test_a_symlink_at_the_marker_path_is_never_followed(env, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours\n")
    path = marker_of(env)
    path.symlink_to(outside)
    layout = layout_of(env)

    assert write_marker(env, layout, TARGET).action == "skipped"
    assert remove_marker(env, layout).action == "skipped"
    assert path.is_symlink()
    assert outside.read_text() == "not yours\n"

    path.unlink()
    path.symlink_to(tmp_path / "dangling")  # writing through it would create this file
    assert write_marker(env, layout, TARGET).action == "skipped"
    assert not (tmp_path / "dangling").exists()

    assert remove_marker(env, layout, force=True).action == "removed"  # the link, not a target
    assert not path.is_symlink()
    assert outside.read_text() == "not yours\n"


def test_a_stdlib_dir_resolving_outside_the_prefix_is_refused(tmp_path):
    prefix = tmp_path / "env"
    (prefix / "lib").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (prefix / "lib" / "python3.99").symlink_to(elsewhere)
    with pytest.raises(LockError, match="resolves outside"):
        write_marker(prefix, PythonLayout.build("3.99"), TARGET)
    assert list(elsewhere.iterdir()) == []


def test_env_without_the_stdlib_dir_is_skipped(tmp_path):
    prefix = tmp_path / "env"
    prefix.mkdir()
    action = write_marker(prefix, PythonLayout.build("3.12"), TARGET)
    assert (action.action, action.reason) == ("skipped", "lib/python3.12 does not exist")


# -- read-only environments ---------------------------------------------------------------------


@contextlib.contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """Make *directory* refuse new files: chmod, or as root (who ignores modes) chattr +i."""
    mode = directory.stat().st_mode & 0o7777
    directory.chmod(0o555)
    probe = directory / ".pipguard-probe"
    immutable = False
    try:
        try:
            probe.touch()
        except PermissionError:
            pass  # chmod is enough: not root
        else:
            probe.unlink()
            chattr = shutil.which("chattr")
            done = chattr and subprocess.run([chattr, "+i", directory], capture_output=True)
            if not done or done.returncode != 0:
                pytest.skip(
                    "running as root, where chmod does not stop writes, and chattr +i is not "
                    "available here to make the directory read-only"
                )
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", directory], check=True)
        directory.chmod(mode)


def test_read_only_stdlib_gives_one_clear_line_and_writes_nothing(env):
    layout = layout_of(env)
    stdlib = marker_of(env).parent
    before = sorted(p.name for p in stdlib.iterdir())
    with read_only(stdlib), pytest.raises(LockError) as caught:
        write_marker(env, layout, TARGET)
    message = str(caught.value)
    assert "\n" not in message
    assert str(marker_of(env)) in message
    assert "read-only for you" in message
    assert message.endswith("ask its owner to run: conda pipguard mark -n env")
    assert sorted(p.name for p in stdlib.iterdir()) == before  # no marker, no temporary file


def test_read_only_stdlib_on_unmark_keeps_the_marker(env):
    layout = layout_of(env)
    write_marker(env, layout, TARGET)
    expected = r"read-only for you.*ask its owner to run: conda pipguard unmark -n env$"
    with read_only(marker_of(env).parent), pytest.raises(LockError, match=expected):
        remove_marker(env, layout, target=TARGET)
    assert is_ours(marker_of(env).read_text())


# -- many processes at once ---------------------------------------------------------------------


def _hammer(prefix: str, version: str, worker: int, rounds: int) -> None:
    layout = PythonLayout.build(version)
    for step in range(rounds):
        if (worker + step) % 2:
            write_marker(Path(prefix), layout, TARGET)
        else:
            remove_marker(Path(prefix), layout)


def _watch(path: str, expected: str, stop, bad) -> None:
    while not stop.is_set():
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            continue
        if text != expected:
            bad.put(text)
            return


def test_concurrent_mark_and_unmark_leave_no_marker_or_a_complete_one(env):
    layout = layout_of(env)
    path = marker_of(env)
    ctx = multiprocessing.get_context("spawn")
    stop, bad = ctx.Event(), ctx.Queue()
    watcher = ctx.Process(target=_watch, args=(str(path), render(TARGET), stop, bad))
    watcher.start()
    workers = [
        ctx.Process(target=_hammer, args=(str(env), layout.version, number, 40))
        for number in range(20)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
    stop.set()
    watcher.join(30)
    assert [p.exitcode for p in workers] == [0] * 20
    assert watcher.exitcode == 0
    assert bad.empty(), f"a reader saw a partial marker: {bad.get()!r}"
    assert not path.exists() or path.read_text() == render(TARGET)
    assert not list(path.parent.glob(f".{MARKER_NAME}*")), "temporary files were left behind"


# -- bypasses -----------------------------------------------------------------------------------


def test_bypasses_that_really_let_pip_through(kit, env, scan):
    write_marker(env, layout_of(env), TARGET)
    home = {"HOME": str(kit.home), "PATH": ""}
    assert scan(env).marker.bypassed_by == ()

    # 1. the variable, in the shell
    assert bypasses(env, Activation({**home, "PIP_BREAK_SYSTEM_PACKAGES": "1"})) == [
        "PIP_BREAK_SYSTEM_PACKAGES"
    ]
    kit.pip(env, "install", "tinydep", env_extra={"PIP_BREAK_SYSTEM_PACKAGES": "1"})
    kit.pip(env, "uninstall", "-y", "--break-system-packages", "tinydep")

    # 2. the variables, in conda env config vars (applied on activation)
    state = env / "conda-meta" / "state"
    state.write_text('{"env_vars": {"UV_BREAK_SYSTEM_PACKAGES": "true"}}')
    assert scan(env).marker.bypassed_by == ("UV_BREAK_SYSTEM_PACKAGES (conda env config vars)",)
    state.write_text('{"env_vars": {"PIP_BREAK_SYSTEM_PACKAGES": "***unset***"}}')
    assert scan(env).marker.bypassed_by == ()
    state.unlink()

    # 3. pip configuration: the env's own pip.conf, then the user's
    site_conf = env / "pip.conf"
    site_conf.write_text("[install]\nbreak_system_packages = yes\n")
    assert scan(env).marker.bypassed_by == (f"pip configuration {site_conf}",)
    kit.pip(env, "install", "tinydep")
    # only for installs: `pip uninstall` reads [global] and [uninstall], not [install]
    assert kit.pip(env, "uninstall", "-y", "tinydep", check=False).returncode != 0
    kit.pip(env, "uninstall", "-y", "--break-system-packages", "tinydep")
    site_conf.write_text("[global]\nbreak-system-packages = false\n")
    assert scan(env).marker.bypassed_by == ()
    assert kit.pip(env, "install", "tinydep", check=False).returncode != 0
    site_conf.unlink()

    user_conf = kit.home / ".config" / "pip" / "pip.conf"
    user_conf.parent.mkdir(parents=True)
    user_conf.write_text("[global]\nbreak-system-packages = true\n")
    assert scan(env).marker.bypassed_by == (f"pip configuration {user_conf}",)
    kit.pip(env, "install", "tinydep")
    assert installed(kit, env, "tinydep")
    # PIP_CONFIG_FILE=/dev/null turns every configuration file off, in pip and here
    assert bypasses(env, Activation({**home, "PIP_CONFIG_FILE": os.devnull})) == []


def test_uv_bypass_through_conda_env_config_vars(kit, env):
    uv_binary()
    write_marker(env, layout_of(env), TARGET)
    (env / "conda-meta" / "state").write_text('{"env_vars": {"UV_BREAK_SYSTEM_PACKAGES": "1"}}')
    activated = read_env_vars(env)  # what `conda activate` exports
    done = run_uv(kit, env, "tinydep", env_extra=activated)
    assert done.returncode == 0, done.stderr
    assert bypasses(env, Activation({"HOME": str(kit.home)}, activated)) == [
        "UV_BREAK_SYSTEM_PACKAGES (conda env config vars)"
    ]


# -- kept right after conda transactions --------------------------------------------------------


def plant(prefix: Path, version: str, text: str) -> Path:
    path = prefix / "lib" / f"python{version}" / MARKER_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_sync_moves_our_marker_after_a_python_minor_upgrade(env):
    old = plant(env, OLD_PY, render(TARGET))  # the env's python was older when it was marked
    layout = layout_of(env)
    assert stale_markers(env, layout) == [f"lib/python{OLD_PY}/EXTERNALLY-MANAGED"]

    actions = sync_hard_marker(env, layout, TARGET)
    assert [(a.action, a.path) for a in actions] == [
        ("written", marker_path(layout)),
        ("removed", f"lib/python{OLD_PY}/EXTERNALLY-MANAGED"),
    ]
    assert actions[1].reason == f"the env's Python is now {layout.version}; moved to " + (
        marker_path(layout)
    )
    assert is_ours(marker_of(env).read_text())
    assert not old.parent.exists()  # it held nothing but our marker
    assert sync_hard_marker(env, layout, TARGET) == []


def test_sync_never_marks_an_unmarked_env_and_never_touches_foreign_markers(env):
    layout = layout_of(env)
    assert sync_hard_marker(env, layout, TARGET) == []
    assert not marker_of(env).exists()

    foreign_old = plant(env, OLDER_PY, "[externally-managed]\nError=someone else\n")
    assert sync_hard_marker(env, layout, TARGET) == []
    assert foreign_old.exists()

    marker_of(env).write_text("[externally-managed]\nError=the distro's\n")
    ours_old = plant(env, OLD_PY, render(TARGET))
    (ours_old.parent / "site-packages").mkdir()  # a directory with more than our marker
    actions = sync_hard_marker(env, layout, TARGET)
    assert [a.action for a in actions] == ["skipped", "removed"]
    assert marker_of(env).read_text() == "[externally-managed]\nError=the distro's\n"
    assert not ours_old.exists()
    assert ours_old.parent.is_dir()
    assert foreign_old.exists()


def test_sync_removes_our_marker_when_the_env_loses_python(kit, env):
    write_marker(env, layout_of(env), TARGET)
    path = marker_of(env)
    kit.remove(env, ["python"], dialect="conda")
    after = load_environment(env, include_user_site=False)
    assert after.python is None
    actions = sync_hard_marker(env, after.python, TARGET)
    assert [(a.action, a.reason) for a in actions] == [
        ("removed", "the env has no Python any more")
    ]
    assert not path.exists()

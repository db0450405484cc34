"""The soft lock (issue #6) on real environments: pins that real pip 23.2.1 (and uv) honour."""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from conda_pipguard.core.disk.activation import read_env_vars
from conda_pipguard.core.disk.environment import load_environment
from conda_pipguard.core.errors import LockError
from conda_pipguard.core.locks.inifile import (
    add_constraint,
    effective_constraints,
    remove_constraint,
)
from conda_pipguard.core.locks.pins import parse_pins, pins_for
from conda_pipguard.core.locks.pipconfig import PipConfigFiles
from conda_pipguard.core.locks.soft import (
    CONSTRAINTS,
    LEDGER,
    constraint_ref,
    is_soft_locked,
    refresh_soft_lock,
    write_soft_lock,
)
from conda_pipguard.core.locks.softremove import remove_soft_lock
from conda_pipguard.core.report import render_text
from tests.conftest import NUMPY_1, pip_version
from tests.core.locks.test_marker import read_only, run_uv, uv_binary
from tests.support.envkit import isolated_env, site_packages
from tests.support.pipconf import run_pip_planted

TARGET = "-n story"
#: What a soft lock just written holds, as mark --soft and status say it.
HELD = "pip (always: the env's pip.conf) and uv (only in the activated env: UV_CONSTRAINT)"


@pytest.fixture
def story(numpy_channel):
    """numpy 1.26.4 and scipy from conda; numpy 2.1.0 and PyPI-only wheels in find-links."""
    kit = numpy_channel
    kit.wheel("tinydep", "1.0", {"tinydep.py": "VERSION = '1.0'\n"})
    kit.wheel("tinydep", "0.5", {"tinydep.py": "VERSION = '0.5'\n"})
    kit.wheel("app", "1.0", {"app.py": "import numpy\n"}, requires_dist=["numpy>=1.20"])
    return kit.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")


def soft_mark(prefix: Path, **kwargs):
    """``mark --soft`` that reads no pip configuration of this machine or user, nor its shell."""
    kwargs.setdefault("environ", {})
    kwargs.setdefault("pip_files", PipConfigFiles.for_prefix(prefix, {}, global_dirs=[]))
    return write_soft_lock(prefix, TARGET, **kwargs)


def numpy_files(prefix: Path) -> dict[str, str]:
    site = site_packages(prefix)
    return {
        str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.glob("numpy*/**/*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def dist_version(kit, prefix: Path, name: str) -> str | None:
    probe = f"import importlib.metadata as m; print(m.version({name!r}))"
    result = kit.python(prefix, "-c", probe, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def tree(prefix: Path) -> dict[str, bytes]:
    """Every file of the env outside the stdlib, with its content (for "nothing changed")."""
    skip = f"lib/python{load_environment(prefix).python.version}/"
    return {
        p.relative_to(prefix).as_posix(): p.read_bytes()
        for p in sorted(prefix.rglob("*"))
        if p.is_file() and not p.relative_to(prefix).as_posix().startswith(skip)
    }


# -- what pip does under the soft lock ----------------------------------------------------------


def test_pip_cannot_change_conda_packages_but_may_add_others(numpy_channel, story, scan):
    kit, prefix = numpy_channel, story
    conda_files = numpy_files(prefix)
    action = soft_mark(prefix)
    assert (action.lock, action.action, action.path) == ("soft", "written", CONSTRAINTS)

    upgrade = kit.pip(prefix, "install", "-U", "numpy")
    assert "Requirement already satisfied: numpy" in upgrade.stdout
    refused = kit.pip(prefix, "install", "numpy==2.1.0", check=False)
    assert refused.returncode != 0
    assert "The user requested (constraint) numpy==1.26.4" in refused.stdout
    # a package needing numpy reuses conda's, even when asked to upgrade eagerly
    kit.pip(prefix, "install", "-U", "--upgrade-strategy", "eager", "app")
    assert dist_version(kit, prefix, "app") == "1.0"
    kit.pip(prefix, "install", "tinydep")
    assert dist_version(kit, prefix, "tinydep") == "1.0"

    assert numpy_files(prefix) == conda_files
    diagnosis = scan(prefix)
    assert sorted(f.kind for f in diagnosis.analysis.findings) == ["pip-only", "pip-only"]
    assert diagnosis.marker.state == "soft"

    # without the lock the same eager upgrade would have replaced conda's numpy
    remove_soft_lock(prefix)
    control = kit.pip(prefix, "install", "--dry-run", "-U", "--upgrade-strategy", "eager", "app")
    assert "numpy-2.1.0" in control.stdout


def test_uv_honours_the_variables_conda_activation_sets(numpy_channel, story):
    uv_binary()
    kit, prefix = numpy_channel, story
    conda_files = numpy_files(prefix)
    soft_mark(prefix)
    activated = read_env_vars(prefix)
    assert activated["UV_CONSTRAINT"] == constraint_ref(prefix)

    refused = run_uv(kit, prefix, "numpy==2.1.0", env_extra=activated)
    assert refused.returncode != 0
    assert "numpy==1.26.4" in refused.stderr
    upgrade = run_uv(kit, prefix, "-U", "numpy", env_extra=activated)
    assert upgrade.returncode == 0, upgrade.stderr
    added = run_uv(kit, prefix, "tinydep", env_extra=activated)
    assert added.returncode == 0, added.stderr
    assert numpy_files(prefix) == conda_files
    # uv does not read pip.conf: without activation, nothing holds it back
    unlocked = run_uv(kit, prefix, "--dry-run", "numpy==2.1.0")
    assert unlocked.returncode == 0, unlocked.stderr
    assert "numpy==2.1.0" in unlocked.stderr


def refused(kit, prefix: Path, installer: str, env_extra) -> bool:
    """Whether *installer* refuses to replace conda's numpy 1.26.4 for the pin's sake."""
    if installer == "pip":
        run = kit.pip(
            prefix, "install", "--dry-run", "numpy==2.1.0", env_extra=env_extra, check=False
        )
        said = run.stdout + run.stderr
        assert run.returncode == 0 or "(constraint) numpy==1.26.4" in said, said
        return run.returncode != 0
    run = run_uv(kit, prefix, "--dry-run", "numpy==2.1.0", env_extra=env_extra)
    assert run.returncode == 0 or "numpy==1.26.4" in run.stderr, run.stderr
    return run.returncode != 0


def check_claim(kit, prefix: Path, held: list[dict]) -> None:
    """Run real pip and uv, the env activated and not, and compare with what was claimed."""
    activated = read_env_vars(prefix)
    for claim in held:
        when = claim["when"]
        assert refused(kit, prefix, claim["installer"], activated) == (
            when in ("always", "activated")
        ), claim
        assert refused(kit, prefix, claim["installer"], None) == (
            when in ("always", "unactivated")
        ), claim


def constrain_elsewhere(prefix: Path) -> None:
    """Activation sets ``PIP_CONSTRAINT`` to a file of the user's and no ``UV_CONSTRAINT``."""
    state = prefix / "conda-meta" / "state"
    variables = json.loads(state.read_text())
    del variables["env_vars"]["UV_CONSTRAINT"]
    variables["env_vars"]["PIP_CONSTRAINT"] = str(prefix / "mine.txt")
    state.write_text(json.dumps(variables))
    (prefix / "mine.txt").write_text("")


def test_who_mark_soft_and_status_say_is_held_is_held(numpy_channel, story, scan):
    """pip always (it reads the env's pip.conf), uv only where activation set UV_CONSTRAINT."""
    uv_binary()
    kit, prefix = numpy_channel, story
    action = soft_mark(prefix)
    assert action.reason == f"{HELD} may add packages but not change the 3 conda packages"
    assert action.to_dict()["held"] == [
        {"installer": "pip", "when": "always", "through": "pip.conf"},
        {"installer": "uv", "when": "activated", "through": "UV_CONSTRAINT"},
    ]
    diagnosis = scan(prefix)
    assert diagnosis.to_dict()["marker"]["held"] == action.to_dict()["held"]
    assert (
        f"  soft lock: {HELD} may add packages but not change the 3 conda packages"
        in render_text(diagnosis).splitlines()
    )
    check_claim(kit, prefix, action.to_dict()["held"])

    # an activated PIP_CONSTRAINT naming another file, and no UV_CONSTRAINT: status says so
    constrain_elsewhere(prefix)
    diagnosis = scan(prefix)
    held = diagnosis.to_dict()["marker"]["held"]
    assert [(h["installer"], h["when"]) for h in held] == [
        ("pip", "unactivated"),
        ("uv", "never"),
    ]
    assert (
        "  soft lock: pip (only outside the activated env: the env's pip.conf) may add packages "
        "but not change the 3 conda packages; uv is not held"
    ) in render_text(diagnosis).splitlines()
    check_claim(kit, prefix, held)


def test_same_version_force_reinstall_from_pypi_passes_and_status_catches_it(
    numpy_channel, story, scan
):
    kit, prefix = numpy_channel, story
    kit.wheel("numpy", "1.26.4", {**NUMPY_1, "numpy/_multiarray.so": b"PyPI build of 1.26.4"})
    soft_mark(prefix)
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==1.26.4")

    diagnosis = scan(prefix)
    assert [(f.kind, f.distribution) for f in diagnosis.analysis.findings] == [
        ("shadowed", "numpy")
    ]
    assert diagnosis.to_dict()["marker"]["stale_pins"] == [
        "numpy==1.26.4 (not a conda-owned distribution any more)"
    ]


def test_hard_and_soft_together_hold_even_against_break_system_packages(numpy_channel, story):
    from conda_pipguard.core.locks.marker import write_marker

    kit, prefix = numpy_channel, story
    soft_mark(prefix)
    write_marker(prefix, load_environment(prefix).python, TARGET)
    assert kit.pip(prefix, "install", "tinydep", check=False).returncode != 0
    forced = kit.pip(prefix, "install", "--break-system-packages", "numpy==2.1.0", check=False)
    assert forced.returncode != 0
    assert "(constraint) numpy==1.26.4" in forced.stdout
    kit.pip(prefix, "install", "--break-system-packages", "--no-deps", "tinydep")


# -- the files ----------------------------------------------------------------------------------


def test_constraints_file_pins_what_conda_owns_with_a_header(story):
    soft_mark(story)
    text = (story / CONSTRAINTS).read_text()
    assert text.startswith("# conda-pipguard soft lock (`conda pipguard mark --soft -n story`).")
    assert 'use conda:  conda install -n story "<package>=<version>"' in text
    assert "Lift the soft lock:  conda pipguard unmark -n story" in text
    assert [p.requirement for p in parse_pins(text)] == [
        "numpy==1.26.4",
        f"pip=={pip_version()}",
        "scipy==1.11.4",
    ]
    assert is_soft_locked(story)


def test_unparsable_versions_get_arbitrary_equality():
    from conda_pipguard.core.disk.distributions import Distribution

    dists = [
        Distribution("odd", "2023b-custom", "x"),
        Distribution("Foo_Bar", "1.0", "y"),
        Distribution("foo-bar", "2.0", "z"),
    ]
    assert [p.requirement for p in pins_for(dists)] == ["Foo_Bar==1.0", "odd===2023b-custom"]


PIP_CONF = (
    b"# my pip settings\r\n[global]\r\ntimeout = 60\r\n\r\n[install]\r\n"
    b"constraint = {user}\r\nno-warn-script-location = true"  # no newline at the end
)
STATE = b'{\n  "env_vars": {"MY_VAR": "1", "PIP_CONSTRAINT": "{other}"},\n  "other_key": 3\n}'


def test_unmark_restores_pip_conf_and_env_vars_byte_for_byte(numpy_channel, story):
    kit, prefix = numpy_channel, story
    user = prefix / "user-constraints.txt"
    user.write_text("tinydep==0.5\n")
    other = prefix / "other-constraints.txt"
    other.write_text("")
    pip_conf = prefix / "pip.conf"
    original_conf = PIP_CONF.replace(b"{user}", str(user).encode())
    pip_conf.write_bytes(original_conf)
    pip_conf.chmod(0o640)
    state = prefix / "conda-meta" / "state"
    original_state = STATE.replace(b"{other}", str(other).encode())
    state.write_bytes(original_state)

    soft_mark(prefix)
    ours = constraint_ref(prefix)
    assert effective_constraints(pip_conf.read_text(), pip_conf) == [str(user), ours]
    variables = json.loads(state.read_text())
    assert variables["other_key"] == 3
    assert variables["env_vars"] == {
        "MY_VAR": "1",
        "PIP_CONSTRAINT": f"{other} {ours}",
        "UV_CONSTRAINT": ours,
    }
    # pip honours both the user's constraints and ours
    kit.pip(prefix, "install", "tinydep")
    assert dist_version(kit, prefix, "tinydep") == "0.5"
    assert kit.pip(prefix, "install", "numpy==2.1.0", check=False).returncode != 0

    action = remove_soft_lock(prefix)
    assert (action.action, action.reason) == (
        "removed",
        "pip and uv may change conda's packages again",
    )
    assert pip_conf.read_bytes() == original_conf
    assert pip_conf.stat().st_mode & 0o777 == 0o640
    assert state.read_bytes() == original_state
    assert not (prefix / "etc").exists()
    assert not is_soft_locked(prefix)
    assert remove_soft_lock(prefix) is None


def test_unmark_after_the_user_edited_takes_out_only_our_part(numpy_channel, story):
    kit, prefix = numpy_channel, story
    soft_mark(prefix)
    pip_conf = prefix / "pip.conf"
    pip_conf.write_text(pip_conf.read_text() + "\n[global]\ntimeout = 5\n")
    state = prefix / "conda-meta" / "state"
    variables = json.loads(state.read_text())
    variables["env_vars"]["FOO"] = "bar"  # as `conda env config vars set FOO=bar` would
    state.write_text(json.dumps(variables))

    action = remove_soft_lock(prefix)
    assert "pip.conf was edited after mark" in action.reason
    assert "conda-meta/state was edited after mark" in action.reason
    assert pip_conf.read_text() == "\n[global]\ntimeout = 5\n"
    assert json.loads(state.read_text()) == {"env_vars": {"FOO": "bar"}}
    listed = run_pip_planted(prefix, None, "config", "list", home=kit.home).stdout
    assert "global.timeout='5'" in listed
    assert "constraint" not in listed


def test_mark_soft_is_idempotent_and_repairs_what_was_taken_away(story, scan):
    soft_mark(story)
    again = soft_mark(story)
    assert (again.action, again.reason) == (
        "unchanged",
        f"already soft-locked by conda-pipguard: {HELD} may add packages but not change the 3 "
        "conda packages",
    )
    (story / "pip.conf").write_text("[global]\ntimeout = 5\n")  # the user dropped our line
    marker = scan(story).marker
    assert marker.state == "soft"
    assert marker.bypassed_by == ("pip.conf no longer names etc/conda-pipguard/constraints.txt",)

    repaired = soft_mark(story)
    assert (repaired.action, repaired.reason) == (
        "written",
        f"soft lock repaired or brought up to date: {HELD} may add packages but not change "
        "the 3 conda packages",
    )
    assert scan(story).marker.bypassed_by == ()
    remove_soft_lock(story)
    assert (story / "pip.conf").read_text() == "[global]\ntimeout = 5\n"


def test_dry_run_changes_nothing(story):
    before = tree(story)
    assert soft_mark(story, dry_run=True).action == "written"
    assert tree(story) == before
    soft_mark(story)
    locked = tree(story)
    assert remove_soft_lock(story, dry_run=True).action == "removed"
    assert tree(story) == locked


def test_an_unreadable_pip_conf_or_state_stops_before_writing_anything(story):
    (story / "pip.conf").write_text("[install]\nconstraint = a\nconstraint = b\n")
    before = tree(story)
    with pytest.raises(LockError, match="pip cannot read it either"):
        soft_mark(story)
    assert tree(story) == before

    (story / "pip.conf").unlink()
    (story / "conda-meta" / "state").write_text("[not json")
    before = tree(story)
    with pytest.raises(LockError, match="not what `conda env config vars` writes"):
        soft_mark(story)
    assert tree(story) == before


def test_a_failure_half_way_rolls_everything_back(story):
    before = tree(story)
    # pip.conf and the constraints are written before conda-meta/state, which fails here
    with read_only(story / "conda-meta"), pytest.raises(LockError) as caught:
        soft_mark(story)
    assert str(story / "conda-meta" / "state") in str(caught.value)
    assert "conda pipguard mark --soft -n story" in str(caught.value)
    assert tree(story) == before
    assert not (story / "etc").exists()


# -- status and refresh -------------------------------------------------------------------------


def test_status_json_and_refresh_after_a_conda_transaction(numpy_channel, story, scan):
    kit, prefix = numpy_channel, story
    assert refresh_soft_lock(prefix) is None  # not soft-locked: nothing to do
    kit.add_package("numpy", "1.26.5", modules=NUMPY_1, noarch=False)
    kit.add_package("tqdm", "4.66.0", modules={"tqdm/__init__.py": ""})
    soft_mark(prefix)
    assert scan(prefix).to_dict()["marker"] == {
        "state": "soft",
        "path": f"lib/python{kit.host.short_version}/EXTERNALLY-MANAGED",
        "bypassed_by": [],
        "constraints": CONSTRAINTS,
        "pins": 3,
        "stale_pins": [],
        "unpinned": [],
        "overrides": [],
        "held": [
            {"installer": "pip", "when": "always", "through": "pip.conf"},
            {"installer": "uv", "when": "activated", "through": "UV_CONSTRAINT"},
        ],
    }

    kit.install(prefix, ["numpy=1.26.5", "tqdm"], dialect="conda")
    diagnosis = scan(prefix)
    marker = diagnosis.to_dict()["marker"]
    assert marker["stale_pins"] == ["numpy==1.26.4 (conda has 1.26.5)"]
    assert marker["unpinned"] == ["tqdm 4.66.0"]
    assert (
        "soft-lock pins out of date: numpy==1.26.4 (conda has 1.26.5), tqdm 4.66.0 (not pinned); "
        f"refresh them: conda pipguard mark --soft -p {prefix}"
    ) in render_text(diagnosis)

    refreshed = refresh_soft_lock(prefix)
    assert (refreshed.action, refreshed.reason) == (
        "written",
        "pins updated: +tqdm==4.66.0, numpy==1.26.5 (was 1.26.4)",
    )
    marker = scan(prefix).to_dict()["marker"]
    assert (marker["stale_pins"], marker["unpinned"], marker["pins"]) == ([], [], 4)
    assert refresh_soft_lock(prefix).action == "unchanged"
    # the header still names the env as mark did
    assert "conda pipguard unmark -n story" in (prefix / CONSTRAINTS).read_text()


def test_status_names_what_bypasses_the_soft_lock(numpy_channel, story, scan):
    kit, prefix = numpy_channel, story
    soft_mark(prefix)
    constrain_elsewhere(prefix)
    assert scan(prefix).marker.bypassed_by == (
        "PIP_CONSTRAINT (conda env config vars) does not name etc/conda-pipguard/constraints.txt",
        "UV_CONSTRAINT is not set (uv ignores pip.conf)",
    )
    # and it is true: PIP_CONSTRAINT replaces pip.conf's constraint for an activated pip
    bypassed = kit.pip(
        prefix, "install", "--dry-run", "numpy==2.1.0", env_extra=read_env_vars(prefix)
    )
    assert "Would install numpy-2.1.0" in bypassed.stdout


# -- pip.conf editing, on its own ----------------------------------------------------------------


REF = "/envs/x/etc/conda-pipguard/constraints.txt"
CONFIGS = {
    "empty": "",
    "global only": "[global]\ntimeout = 60\n",
    "global constraint": "[global]\nconstraint = /g.txt\n",
    "install constraint": "[install]\nconstraint = /a.txt\n    /b.txt\n\n[global]\nx = 1\n",
    "install other keys": "# mine\n[install]\nno-compile = true\n",
    "no final newline": "[install]\nconstraint=/a.txt",
    "crlf": "[global]\r\ntimeout = 1\r\n[install]\r\nconstraint = /a.txt\r\n",
    "underscore key": "[install]\n--constraint = /a.txt\n",
}


def items(text: str) -> dict[tuple[str, str], str]:
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return {
        (section, key): value
        for section in parser.sections()
        for key, value in parser.items(section)
        if key.lstrip("-") != "constraint"
    }


@pytest.mark.parametrize("text", list(CONFIGS.values()), ids=list(CONFIGS))
def test_add_then_remove_constraint_keeps_the_users_settings(text, tmp_path):
    path = tmp_path / "pip.conf"
    before = effective_constraints(text, path)
    new, added = add_constraint(text or None, REF, path)
    assert effective_constraints(new, path) == [*before, REF]
    assert items(new) == items(text)
    back = remove_constraint(new, lambda token: token == REF, added)
    assert effective_constraints(back, path) == before
    assert items(back) == items(text)
    if text.endswith("\n") or not text:
        assert back == text


def test_soft_lock_needs_python(kit):
    kit.add_conda_package("zlib", "1.3", files={"lib/libz.so": b"\x7fELF"})
    prefix = kit.create("nopy", ["zlib"], dialect="conda")
    action = write_soft_lock(prefix, TARGET)
    assert (action.action, action.lock, action.path) == ("skipped", "soft", None)
    assert not (prefix / LEDGER).exists()
    assert not (prefix / "pip.conf").exists()


# -- what the soft lock does not stop, and what it also stops ------------------------------------


def test_what_the_soft_lock_does_not_stop(numpy_channel, story, tmp_path, scan):
    """The README's list, checked with real pip."""
    kit, prefix = numpy_channel, story
    soft_mark(prefix)
    # pip reads the site pip.conf of the interpreter it runs in: a venv made from the env's
    # Python has a prefix of its own, so no pins there
    venv = tmp_path / "venv"
    kit.python(prefix, "-m", "venv", "--without-pip", "--system-site-packages", venv)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "numpy==2.1.0"],
        env=isolated_env(kit.home, find_links=kit.wheels),
        check=True,
        capture_output=True,
    )
    # PIP_CONFIG_FILE=/dev/null turns every configuration file off, pip.conf included
    off = kit.pip(
        prefix, "install", "--dry-run", "numpy==2.1.0", env_extra={"PIP_CONFIG_FILE": os.devnull}
    )
    assert "Would install numpy-2.1.0" in off.stdout
    # an --isolated pip still reads the site configuration, and --target installs are pinned too
    for extra in (["--isolated"], ["--target", str(tmp_path / "t")]):
        refused = kit.pip(prefix, "install", *extra, "numpy==2.1.0", check=False)
        assert "The user requested (constraint) numpy==1.26.4" in refused.stdout + refused.stderr
    # constraints do not apply to uninstalling
    kit.pip(prefix, "uninstall", "-y", "numpy")
    # conda's numpy is gone from disk, and scipy, which conda built against it, is told so
    found = sorted((f.kind, f.conda_package) for f in scan(prefix).analysis.findings)
    assert found == [("dependency-gone", "scipy"), ("missing-files", "numpy")]


BACKEND = """\
import base64, hashlib, os, zipfile


def _hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import numpy  # the build needs it
    info = "NAME-1.0.dist-info"
    files = {
        "NAME.py": b"",
        info + "/METADATA": b"Metadata-Version: 2.1\\nName: NAME\\nVersion: 1.0\\n\\n",
        info + "/WHEEL": b"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = "".join(f"{k},{_hash(v)},{len(v)}\\n" for k, v in files.items())
    files[info + "/RECORD"] = (record + info + "/RECORD,,\\n").encode()
    name = "NAME-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name
"""


def make_sdist(directory: Path, name: str, build_requires: str) -> Path:
    """An sdist whose in-tree build backend needs *build_requires* in the build environment."""
    root = directory / f"{name}-1.0"
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["{build_requires}"]\nbuild-backend = "backend"\n'
        f'backend-path = ["."]\n[project]\nname = "{name}"\nversion = "1.0"\n'
    )
    (root / "backend.py").write_text(BACKEND.replace("NAME", name))
    sdist = directory / f"{name}-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(root, arcname=root.name)
    return sdist


def test_pins_also_hold_in_pips_isolated_build_environments(numpy_channel, story, tmp_path):
    """A side effect to document: an sdist whose build needs numpy>=2 does not build here."""
    kit, prefix = numpy_channel, story
    make_sdist(kit.wheels, "needsbuild", "numpy>=2")
    soft_mark(prefix)
    failed = kit.pip(prefix, "install", "needsbuild", check=False)
    assert failed.returncode != 0
    assert "The user requested (constraint) numpy==1.26.4" in failed.stdout + failed.stderr
    # the workaround: build the wheel without the configuration files, install it under the lock
    wheels = tmp_path / "built"
    kit.pip(
        prefix,
        "wheel",
        "--no-deps",
        "-w",
        wheels,
        "needsbuild",
        env_extra={"PIP_CONFIG_FILE": os.devnull},
    )
    kit.pip(prefix, "install", *wheels.glob("needsbuild-*.whl"))
    assert dist_version(kit, prefix, "needsbuild") == "1.0"

"""Issue #10's five states, each reached as a user reaches it, with real conda and real pip/uv.

For each: the verdict and the findings, then every finding's printed ``fix`` line run verbatim
in a shell; afterwards every module that imported before still imports.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import NUMPY_1, PY
from tests.guard.conftest import requires_conda
from tests.support.envkit import site_packages
from tests.support.fixlines import importable, never_worse, run_line

pytestmark = requires_conda

MODULES = ("numpy", "scipy", "six")
HAVE_UV = bool(shutil.which("uv")) or Path(sys.executable).with_name("uv").exists()


def status(conda_envs, prefix: Path) -> dict:
    out, _, code = conda_envs.cli("pipguard", "status", "-p", prefix, "--json")
    assert code == 0
    return json.loads(out)


def findings(data: dict) -> list[tuple[str, str | None]]:
    return [(f["kind"], f["distribution"] or f["conda_package"]) for f in data["findings"]]


def run_every_fix(conda_envs, prefix: Path) -> dict:
    """Run each distinct fix line of the current findings; return the status afterwards."""
    kit = conda_envs.kit
    before = importable(prefix, MODULES, kit.home)
    for line in dict.fromkeys(f["fix"] for f in status(conda_envs, prefix)["findings"]):
        if not line:
            continue
        proc = run_line(line, kit.home, [kit.wheels])
        assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
        lines = proc.stdout.splitlines()
        for index, text in enumerate(lines[:-1]):  # never a heading with nothing under it
            if text.endswith(":") and text.strip().startswith(("Also", "Not done")):
                assert lines[index + 1].startswith("    - "), proc.stdout
    after = importable(prefix, MODULES, kit.home)
    assert never_worse(before, after) == [], (before, after)
    return status(conda_envs, prefix)


def test_clean_env_stays_clean(conda_envs, story):
    data = status(conda_envs, story)
    assert (data["verdict"], data["findings"]) == ("clean", [])


def test_byte_identical_reinstall_is_a_warning_and_its_fix_gives_conda_its_metadata_back(
    conda_envs, story
):
    kit = conda_envs.kit
    kit.wheel("numpy", "1.26.4", NUMPY_1)  # the very files conda's numpy holds
    kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==1.26.4")
    data = status(conda_envs, story)
    assert (data["verdict"], findings(data)) == ("at-risk", [("shadowed", "numpy")])
    (finding,) = data["findings"]
    assert (finding["severity"], finding["details"]) == ("warning", {"same_bytes": True})
    assert finding["paths"]["overwritten"] == finding["paths"]["deleted"] == 0
    after = run_every_fix(conda_envs, story)
    assert (after["verdict"], after["findings"]) == ("clean", [])


def test_seed_state_and_its_printed_fix(conda_envs, story):
    """pip replaced conda's numpy; the printed fix (conda pipguard fix) repairs it."""
    conda_envs.kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    data = status(conda_envs, story)
    assert data["verdict"] == "broken"
    assert findings(data) == [("shadowed", "numpy"), ("conda-dependency-broken", "numpy")]
    assert {f["fix"] for f in data["findings"]} == {f"conda pipguard fix -p {story}"}
    after = run_every_fix(conda_envs, story)
    assert (after["verdict"], after["findings"]) == ("clean", [])
    assert importable(story, ["numpy"], conda_envs.kit.home) == {"numpy": "1.26.4"}


def test_conda_put_its_copy_back_over_pips(conda_envs, story):
    """State 1: conda install --force-reinstall numpy leaves pip's dist-info behind."""
    kit = conda_envs.kit
    kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    _, err, code = conda_envs.run("install", story, "--force-reinstall", "numpy", "-y")
    assert not code, err
    assert (site_packages(story) / "numpy-2.1.0.dist-info").is_dir()
    assert importable(story, ["numpy", "scipy"], kit.home) == {"numpy": "1.26.4", "scipy": ""}

    data = status(conda_envs, story)
    assert data["verdict"] == "at-risk"
    assert findings(data) == [("stale-metadata", "numpy")]
    (stale,) = data["findings"]
    assert "installed in its place" not in stale["message"]
    assert stale["details"]["leftover_paths"] == [f"lib/python{PY}/site-packages/numpy/_new_api.py"]
    out, _, _ = conda_envs.cli("pipguard", "export", "-p", story)
    assert "numpy==" not in out  # the recreated env gets conda's numpy, not the stale pip one
    after = run_every_fix(conda_envs, story)
    assert (after["verdict"], after["findings"]) == ("clean", [])
    assert not (site_packages(story) / "numpy" / "_new_api.py").exists()
    assert (site_packages(story) / "numpy" / "linalg.py").exists()  # conda's files stay


def test_hand_cleanup_leaves_conda_files_altered(conda_envs, story):
    """State 2: --ignore-installed six, then the stray dist-info removed by hand."""
    kit = conda_envs.kit
    kit.add_package("six", "1.16.0", modules={"six.py": "# six 1.16.0 from conda\n"})
    kit.wheel("six", "1.17.0", {"six.py": "# six 1.17.0 from PyPI, longer\n"})
    _, err, code = conda_envs.run("install", story, "six", "-y")
    assert not code, err
    kit.pip(story, "install", "--ignore-installed", "--no-deps", "six==1.17.0")
    data = status(conda_envs, story)
    assert ("duplicate", "six") in findings(data)
    shutil.rmtree(site_packages(story) / "six-1.17.0.dist-info")

    data = status(conda_envs, story)
    assert data["verdict"] == "broken"
    assert findings(data) == [("altered", "six")]
    (altered,) = data["findings"]
    assert altered["message"].startswith("1 file of conda's six 1.16.0 was changed")
    assert altered["paths"] == {"overwritten": 1, "deleted": 0, "identical": 0}
    after = run_every_fix(conda_envs, story)
    assert (after["verdict"], after["findings"]) == ("clean", [])
    six = (site_packages(story) / "six.py").read_text()
    assert six == "# six 1.16.0 from conda\n"


def test_conda_removed_what_pip_had_replaced(conda_envs, numpy_channel):
    """State 3: conda remove numpy after pip's --force-reinstall: pip's files half gone."""
    kit = conda_envs.kit
    prefix = conda_envs.create("python", "pip", "numpy")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    _, err, code = conda_envs.run("remove", prefix, "numpy", "-y")
    assert not code, err
    # what is left of numpy imports as an empty namespace package: no code, no version
    assert importable(prefix, ["numpy"], kit.home) == {"numpy": ""}

    data = status(conda_envs, prefix)
    assert data["verdict"] == "broken"
    assert findings(data) == [("incomplete", "numpy")]
    (incomplete,) = data["findings"]
    assert incomplete["details"]["missing"] == 3  # __init__.py, linalg.py, _multiarray.so
    assert "pip install --force-reinstall --no-deps numpy==2.1.0" in incomplete["fix"]
    out, _, _ = conda_envs.cli("pipguard", "export", "-p", prefix)
    assert "  - numpy==2.1.0\n" in out  # a complete copy in the recreated env
    after = run_every_fix(conda_envs, prefix)
    assert after["verdict"] == "pip-touched"
    assert importable(prefix, ["numpy"], kit.home) == {"numpy": "2.1.0"}


@pytest.mark.skipif(
    shutil.which("uv") is None
    and not (Path(__import__("sys").executable).with_name("uv")).exists(),
    reason="uv is not installed here",
)
def test_damage_without_pip_in_the_env(conda_envs, numpy_channel):
    """State 5: uv (not the env's pip, which is absent) replaced numpy; fix still repairs."""
    kit = conda_envs.kit
    prefix = conda_envs.create("python", "numpy", "scipy")
    python = prefix / "bin" / "python"
    line = f"uv pip install --python {python} --reinstall --no-deps numpy==2.1.0"
    proc = run_line(line, kit.home, [kit.wheels])
    assert proc.returncode == 0, proc.stderr
    data = status(conda_envs, prefix)
    assert data["verdict"] == "broken"
    assert ("shadowed", "numpy") in findings(data)

    from conda.exceptions import DryRunExit

    out, _, _ = conda_envs.cli("pipguard", "fix", "-p", prefix, "--dry-run", raises=DryRunExit)
    assert "remove-files" not in out and "remove numpy 2.1.0 (uv)'s files" in out
    after = run_every_fix(conda_envs, prefix)
    assert (after["verdict"], after["findings"]) == ("clean", [])
    assert importable(prefix, ["numpy", "scipy"], kit.home) == {"numpy": "1.26.4", "scipy": ""}

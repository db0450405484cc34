"""``conda create --clone`` of a pip-touched env, with real conda (conda/conda#9063).

conda copies every file of the source that no record lists, then links its own packages: a
package pip replaced comes back as conda's, with pip's metadata and pip-only files copied next to
it. The pre-command says so in one line; ``status`` and ``history`` of the clone tell it.
The clone itself runs as a user runs it, ``conda`` in a shell (its history keeps the command).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import PY
from tests.guard.conftest import requires_conda
from tests.support.envkit import site_packages
from tests.support.fixlines import importable, run_line

pytestmark = requires_conda


def ours(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("conda-pipguard")]


def status(conda_envs, prefix: Path) -> dict:
    out, _, code = conda_envs.cli("pipguard", "status", "-p", prefix, "--json")
    assert code == 0
    return json.loads(out)


def test_the_clone_of_a_shadowed_env_is_warned_and_tells_it(conda_envs, story, tmp_path):
    kit = conda_envs.kit
    kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    clone = tmp_path / "clone"
    made = run_line(f"conda create -p {clone} --clone {story} -y", kit.home, [kit.wheels])
    assert made.returncode == 0, made.stderr
    assert ours(made.stderr) == [
        f"conda-pipguard: the clone of {story} gets conda's numpy 1.26.4 back, but pip's numpy "
        "2.1.0 metadata and 1 file of numpy 2.1.0 that conda does not own are copied as "
        "untracked files: the clone starts with stale metadata; run "
        f"`conda pipguard fix -p {story}` first"
    ]
    # what conda made: its numpy, and pip's metadata and pip-only file copied next to it
    site = site_packages(clone)
    assert (site / "numpy-2.1.0.dist-info").is_dir() and (site / "numpy" / "_new_api.py").exists()
    assert importable(clone, ["numpy", "scipy"], kit.home) == {"numpy": "1.26.4", "scipy": ""}

    data = status(conda_envs, clone)
    assert data["verdict"] == "at-risk"
    assert [(f["kind"], f["distribution"]) for f in data["findings"]] == [
        ("stale-metadata", "numpy")
    ]
    (stale,) = data["findings"]
    assert stale["details"]["cloned_from"] == str(story)
    assert stale["message"].startswith(
        f"numpy 2.1.0 (pip) came with the clone of {story}: conda linked its own numpy 1.26.4 "
        "here, but `conda create --clone` also copied pip's metadata of 2.1.0, which conda does "
        "not track; 1 file of its RECORD that no conda package owns is left over"
    )
    assert stale["details"]["leftover_paths"] == [f"lib/python{PY}/site-packages/numpy/_new_api.py"]

    # history: pip's install happened in the source, before the clone's first revision
    out, _, _ = conda_envs.cli("pipguard", "history", "-p", clone, "--json")
    events = json.loads(out)["events"]
    assert [e["source"] for e in events] == ["pip", "conda"]
    assert (
        f"numpy: installed in {story}; `conda create --clone` copied it here" in events[0]["notes"]
    )

    # the printed fix clears what was copied; conda's numpy stays
    fixed = run_line(stale["fix"], kit.home, [kit.wheels])
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert (status(conda_envs, clone)["verdict"], status(conda_envs, clone)["findings"]) == (
        "clean",
        [],
    )
    assert importable(clone, ["numpy", "scipy"], kit.home) == {"numpy": "1.26.4", "scipy": ""}


def test_what_the_line_says_for_other_sources(conda_envs, story, tmp_path):
    """In-process conda, --dry-run: a clean source says nothing, a pip-only one says it."""
    from conda.exceptions import DryRunExit

    def clone_dry_run(*extra: str) -> str:
        _, err, _ = conda_envs.cli(
            "create",
            "-p",
            tmp_path / "c",
            "--clone",
            str(story),
            "--dry-run",
            *extra,
            raises=DryRunExit,
        )
        return err

    assert ours(clone_dry_run()) == []
    kit = conda_envs.kit
    kit.wheel("tinydep", "1.0", {"tinydep.py": ""})
    kit.pip(story, "install", "tinydep")
    assert ours(clone_dry_run()) == [
        f"conda-pipguard: the clone of {story} gets 1 package from pip (tinydep) copied as files "
        "conda does not track there either"
    ]
    assert ours(clone_dry_run("--json")) == []  # silent under --json
    kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    assert ours(clone_dry_run())[0].endswith(
        f"the clone starts with stale metadata (1 more package from pip as well); run "
        f"`conda pipguard fix -p {story}` first"
    )

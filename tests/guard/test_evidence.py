"""Keep the records ``conda list``/``conda export`` delete (real conda, in-process)."""

from __future__ import annotations

import json
import os

import pytest

from tests.guard.conftest import requires_conda
from tests.guard.test_recovery import assert_conda_files_match_the_record
from tests.support.bounded import call_bounded
from tests.support.envkit import tree_hashes

pytestmark = requires_conda

KEPT = ".pipguard-records"


def status(conda_envs, prefix) -> dict:
    out, _, code = conda_envs.cli("pipguard", "status", "-p", prefix, "--json")
    assert code == 0
    return json.loads(out)


def shadowed(data: dict) -> dict:
    (finding,) = [f for f in data["findings"] if f["kind"] == "shadowed"]
    return finding


@pytest.mark.parametrize("command", ["list", "export"])
def test_the_record_conda_deletes_is_kept_and_used(conda_envs, story, command):
    conda_envs.kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    before = shadowed(status(conda_envs, story))
    assert before["paths"]["overwritten"] > 0 and "details" not in before

    _, err, code = conda_envs.cli(command, "-p", story)
    assert code == 0
    assert not list((story / "conda-meta").glob("numpy-*.json")), "conda kept the record"
    (copy,) = (story / "conda-meta" / KEPT).glob("numpy-1.26.4-*.json")
    lines = [line for line in err.splitlines() if KEPT in line]
    assert lines == [
        f"conda {command} will drop conda's record of numpy 1.26.4, which pip replaced; "
        f"a copy is kept in conda-meta/{KEPT} for conda pipguard"
    ]

    after = shadowed(status(conda_envs, story))
    assert after["paths"] == before["paths"]  # exact counts, not the history-only guess
    assert "details" not in after
    out, _, _ = conda_envs.cli("pipguard", "history", "-p", story, "--json")
    effects = [e["text"] for event in json.loads(out)["events"] for e in event["effects"]]
    counts = before["paths"]
    assert effects[0] == (
        f"replaced conda's numpy 1.26.4 ({counts['overwritten']} files overwritten, "
        f"{counts['deleted']} deleted)"
    )

    # a second conda list has nothing left to delete: no new line, the copy unchanged
    hashes = tree_hashes(story / "conda-meta")
    _, err, _ = conda_envs.cli("list", "-p", story)
    assert KEPT not in err and tree_hashes(story / "conda-meta") == hashes
    assert copy.is_file()


def test_fix_restores_the_exact_build_and_the_copy_is_dropped(conda_envs, story):
    conda_envs.kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    (original,) = (story / "conda-meta").glob("numpy-1.26.4-*.json")
    name = original.name
    conda_envs.cli("list", "-p", story)
    assert not (story / "conda-meta" / name).exists()
    assert (story / "conda-meta" / KEPT / name).is_file()

    out, err, code = conda_envs.cli("pipguard", "fix", "-p", story, "-y", "--json")
    assert code == 0, err
    assert json.loads(out)["run"]["ok"] is True
    assert (story / "conda-meta" / name).is_file()  # the same build, back from conda
    assert_conda_files_match_the_record(story, "numpy")
    assert not (story / "conda-meta" / KEPT).exists()  # the post-transaction hook dropped it
    assert status(conda_envs, story)["verdict"] in ("clean", "pip-touched")


def test_no_damage_no_copy_no_line(conda_envs, story):
    kit = conda_envs.kit
    kit.wheel("requests", "2.32.3", {"requests/__init__.py": ""})
    kit.pip(story, "install", "requests")  # pip-only: conda deletes nothing
    before = tree_hashes(story / "conda-meta")
    _, err, code = conda_envs.cli("list", "-p", story)
    assert code == 0 and KEPT not in err and "pipguard" not in err
    assert tree_hashes(story / "conda-meta") == before


def _plant(path, hostile: str) -> None:
    if hostile == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


def _keep(prefix) -> list[str]:
    from conda_pipguard.guard.kept_records import keep_records

    return [record.name for record in keep_records(prefix)]


def _verdict(prefix) -> tuple[str, list[str]]:
    from conda_pipguard.core.diagnosis import diagnose

    diagnosis = diagnose(prefix, environ={"PATH": ""})
    return diagnosis.verdict, [f.kind for f in diagnosis.analysis.findings]


@pytest.mark.parametrize("hostile", ["fifo", "dev-zero"])
def test_a_fifo_or_dev_zero_in_place_of_a_kept_copy(numpy_channel, hostile):
    """Neither the pre-command (keeping a copy) nor status (reading it) blocks or fills memory."""
    kit = numpy_channel
    prefix = kit.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    (record,) = (prefix / "conda-meta").glob("numpy-1.26.4-*.json")
    copy = prefix / "conda-meta" / KEPT / record.name
    copy.parent.mkdir()
    _plant(copy, hostile)
    assert call_bounded(_keep, prefix) == ["numpy"]
    assert not copy.is_symlink() and copy.read_bytes() == record.read_bytes()  # replaced

    record.unlink()  # as conda list does; and the copy is hostile again
    copy.unlink()
    _plant(copy, hostile)
    verdict, kinds = call_bounded(_verdict, prefix)
    assert verdict == "broken" and "shadowed" in kinds

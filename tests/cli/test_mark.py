"""``conda-pipguard mark`` / ``unmark`` through the standalone entry point, on real envs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conda_pipguard.core.locks.softfiles import CONSTRAINTS
from tests.cli.conftest import run, run_json
from tests.core.locks.test_marker import read_only


@pytest.fixture
def env(kit):
    return kit.create("story", ["python", "pip"], dialect="conda")


@pytest.fixture
def no_python(kit):
    kit.add_conda_package("zlib", "1.3", files={"lib/libz.so": b"\x7fELF"})
    return kit.create("nopy", ["zlib"], dialect="conda")


def marker(prefix: Path) -> Path:
    (path,) = prefix.glob("lib/python3*/EXTERNALLY-MANAGED")
    return path


def snapshot(prefix: Path) -> dict[str, bytes]:
    return {
        p.relative_to(prefix).as_posix(): p.read_bytes()
        for p in sorted(prefix.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_mark_and_unmark_text_and_exit_codes(env, capsys):
    code, out, err = run(capsys, "mark", "-p", str(env))
    stdlib = marker(env).parent.relative_to(env).as_posix()
    assert (code, err) == (0, "")
    assert out == (
        f"{env}: hard lock written ({stdlib}/EXTERNALLY-MANAGED): pip now refuses to install here\n"
    )
    code, out, _ = run(capsys, "mark", "-p", str(env))
    assert code == 0
    assert "hard lock unchanged" in out
    assert "already locked by conda-pipguard" in out

    code, out, _ = run(capsys, "unmark", "-p", str(env))
    assert code == 0
    assert out.endswith(
        "hard lock removed (" + stdlib + "/EXTERNALLY-MANAGED): pip may install here again\n"
    )
    assert not list(env.glob("lib/python3*/EXTERNALLY-MANAGED"))
    code, out, _ = run(capsys, "unmark", "-p", str(env), "-q")
    assert (code, out) == (0, "")


def test_json_shape_of_every_action(env, capsys):
    code, data = run_json(capsys, "mark", "-p", str(env))
    assert code == 0
    assert data == {
        "actions": [
            {
                "prefix": str(env),
                "lock": "hard",
                "path": marker(env).relative_to(env).as_posix(),
                "action": "written",
                "reason": "pip now refuses to install here",
                "dry_run": False,
            }
        ],
        "errors": [],
    }
    hard_path = marker(env).relative_to(env).as_posix()
    code, data = run_json(capsys, "mark", "--soft", "-p", str(env))
    assert code == 0
    assert [(a["lock"], a["action"], a["path"]) for a in data["actions"]] == [
        ("soft", "written", CONSTRAINTS),
        ("hard", "removed", hard_path),
    ]
    assert data["actions"][0]["pins"] == 1  # pip
    assert data["actions"][1]["reason"] == "replaced by the soft lock: pip may add packages"
    code, data = run_json(capsys, "unmark", "-p", str(env))
    assert [(a["lock"], a["action"]) for a in data["actions"]] == [
        ("hard", "unchanged"),
        ("soft", "removed"),
    ]


def test_dry_run_changes_nothing(env, capsys):
    before = snapshot(env)
    for argv in (["mark"], ["mark", "--soft"], ["unmark", "--force"]):
        code, data = run_json(capsys, *argv, "--dry-run", "-p", str(env))
        assert code == 0
        assert all(a["dry_run"] for a in data["actions"] if a["action"] != "unchanged")
        assert snapshot(env) == before
    code, data = run_json(capsys, "mark", "--dry-run", "-p", str(env))
    assert data["actions"][0]["action"] == "written"
    code, out, _ = run(capsys, "mark", "--dry-run", "-p", str(env))
    assert "hard lock would be written" in out

    run(capsys, "mark", "--soft", "-p", str(env))
    locked = snapshot(env)
    code, out, _ = run(capsys, "unmark", "--dry-run", "-p", str(env))
    assert "soft lock would be removed" in out
    assert snapshot(env) == locked


def test_env_without_python_is_skipped_with_exit_0(no_python, capsys):
    for argv in (["mark"], ["mark", "--soft"], ["unmark"]):
        code, data = run_json(capsys, *argv, "-p", str(no_python))
        assert code == 0
        (action,) = data["actions"]
        assert (action["action"], action["path"], action["reason"]) == (
            "skipped",
            None,
            "the environment has no Python",
        )


def test_not_a_conda_env_exits_2(tmp_path, capsys):
    code, out, err = run(capsys, "mark", "-p", str(tmp_path / "nowhere"))
    assert (code, out) == (2, "")
    assert err.startswith("conda-pipguard: error: ")
    assert err.count("\n") == 1


def test_by_name_the_marker_text_names_the_env(kit, env, registry, capsys):
    registry(env)
    code, _, _ = run(capsys, "mark", "-n", "story")
    assert code == 0
    assert "conda pipguard unmark -n story" in marker(env).read_text()


def test_all_goes_on_past_a_failing_env_and_exits_1(
    kit, env, no_python, registry, capsys, tmp_path
):
    broken = kit.create("broken", ["python"], dialect="conda")
    stdlib = next((broken / "lib").glob("python3.*"))
    elsewhere = tmp_path / "elsewhere"
    shutil.move(stdlib, elsewhere)
    stdlib.symlink_to(elsewhere)  # the stdlib dir now resolves outside the prefix
    registry(env, no_python, broken)

    code, data = run_json(capsys, "mark", "--all")
    assert code == 1
    assert [(a["prefix"], a["action"]) for a in data["actions"]] == [
        (str(env), "written"),
        (str(no_python), "skipped"),
    ]
    (error,) = data["errors"]
    assert error["prefix"] == str(broken)
    assert "resolves outside" in error["error"]
    assert not (elsewhere / "EXTERNALLY-MANAGED").exists()

    code, out, err = run(capsys, "unmark", "--all")
    assert code == 0  # removing finds nothing to write outside the prefix
    assert f"{env}: hard lock removed" in out
    assert err == ""


def test_read_only_env_gives_one_line_and_exit_1(env, capsys):
    stdlib = next((env / "lib").glob("python3.*"))
    with read_only(stdlib):
        code, out, err = run(capsys, "mark", "-p", str(env))
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith(
        f"conda-pipguard: error: cannot change {stdlib}/EXTERNALLY-MANAGED: "
        "the environment is read-only for you ("
    )
    assert err.endswith(f"); ask its owner to run: conda pipguard mark -p {env}\n")
    assert not (stdlib / "EXTERNALLY-MANAGED").exists()


def locks(capsys, *argv: str) -> list[tuple[str, str]]:
    code, data = run_json(capsys, *argv)
    assert code == 0
    return [(a["lock"], a["action"]) for a in data["actions"]]


def lock_state(capsys, prefix: Path) -> dict:
    code, status = run_json(capsys, "status", "-p", str(prefix))
    assert code == 0
    return status["marker"]


def test_hard_then_soft_then_hard(env, capsys):
    assert locks(capsys, "mark", "-p", str(env)) == [("hard", "written")]
    assert locks(capsys, "mark", "--soft", "-p", str(env)) == [
        ("soft", "written"),
        ("hard", "removed"),
    ]
    assert lock_state(capsys, env)["state"] == "soft"

    assert locks(capsys, "mark", "-p", str(env)) == [("hard", "written")]
    marker_json = lock_state(capsys, env)
    assert marker_json["state"] == "pipguard"
    assert marker_json["constraints"] == CONSTRAINTS  # the soft lock stays underneath

    assert locks(capsys, "unmark", "-p", str(env)) == [("hard", "removed"), ("soft", "removed")]
    marker_json = lock_state(capsys, env)
    assert marker_json["state"] == "absent"
    assert "constraints" not in marker_json


def test_foreign_marker_needs_force_and_is_reported(env, capsys):
    stdlib = next((env / "lib").glob("python3.*"))
    (stdlib / "EXTERNALLY-MANAGED").write_text("[externally-managed]\nError=not ours\n")
    code, data = run_json(capsys, "mark", "-p", str(env))
    assert code == 0
    assert data["actions"][0]["action"] == "skipped"
    code, data = run_json(capsys, "mark", "--soft", "-p", str(env))
    assert [(a["lock"], a["action"]) for a in data["actions"]] == [
        ("soft", "written"),
        ("hard", "skipped"),
    ]
    assert data["actions"][1]["reason"].endswith(
        "pip still refuses every install while it is there"
    )
    code, data = run_json(capsys, "unmark", "-p", str(env))
    assert [(a["lock"], a["action"]) for a in data["actions"]] == [
        ("hard", "skipped"),
        ("soft", "removed"),
    ]
    assert (stdlib / "EXTERNALLY-MANAGED").exists()
    code, data = run_json(capsys, "unmark", "--force", "-p", str(env))
    assert data["actions"][0]["action"] == "removed"
    assert not (stdlib / "EXTERNALLY-MANAGED").exists()

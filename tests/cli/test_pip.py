"""``conda-pipguard pip install`` through the standalone entry point, on real envs, real pip."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from conda_pipguard.cli.main import main
from tests.support.envkit import tree_hashes


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """Our temporary directories go here, so that a test sees them removed."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


@pytest.fixture
def story(numpy_channel, scratch):
    return numpy_channel.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")


@pytest.fixture
def requests_wheels(numpy_channel):
    kit = numpy_channel
    kit.wheel(
        "requests",
        "2.32.3",
        {"requests/__init__.py": "CHECKED = True\n"},
        requires_dist=["tinydep"],
    )
    kit.wheel("tinydep", "1.0", {"tinydep.py": ""})
    return kit.wheels


def pip(capsys, prefix: Path, kit, *args: str, ours: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """``conda-pipguard pip -p PREFIX OURS install --no-index --find-links WHEELS ARGS``."""
    argv = ["pip", "-p", str(prefix), *ours, "install", "--no-index"]
    code = main([*argv, "--find-links", str(kit.wheels), *args])
    out, err = capsys.readouterr()
    return code, out, err


def site(prefix: Path) -> Path:
    return next(prefix.glob("lib/python3*/site-packages"))


def answer(monkeypatch, reply: str, asked: list[str], then=None) -> None:
    def ask(prompt: str) -> str:
        asked.append(prompt)
        if then is not None:
            then()
        return reply

    monkeypatch.setattr("builtins.input", ask)


REPLACE = ("--force-reinstall", "numpy==2.1.0")


def test_a_replacement_is_named_and_refused_with_yes(numpy_channel, story, scratch, capsys):
    before = tree_hashes(story)
    code, out, err = pip(capsys, story, numpy_channel, *REPLACE, ours=("-y",))
    assert code == 1
    assert "The following conda packages would be replaced by pip:" in out
    assert "  numpy 1.26.4 -> 2.1.0   (2 files overwritten, 5 deleted)" in out
    assert "The following conda packages would break:" in out
    assert "  scipy 1.11.4 (needs numpy >=1.23.5,<2.0a0)" in out
    assert "This install would harm 2 conda packages: numpy, scipy." in out
    assert err.startswith("conda-pipguard: error: this install would harm conda's numpy, scipy")
    assert "--force" in err
    assert tree_hashes(story) == before  # nothing written: no download, no metadata touched
    assert list(scratch.iterdir()) == []  # and our own directory is gone


def test_the_question_defaults_to_no_when_conda_is_harmed(
    numpy_channel, story, capsys, monkeypatch
):
    asked: list[str] = []
    answer(monkeypatch, "", asked)
    before = tree_hashes(story)
    code, out, _ = pip(capsys, story, numpy_channel, *REPLACE)
    assert (code, asked) == (0, ["Proceed? [y/N] "])
    assert out.rstrip().endswith("Nothing was installed.")
    assert tree_hashes(story) == before


def test_force_accepts_the_harm(numpy_channel, story, capsys):
    code, out, _ = pip(capsys, story, numpy_channel, *REPLACE, ours=("-y", "--force"))
    assert code == 0
    assert "Installed by pip, as checked: numpy 2.1.0\n" in out
    assert out.rstrip().endswith(f"Now {story}: broken (details: conda pipguard status -p {story})")


def test_block_mode_refuses_the_harm_even_forced(numpy_channel, story, capsys, monkeypatch):
    monkeypatch.setenv("CONDA_PLUGINS_PIPGUARD_MODE", "block")
    before = tree_hashes(story)
    code, _, err = pip(capsys, story, numpy_channel, *REPLACE, ours=("-y", "--force"))
    assert code == 1 and "pipguard_mode is block" in err
    assert tree_hashes(story) == before


@pytest.mark.parametrize("where", ["ours", "pip's"])
def test_dry_run_exit_codes(numpy_channel, story, requests_wheels, capsys, where):
    dry = {"ours": {"ours": ("--dry-run",)}, "pip's": {}}[where]
    extra = () if where == "ours" else ("--dry-run",)
    before = tree_hashes(story)
    assert pip(capsys, story, numpy_channel, *extra, *REPLACE, **dry)[0] == 1
    assert pip(capsys, story, numpy_channel, *extra, "requests", **dry)[0] == 0
    code, _, err = pip(capsys, story, numpy_channel, *extra, "numpy==9.9", **dry)
    assert code == 2
    assert "No matching distribution found for numpy==9.9" in err  # as pip printed it
    assert "conda-pipguard: error: pip refused (exit code 1); nothing was installed" in err
    assert tree_hashes(story) == before


def test_a_harmless_install_goes_through_the_hard_lock(
    numpy_channel, story, requests_wheels, capsys
):
    kit = numpy_channel
    assert main(["mark", "-p", str(story)]) == 0
    marker = next(story.glob("lib/python3*/EXTERNALLY-MANAGED"))
    text = marker.read_text()
    capsys.readouterr()
    code, out, _ = pip(capsys, story, kit, "requests", ours=("-y",))
    assert code == 0, out
    assert "Nothing of conda's would be harmed." in out
    assert (site(story) / "requests" / "__init__.py").read_text() == "CHECKED = True\n"
    assert marker.read_text() == text  # the lock stays
    assert kit.pip(story, "install", "--force-reinstall", "tinydep", check=False).returncode != 0


def test_a_locked_env_refuses_harm_even_forced(numpy_channel, story, capsys):
    assert main(["mark", "-p", str(story)]) == 0
    before = tree_hashes(story)
    code, _, err = pip(capsys, story, numpy_channel, *REPLACE, ours=("-y", "--force"))
    assert code == 1 and "this env is locked against pip" in err
    assert f"conda pipguard unmark -p {story}" in err
    assert tree_hashes(story) == before


def test_what_lands_is_what_was_checked(numpy_channel, story, requests_wheels, capsys, monkeypatch):
    kit = numpy_channel

    def swap_the_wheel() -> None:  # between the check and the install, same name and version
        kit.wheel(
            "requests",
            "2.32.3",
            {"requests/__init__.py": "SWAPPED = True\n"},
            requires_dist=["tinydep"],
        )

    asked: list[str] = []
    answer(monkeypatch, "y", asked, then=swap_the_wheel)
    code, out, _ = pip(capsys, story, kit, "requests")
    assert (code, asked) == (0, ["Proceed? [Y/n] "]), out
    assert (site(story) / "requests" / "__init__.py").read_text() == "CHECKED = True\n"


def test_json_holds_the_plan_and_the_decision(numpy_channel, story, requests_wheels, capsys):
    code, out, _ = pip(capsys, story, numpy_channel, *REPLACE, ours=("--dry-run", "--json"))
    data = json.loads(out)
    assert code == 1
    assert [(p["name"], p["version"], p["requested"]) for p in data["plan"]] == [
        ("numpy", "2.1.0", True)
    ]
    assert data["plan"][0]["replaces"] == {"version": "1.26.4", "conda": True}
    assert data["plan"][0]["from"].endswith("numpy-2.1.0-py3-none-any.whl")
    assert {f["kind"] for f in data["findings"]} >= {"shadowed", "conda-dependency-broken"}
    shadowed = next(f for f in data["findings"] if f["kind"] == "shadowed")
    assert shadowed["paths"] == {"overwritten": 2, "deleted": 5, "identical": 1}
    assert (data["harmed"], data["decision"], data["marker"]) == (
        ["numpy", "scipy"],
        "dry-run",
        "absent",
    )

    code, out, _ = pip(capsys, story, numpy_channel, "requests", ours=("-y", "--json"))
    data = json.loads(out)
    assert (code, data["decision"], data["pip_exit_code"], data["verdict"]) == (
        0,
        "installed",
        0,
        "pip-touched",
    )
    assert [p["name"] for p in data["plan"]] == ["requests", "tinydep"]

    code, out, _ = pip(capsys, story, numpy_channel, "numpy==9.9", ours=("-y", "--json"))
    data = json.loads(out)
    assert (code, data["decision"], data["pip_exit_code"]) == (2, "cannot-check", 1)
    assert "No matching distribution" in data["pip_output"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--target", "/tmp/elsewhere", "requests"), "--target installs into another directory"),
        (("--user", "requests"), "--user installs into the user site directory"),
    ],
)
def test_out_of_the_env_is_one_line_exit_2(numpy_channel, story, capsys, args, says):
    code, _, err = pip(capsys, story, numpy_channel, *args)
    assert code == 2 and err.count("\n") == 1 and says in err


def test_json_cannot_ask(numpy_channel, story, capsys):
    code, _, err = pip(capsys, story, numpy_channel, "requests", ours=("--json",))
    assert code == 1 and "--json cannot ask for confirmation" in err


def test_the_soft_lock_keeps_applying(numpy_channel, story, requests_wheels, capsys):
    assert main(["mark", "--soft", "-p", str(story)]) == 0
    capsys.readouterr()
    code, _, err = pip(capsys, story, numpy_channel, "numpy==2.1.0", ours=("-y",))
    assert code == 2
    assert "numpy==1.26.4" in err and "constraint" in err  # pip's own resolution said no
    # and with its constraints in force, the hash-pinned install of what harms nothing goes on
    code, out, _ = pip(capsys, story, numpy_channel, "requests", ours=("-y",))
    assert code == 0, out
    assert "Installed by pip, as checked: requests 2.32.3, tinydep 1.0\n" in out


def test_an_env_without_pip_is_checked_by_the_pip_beside_us(
    numpy_channel, requests_wheels, scratch, capsys, monkeypatch
):
    # the pip beside us is not the kit's: keep the machine's configuration from it
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    prefix = numpy_channel.create("nopip", ["python"], dialect="conda")
    code, out, _ = pip(capsys, prefix, numpy_channel, "requests", ours=("-y",))
    assert code == 0, out
    assert (site(prefix) / "requests-2.32.3.dist-info" / "INSTALLER").read_text() == "pip\n"

"""Plan building (findings -> ordered commands) on real environments; nothing is run here."""

from __future__ import annotations

import shutil

import pytest

from conda_pipguard.core.locks.marker import write_marker
from conda_pipguard.core.repair.build import build_plan, render_plan
from conda_pipguard.core.repair.channels import channel_name
from conda_pipguard.core.repair.run import run_step
from tests.conftest import NUMPY_1, NUMPY_2, PY
from tests.core.rules.test_analysis import ENSUREPIP
from tests.support.envkit import editable_project, site_packages

CONDA = ("/opt/conda/bin/python", "-m", "conda")


@pytest.fixture
def story(numpy_channel):
    return numpy_channel.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")


def actions(plan):
    return [step.action for step in plan.steps]


@pytest.mark.parametrize("dialect", ["conda", "rattler"])
def test_user_story_plan_uninstalls_then_force_reinstalls(numpy_channel, scan, dialect):
    kit = numpy_channel
    prefix = kit.create("story", ["python", "pip", "numpy", "scipy"], dialect=dialect)
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    plan = build_plan(scan(prefix), conda=CONDA)

    assert plan.verdict == "broken"
    assert actions(plan) == ["check", "pip-uninstall", "conda-reinstall"]
    check, uninstall, reinstall = plan.steps
    python = str(prefix / "bin" / f"python{PY}")
    assert uninstall.argv == (python, "-I", "-m", "pip", "uninstall", "-y", "numpy")
    assert uninstall.env == {}  # no PEP 668 marker here: no need to break anything
    channel = ("-c", kit.channel_url)
    assert reinstall.argv == (
        *CONDA,
        "install",
        "-p",
        str(prefix),
        "--force-reinstall",
        "-y",
        *channel,
        "numpy=1.26.4=0",
    )
    # The check fetches exactly what the reinstall needs, before anything is removed.
    assert check.argv[: len(CONDA) + 3] == (*CONDA, "install", "-p", str(prefix))
    assert "--download-only" in check.argv and check.argv[-1] == "numpy=1.26.4=0"
    assert plan.specs == ("numpy=1.26.4=0",)
    (removal,) = plan.removals
    assert (removal.name, removal.version, removal.runs, removal.pip_only) == (
        "numpy",
        "2.1.0",
        1,
        False,
    )
    assert plan.reinstalls[0].replaced_by == ("numpy 2.1.0 (pip)",)
    # scipy's broken dependency goes away with conda's numpy: no step of its own.
    assert len(plan.resolved) == 1 and "scipy 1.11.4 requires numpy" in plan.resolved[0]

    text = render_plan(plan)
    assert text.index("pip uninstall -y numpy") < text.index("--force-reinstall -y")
    assert text.index("--download-only") < text.index("pip uninstall")


def test_record_deleted_by_conda_list_comes_back_from_history(story, numpy_channel, scan):
    numpy_channel.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    (record,) = (story / "conda-meta").glob("numpy-1.26.4-*.json")
    record.unlink()
    plan = build_plan(scan(story))
    (reinstall,) = plan.reinstalls
    assert reinstall.record_missing
    assert (reinstall.spec, reinstall.channel) == ("numpy=1.26.4=0", numpy_channel.channel_url)
    assert actions(plan) == ["check", "pip-uninstall", "conda-reinstall"]
    assert plan.steps[-1].argv[:2] == ("conda", "install")


def test_pep668_marker_is_bypassed_for_the_uninstall_only(story, numpy_channel, scan):
    numpy_channel.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    diagnosis = scan(story)
    write_marker(story, diagnosis.env.python, f"-p {story}")
    plan = build_plan(scan(story))
    # conda's steps run with our own guard off (it would refuse the repair in block mode)
    assert [dict(step.env) for step in plan.steps] == [
        {"CONDA_PLUGINS_PIPGUARD_MODE": "off"},
        {"PIP_BREAK_SYSTEM_PACKAGES": "1"},
        {"CONDA_PLUGINS_PIPGUARD_MODE": "off"},
    ]
    assert plan.steps[1].command.startswith("PIP_BREAK_SYSTEM_PACKAGES=1 ")


def test_duplicate_copies_are_all_uninstalled_before_the_reinstall(story, numpy_channel, scan):
    numpy_channel.pip(story, "install", "--ignore-installed", "--no-deps", "numpy==2.1.0")
    plan = build_plan(scan(story))
    # pip removes one copy per run and may pick conda's first: one run per copy.
    assert actions(plan) == ["check", "pip-uninstall", "pip-uninstall", "conda-reinstall"]
    assert plan.steps[1].argv == plan.steps[2].argv
    assert any("2 copies of numpy" in message for message in plan.resolved)
    assert plan.specs == ("numpy=1.26.4=0",)


def test_pip_is_uninstalled_last_and_everything_reinstalled_at_once(kit, scan):
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.wheel("numpy", "2.1.0", NUMPY_2)
    prefix = kit.create("env", ["python", "pip", "numpy"], dialect="conda")
    (wheel,) = ENSUREPIP.glob("pip-*.whl")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", str(wheel))
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    plan = build_plan(scan(prefix))
    uninstalled = [step.argv[-1] for step in plan.steps if step.action == "pip-uninstall"]
    assert uninstalled == ["numpy", "pip"]  # pip must still be there for numpy
    assert sorted(plan.specs) == sorted(plan.steps[-1].argv[-2:])
    assert {spec.split("=")[0] for spec in plan.specs} == {"numpy", "pip"}


def test_clobbering_pip_only_project_is_removed_and_said_so(kit, scan):
    kit.add_package(
        "py-opencv",
        "4.8.0",
        dist_name="opencv",
        modules={"cv2/__init__.py": "from .cv2 import *\n", "cv2/cv2.so": b"conda build"},
    )
    kit.wheel("opencv-python", "4.9.0", {"cv2/__init__.py": "# pypi\n", "cv2/cv2.so": b"pypi"})
    prefix = kit.create("env", ["python", "pip", "py-opencv"], dialect="conda")
    kit.pip(prefix, "install", "opencv-python")
    plan = build_plan(scan(prefix))
    (removal,) = plan.removals
    assert (removal.name, removal.pip_only, removal.restores) == (
        "opencv-python",
        True,
        ("py-opencv",),
    )
    assert plan.specs == ("py-opencv=4.8.0=0",)
    assert plan.untouched == ()  # its pip-only finding is not "left alone": it is removed
    assert "reinstall it afterwards if you need it" in plan.steps[1].purpose


def make_editable(kit, prefix, root):
    project = editable_project(root)
    kit.pip(prefix, "install", "-e", str(project))
    return project


def test_pip_only_editable_and_unsatisfied_are_left_alone(story, numpy_channel, scan, tmp_path):
    kit = numpy_channel
    kit.wheel("app", "1.0", {"app.py": ""}, requires_dist=["helper"])
    kit.wheel("helper", "1.0", {"helper.py": ""})
    kit.wheel("tool", "2.0", {"tool.py": ""}, requires_dist=["urllib3>=2"])
    kit.pip(story, "install", "app")
    kit.pip(story, "install", "--no-deps", "tool")
    make_editable(kit, story, tmp_path)
    plan = build_plan(scan(story))
    assert plan.steps == () and plan.reinstalls == () and plan.removals == ()
    assert plan.untouched == (
        "app 1.0 (pip-only)",
        "helper 1.0 (pip-only)",
        "tool 2.0 (pip-only)",
        "proj 0.1 (editable)",
    )
    (suggestion,) = plan.suggestions
    assert suggestion.kind == "unsatisfied" and "urllib3>=2" in suggestion.fix
    assert "nothing to repair" in render_plan(plan)


def test_clean_env_has_an_empty_plan(story, scan):
    plan = build_plan(scan(story))
    assert (plan.verdict, plan.steps, plan.suggestions) == ("clean", (), ())


def test_offline_reaches_both_conda_commands(story, numpy_channel, scan):
    numpy_channel.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    plan = build_plan(scan(story), offline=True)
    assert ["--offline" in step.argv for step in plan.steps] == [True, False, True]


def test_without_pip_the_plan_removes_exactly_the_record_files(kit, scan):
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.wheel("numpy", "2.1.0", NUMPY_2)
    donor = kit.create("donor", ["python", "pip"])
    prefix = kit.create("env", ["python", "numpy"], dialect="conda")
    target = site_packages(prefix)
    kit.pip(donor, "install", "--no-deps", "--upgrade", "--target", target, "numpy==2.1.0")
    plan = build_plan(scan(prefix), python="/usr/bin/python3")
    assert actions(plan) == ["check", "remove-files", "conda-reinstall"]
    removal = plan.steps[1]
    assert removal.argv[:4] == (
        "/usr/bin/python3",
        "-I",
        "-m",
        "conda_pipguard.core.repair.removefiles",
    )
    assert removal.argv[4] == str(prefix)
    sp = f"lib/python{PY}/site-packages"
    assert {path for path in removal.argv[5:] if not path.endswith(".pyc")} == {
        f"{sp}/numpy/__init__.py",
        f"{sp}/numpy/linalg.py",
        f"{sp}/numpy/_multiarray.so",
        f"{sp}/numpy/_new_api.py",
        f"{sp}/numpy-2.1.0.dist-info",
    }
    assert "remove numpy 2.1.0 (pip)'s files" in render_plan(plan)
    assert "Also resolved by these steps:\n    - " in render_plan(plan)


@pytest.mark.parametrize(
    ("channel", "subdir", "name"),
    [
        ("https://conda.anaconda.org/conda-forge/linux-64", "linux-64", "conda-forge"),
        ("https://conda.anaconda.org/conda-forge/", "", "conda-forge"),
        (
            "https://conda.anaconda.org/pytorch/label/nightly/noarch",
            "noarch",
            "pytorch/label/nightly",
        ),
        ("https://repo.anaconda.com/pkgs/main/osx-arm64", "osx-arm64", "defaults"),
        ("file:///srv/chan/noarch", "", "file:///srv/chan"),
        ("conda-forge", "linux-64", "conda-forge"),
        ("pypi", "", None),
        ("<unknown>", "", None),
    ],
)
def test_channel_name(channel, subdir, name):
    assert channel_name(channel, subdir) == name


def _linked_out(kit, tmp_path):
    """An env without pip, pip's numpy 2 over conda's, and in numpy/ a directory link out.

    numpy 2's RECORD lists a file and a directory through the link, and the link itself;
    outside the prefix, sentinels that no repair may touch.
    """
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.wheel("numpy", "2.1.0", NUMPY_2)
    donor = kit.create("donor", ["python", "pip"])
    prefix = kit.create("env", ["python", "numpy"], dialect="conda")
    sp = site_packages(prefix)
    kit.pip(donor, "install", "--no-deps", "--upgrade", "--target", sp, "numpy==2.1.0")
    outside = tmp_path / "outside"
    (outside / "tree").mkdir(parents=True)
    sentinels = [outside / "keep.txt", outside / "tree" / "deep.txt"]
    for sentinel in sentinels:
        sentinel.write_text("must survive\n")
    (sp / "numpy" / "evil").symlink_to(outside, target_is_directory=True)
    (sp / "numpy" / "outfile.py").symlink_to(outside / "keep.txt")
    (record,) = sp.glob("numpy-2.1.0.dist-info/RECORD")
    extra = [
        "numpy/evil/keep.txt",
        "numpy/evil/tree",
        "numpy/evil/",
        "numpy/evil",
        "numpy/outfile.py",
    ]
    record.write_text(record.read_text() + "".join(f"{line},,\n" for line in extra))
    return prefix, sentinels


def test_paths_through_a_link_out_of_the_env_are_refused_and_said(kit, scan, tmp_path):
    prefix, sentinels = _linked_out(kit, tmp_path)
    plan = build_plan(scan(prefix))
    assert actions(plan) == ["check", "remove-files", "conda-reinstall"]
    (removal,) = plan.removals
    sp = f"lib/python{PY}/site-packages"
    assert set(removal.refused) == {
        f"{sp}/numpy/evil/keep.txt",
        f"{sp}/numpy/evil/tree",
        f"{sp}/numpy/evil/",
        f"{sp}/numpy/evil",
        f"{sp}/numpy/outfile.py",
    }
    step = plan.steps[1]
    assert not set(step.argv) & set(removal.refused)
    assert f"{sp}/numpy/_new_api.py" in step.argv
    text = render_plan(plan)
    assert (
        f"  not touched: {sp}/numpy/evil/keep.txt "
        "(leads outside the environment through a link)" in text.splitlines()
    )
    assert plan.to_dict()["remove"][0]["refused"] == list(removal.refused)

    # The step itself (what `fix -y` runs) removes pip's files and nothing outside.
    result = run_step(step, echo=False)
    assert result.returncode == 0, result.stderr
    assert all(sentinel.read_text() == "must survive\n" for sentinel in sentinels)
    assert not (prefix / sp / "numpy" / "_new_api.py").exists()
    assert not (prefix / sp / "numpy-2.1.0.dist-info").exists()
    assert (prefix / sp / "numpy" / "evil").is_symlink()


def test_a_directory_turned_into_a_link_after_the_plan_is_not_followed(kit, scan, tmp_path):
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.wheel("numpy", "2.1.0", {**NUMPY_2, "numpy/sub/mod.py": "x = 1\n"})
    donor = kit.create("donor", ["python", "pip"])
    prefix = kit.create("env", ["python", "numpy"], dialect="conda")
    sp = site_packages(prefix)
    kit.pip(donor, "install", "--no-deps", "--upgrade", "--target", sp, "numpy==2.1.0")
    step = build_plan(scan(prefix)).steps[1]
    assert step.action == "remove-files"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "mod.py").write_text("must survive\n")
    shutil.rmtree(sp / "numpy" / "sub")
    (sp / "numpy" / "sub").symlink_to(outside, target_is_directory=True)

    result = run_step(step, echo=False)
    assert result.returncode == 1
    rel = f"lib/python{PY}/site-packages/numpy/sub/mod.py"
    assert f"not touched: {rel} (leads outside the environment through a link)" in result.stderr
    assert (outside / "mod.py").read_text() == "must survive\n"
    assert not (sp / "numpy" / "_new_api.py").exists()  # the rest went

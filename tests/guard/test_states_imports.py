"""Issue 22's states, reached with real conda and real pip, each judged by what Python imports.

For each: the verdict and the findings, then every finding's printed ``fix`` line run verbatim
in a shell (``tests/guard/test_states.py``'s pattern); afterwards every module that imported
before still imports, and nothing is left for ``status`` to report.
"""

from __future__ import annotations

import importlib.machinery
import shutil

from tests.guard.conftest import requires_conda
from tests.guard.test_states import findings, run_every_fix, status
from tests.support.condapypi import as_conda_pypi_record, conda_pypi_package
from tests.support.envkit import site_packages
from tests.support.fixlines import importable

pytestmark = requires_conda


def hand_deleted(conda_envs, prefix):
    """pip's --force-reinstall numpy, then its dist-info removed by hand."""
    conda_envs.kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    shutil.rmtree(site_packages(prefix) / "numpy-2.1.0.dist-info")


def test_leftovers_of_a_hand_deleted_install_and_their_fix(conda_envs, story):
    hand_deleted(conda_envs, story)
    data = status(conda_envs, story)
    assert data["verdict"] == "broken"
    assert findings(data) == [
        ("altered", "numpy"),
        ("conda-dependency-broken", "scipy"),
        ("leftovers", "numpy"),
        ("missing-files", "numpy"),
    ]
    from conda.exceptions import DryRunExit

    out, _, _ = conda_envs.cli("pipguard", "fix", "-p", story, "--dry-run", raises=DryRunExit)
    assert "1 file and 1 .pyc no record and no distribution lists" in out
    assert out.index("reinstall conda's own numpy") < out.index("remove what another install")
    after = run_every_fix(conda_envs, story)
    assert (after["verdict"], after["findings"]) == ("clean", [])
    assert not (site_packages(story) / "numpy" / "_new_api.py").exists()
    assert importable(story, ["numpy", "scipy"], conda_envs.kit.home) == {
        "numpy": "1.26.4",
        "scipy": "",
    }


def test_leftovers_stay_reported_after_condas_own_reinstall(conda_envs, story):
    """``conda install --force-reinstall numpy`` puts conda's files back around the leftovers."""
    hand_deleted(conda_envs, story)
    _, err, code = conda_envs.run("install", story, "--force-reinstall", "numpy", "-y")
    assert not code, err
    data = status(conda_envs, story)
    assert (data["verdict"], findings(data)) == ("at-risk", [("leftovers", "numpy")])
    after = run_every_fix(conda_envs, story)
    assert (after["verdict"], after["findings"]) == ("clean", [])


def test_pip_uninstall_of_condas_package_is_broken_and_fixed(conda_envs, story):
    conda_envs.kit.pip(story, "uninstall", "-y", "numpy")
    assert importable(story, ["numpy", "scipy"], conda_envs.kit.home) == {
        "numpy": None,
        "scipy": None,
    }
    data = status(conda_envs, story)
    assert data["verdict"] == "broken"
    assert findings(data) == [("dependency-gone", "scipy"), ("missing-files", "numpy")]
    _, _, code = conda_envs.cli("pipguard", "status", "-p", story, "--fail-on", "error")
    assert code == 1
    after = run_every_fix(conda_envs, story)
    assert (after["verdict"], after["findings"]) == ("clean", [])
    assert importable(story, ["numpy"], conda_envs.kit.home) == {"numpy": "1.26.4"}


def test_conda_remove_force_under_pips_copy_brings_condas_back(conda_envs, story):
    kit = conda_envs.kit
    kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    _, err, code = conda_envs.run("remove", story, "--force", "numpy", "-y")
    assert not code, err
    data = status(conda_envs, story)
    assert data["verdict"] == "broken"
    assert findings(data) == [("incomplete", "numpy"), ("dependency-gone", "numpy")]
    gone = data["findings"][1]
    assert (gone["conda_package"], gone["details"]["dependency"]) == ("scipy", "numpy")
    after = run_every_fix(conda_envs, story)
    assert (after["verdict"], after["findings"]) == ("clean", [])
    assert importable(story, ["numpy", "scipy"], kit.home) == {"numpy": "1.26.4", "scipy": ""}


def test_an_import_name_twin_and_its_fix(conda_envs):
    kit = conda_envs.kit
    ext = importlib.machinery.EXTENSION_SUFFIXES[0]
    kit.add_package("py-opencv", "4.9.0", dist_name="opencv", modules={f"cv2{ext}": b"conda"})
    kit.wheel("opencv-python", "4.10.0", {"cv2/__init__.py": "__version__ = '4.10.0'\n"})
    prefix = conda_envs.create("python", "pip", "py-opencv")
    kit.pip(prefix, "install", "opencv-python")
    data = status(conda_envs, prefix)
    assert findings(data) == [("import-shadowed", "opencv-python")]
    run_every_fix(conda_envs, prefix)
    after = status(conda_envs, prefix)
    assert (after["verdict"], after["findings"]) == ("clean", [])
    assert (site_packages(prefix) / f"cv2{ext}").is_file()
    assert not (site_packages(prefix) / "cv2").exists()


def test_conda_pypi_wheel_installs_stay_condas(conda_envs):
    """conda-pypi's records (INSTALLER conda-via-whl, build pypi_0, channel pypi): no word."""
    kit = conda_envs.kit
    conda_pypi_package(
        kit.channel,
        "requests-lite",
        "2.32.3",
        {"requests_lite/__init__.py": "def main(): pass\n"},
        scripts=["requests-lite = requests_lite:main"],
    )
    kit.add_package("tool", "1.0", modules={"tool.py": ""})
    prefix = conda_envs.create("python", "pip", "requests-lite")
    as_conda_pypi_record(prefix, "requests-lite")
    assert (prefix / "bin" / "requests-lite").is_file()
    data = status(conda_envs, prefix)
    assert (data["verdict"], data["findings"]) == ("clean", [])
    # the pre-command and the post-solve say nothing either, whatever the plan does to it
    for verb, args in (("install", ("tool",)), ("remove", ("requests-lite",))):
        _, err, code = conda_envs.run(verb, prefix, *args, "--dry-run")
        assert code == 0
        assert "pipguard" not in err, err

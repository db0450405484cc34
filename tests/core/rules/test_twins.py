"""Twins without a shared name, on real environments: one import name, or one shared library.

Every env is made by the kit (real ``.conda`` packages, a real CPython in the prefix, real pip);
which copy Python imports is asked of the env's own interpreter.
"""

from __future__ import annotations

import importlib.machinery

from conda_pipguard.core.repair.build import build_plan
from conda_pipguard.core.rules.kinds import Severity
from tests.conftest import PY, kinds
from tests.support.condapypi import as_conda_pypi_record, conda_pypi_package
from tests.support.envkit import site_packages
from tests.support.fixlines import importable

EXT = importlib.machinery.EXTENSION_SUFFIXES[0]
SITE = f"lib/python{PY}/site-packages"


def test_pips_package_directory_shadows_condas_extension_module(kit, scan):
    kit.add_package(
        "py-opencv",
        "4.9.0",
        dist_name="opencv",
        modules={f"cv2{EXT}": b"\x7fELF conda's cv2"},
        noarch=False,
    )
    kit.wheel("opencv-python", "4.10.0", {"cv2/__init__.py": "__version__ = '4.10.0'\n"})
    prefix = kit.create("env", ["python", "pip", "py-opencv"], dialect="conda")
    kit.pip(prefix, "install", "opencv-python")
    diagnosis = scan(prefix)
    # one finding: the copy of another name is not "pip-only" (conda provides its import name)
    assert kinds(diagnosis) == [("import-shadowed", "opencv-python")]
    (finding,) = diagnosis.analysis.findings
    assert finding.level is Severity.ERROR and diagnosis.verdict == "broken"
    assert finding.conda_package == "py-opencv"
    assert "opencv-python 4.10.0 (pip) provides cv2 over conda's py-opencv 4.9.0" in finding.message
    assert "import cv2 loads pip's" in finding.message
    assert finding.details["conda_path"] == f"{SITE}/cv2{EXT}"
    # what the model says Python picks is what the env's Python picks
    assert importable(prefix, ["cv2"], kit.home) == {"cv2": "4.10.0"}
    plan = build_plan(diagnosis)
    assert [step.action for step in plan.steps] == ["check", "pip-uninstall", "conda-reinstall"]
    assert plan.specs == ("py-opencv=4.9.0=0",)
    assert not plan.removals[0].pip_only  # conda's package provides cv2: nothing is lost


def test_condas_package_wins_over_pips_module_of_the_same_name(kit, scan):
    kit.add_package("attrs", "23.2.0", modules={"attr/__init__.py": "__version__ = 'conda'\n"})
    kit.wheel("attr", "0.3.2", {"attr.py": "__version__ = 'pypi'\n"})
    prefix = kit.create("env", ["python", "pip", "attrs"], dialect="conda")
    kit.pip(prefix, "install", "attr")
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [("import-shadowed", "attr")]
    (finding,) = diagnosis.analysis.findings
    assert finding.level is Severity.WARNING and diagnosis.verdict == "at-risk"
    assert "import attr loads conda's, and attr 0.3.2 is never imported" in finding.message
    assert importable(prefix, ["attr"], kit.home) == {"attr": "conda"}


def test_namespace_packages_are_compared_one_level_down(kit, scan):
    kit.add_package("google-auth", "2.0", modules={"google/auth.py": "__version__ = 'conda'\n"})
    kit.wheel("google-cloud-storage", "2.0", {"google/cloud/storage/__init__.py": ""})
    kit.wheel("google-auth-plus", "9.0", {"google/auth/__init__.py": "__version__ = 'pypi'\n"})
    prefix = kit.create("env", ["python", "pip", "google-auth"], dialect="conda")
    kit.pip(prefix, "install", "google-cloud-storage")
    assert kinds(scan(prefix)) == [("pip-only", "google-cloud-storage")]  # merely a parent
    kit.pip(prefix, "install", "google-auth-plus")  # the same subpackage, a package over a module
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [
        ("import-shadowed", "google-auth-plus"),
        ("pip-only", "google-cloud-storage"),
    ]
    assert diagnosis.analysis.findings[0].details["import_name"] == "google.auth"
    assert importable(prefix, ["google.auth"], kit.home) == {"google.auth": "pypi"}


def test_pth_only_and_conda_pypi_installs_are_no_twins(kit, scan):
    kit.add_package("proj", "0.1", modules={"proj/__init__.py": ""})
    kit.wheel("proj-paths", "1.0", {"proj-paths.pth": "/somewhere/else\n"})
    conda_pypi_package(
        kit.channel,
        "projtool",
        "2.0",
        {"projtool.py": "def main(): pass\n"},
        scripts=["projtool = projtool:main"],
    )
    kit.index()
    prefix = kit.create("env", ["python", "pip", "proj", "projtool"], dialect="conda")
    as_conda_pypi_record(prefix, "projtool")
    kit.pip(prefix, "install", "proj-paths")
    assert kinds(scan(prefix)) == [("pip-only", "proj-paths")]


def test_a_second_copy_of_a_shared_library(kit, scan):
    kit.add_conda_package(
        "cudnn",
        "9.1.0",
        files={"lib/libcudnn.so.9.1.0": b"\x7fELF conda's cudnn"},
        symlinks={"lib/libcudnn.so.9": "libcudnn.so.9.1.0"},
    )
    kit.wheel("nvidia-cudnn-cu12", "9.1.0.70", {"nvidia/cudnn/lib/libcudnn.so.9": b"\x7fELF pypi"})
    kit.wheel("torchish", "2.4.0", {"torchish.py": ""}, requires_dist=["nvidia-cudnn-cu12"])
    prefix = kit.create("env", ["python", "pip", "cudnn"], dialect="conda")
    kit.pip(prefix, "install", "nvidia-cudnn-cu12")
    diagnosis = scan(prefix)
    twin = next(f for f in diagnosis.analysis.findings if f.kind == "library-twin")
    assert twin.level is Severity.WARNING and twin.conda_package == "cudnn"
    pip_copy = f"{SITE}/nvidia/cudnn/lib/libcudnn.so.9"
    assert twin.details["libraries"] == [[pip_copy, "lib/libcudnn.so.9"]]
    assert "RPATH/RUNPATH" in twin.message and "LD_LIBRARY_PATH" in twin.message
    assert twin.fix.endswith("-m pip uninstall -y nvidia-cudnn-cu12")  # nothing needs pip's
    kit.pip(prefix, "install", "torchish")
    twin = next(f for f in scan(prefix).analysis.findings if f.kind == "library-twin")
    assert twin.fix.startswith("install torchish from conda instead of pip")


def test_a_vendored_copy_under_a_hashed_name_is_no_twin(kit, scan):
    """auditwheel renames what it vendors (and its soname): it loads beside conda's copy."""
    kit.add_conda_package(
        "libgfortran",
        "14.2.0",
        files={"lib/libgfortran.so.5.0.0": b"\x7fELF conda's libgfortran"},
        symlinks={"lib/libgfortran.so.5": "libgfortran.so.5.0.0"},
    )
    vendored = {
        "vendored/__init__.py": "",
        "vendored.libs/libgfortran-040039e1.so.5.0.0": b"\x7fELF vendored",
    }
    kit.wheel("vendored", "1.0", vendored)
    prefix = kit.create("env", ["python", "pip", "libgfortran"], dialect="conda")
    kit.pip(prefix, "install", "vendored")
    assert kinds(scan(prefix)) == [("pip-only", "vendored")]
    assert (site_packages(prefix) / "vendored.libs").is_dir()

"""One test per finding kind, and the false-positive traps, on real environments.

Every environment is made by py-rattler from real conda packages (tests/support/envkit.py),
with a real CPython in the prefix and real pip runs on top.
"""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest

from conda_pipguard.core.diagnosis import diagnose
from conda_pipguard.core.rules.kinds import Severity
from tests.conftest import NUMPY_1, NUMPY_2, OLD_PY, PY, kinds
from tests.support.envkit import Dist, editable_project, site_packages

ENSUREPIP = Path(sysconfig.get_paths()["stdlib"]) / "ensurepip" / "_bundled"


def errors(diagnosis):
    return [f for f in diagnosis.analysis.findings if f.level is Severity.ERROR]


@pytest.fixture
def numpy_env(kit):
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.wheel("numpy", "2.1.0", NUMPY_2)
    return kit.create("env", ["python", "pip", "numpy"], dialect="conda")


# -- one test per finding kind ---------------------------------------------------------------


def test_clobbered_by_a_project_with_another_name(kit, scan):
    kit.add_package(
        "py-opencv",
        "4.8.0",
        dist_name="opencv",
        modules={
            "cv2/__init__.py": "from .cv2 import *\n",
            "cv2/cv2.so": b"conda build",
        },
    )
    kit.wheel("opencv-python", "4.9.0", {"cv2/__init__.py": "# pypi\n", "cv2/cv2.so": b"pypi"})
    prefix = kit.create("env", ["python", "pip", "py-opencv"], dialect="conda")
    kit.pip(prefix, "install", "opencv-python")
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [("clobbered", "opencv-python"), ("pip-only", "opencv-python")]
    clobbered = diagnosis.analysis.findings[0]
    assert clobbered.conda_package == "py-opencv"
    assert clobbered.paths.to_dict() == {"overwritten": 2, "deleted": 0, "identical": 0}
    assert diagnosis.verdict == "broken"


def test_duplicate_after_ignore_installed(numpy_env, kit, scan):
    kit.pip(numpy_env, "install", "--ignore-installed", "--no-deps", "numpy==2.1.0")
    diagnosis = scan(numpy_env)
    assert kinds(diagnosis) == [("shadowed", "numpy"), ("duplicate", "numpy")]
    duplicate = diagnosis.analysis.findings[1]
    assert "2 copies of numpy" in duplicate.message
    assert duplicate.fix == f"conda pipguard fix -p {numpy_env}"
    # it says which copy goes: not conda's
    assert "the fix removes numpy 2.1.0 (pip) and keeps conda's" in duplicate.message
    assert duplicate.details["removes"] == [f"lib/python{PY}/site-packages/numpy-2.1.0.dist-info"]


def test_unsatisfied_requirements_use_the_env_python_markers(numpy_env, kit, scan):
    kit.wheel(
        "app",
        "1.0",
        {"app.py": ""},
        requires_dist=[
            "numpy>=2",  # conda's numpy is 1.26.4
            "urllib3>=2",  # missing
            'tomli; python_version < "3.8"',  # not for this Python: ignored
            'pysocks; extra == "socks"',  # an extra nobody asked for: ignored
        ],
    )
    kit.pip(numpy_env, "install", "--no-deps", "app")
    diagnosis = scan(numpy_env)
    unsatisfied = {
        f.details["requirement"]: f for f in diagnosis.analysis.findings if f.kind == "unsatisfied"
    }
    assert set(unsatisfied) == {"numpy>=2", "urllib3>=2"}
    assert "numpy is installed as 1.26.4" in unsatisfied["numpy>=2"].message
    assert unsatisfied["numpy>=2"].fix.startswith("conda install")
    assert diagnosis.verdict == "at-risk"


def test_missing_files_and_pip_uninstall_of_a_conda_package(numpy_env, kit, scan):
    (site_packages(numpy_env) / "numpy" / "_old_api.py").unlink()
    diagnosis = scan(numpy_env)
    assert kinds(diagnosis) == [("missing-files", "numpy")]
    assert diagnosis.analysis.findings[0].paths.deleted == 1

    kit.pip(numpy_env, "uninstall", "-y", "numpy")
    finding = scan(numpy_env).analysis.findings[0]
    assert finding.kind == "missing-files"
    assert "pip probably uninstalled it" in finding.message
    assert finding.fix == f"conda pipguard fix -p {numpy_env}"


def test_stranded_after_a_python_change(numpy_env, kit, scan):
    old_site = numpy_env / "lib" / f"python{OLD_PY}" / "site-packages"
    kit.wheel("oldtool", "1.0", {"oldtool.py": ""})
    kit.pip(numpy_env, "install", "--no-deps", "--target", str(old_site), "oldtool")
    diagnosis = scan(numpy_env)
    assert kinds(diagnosis) == [("stranded", None)]
    finding = diagnosis.analysis.findings[0]
    assert finding.location == f"lib/python{OLD_PY}/site-packages"
    assert finding.details["distributions"] == ["oldtool==1.0"]
    assert f"the env's Python is now {PY}" in finding.message


def test_user_site_packages_come_first(numpy_env, kit, scan):
    kit.pip(numpy_env, "install", "--user", "--no-deps", "numpy==2.1.0", user_site=True)
    diagnosis = scan(numpy_env)
    assert kinds(diagnosis) == [("user-site", None)]
    finding = diagnosis.analysis.findings[0]
    assert "they hide the env's numpy 1.26.4" in finding.message
    assert "PYTHONNOUSERSITE=1" in finding.fix
    # the env's Python agrees that the user site comes first
    out = kit.python(numpy_env, "-c", "import numpy; print(numpy.__version__)", user_site=True)
    assert out.stdout.strip() == "2.1.0"
    # with PYTHONNOUSERSITE set (by the user, or by `conda env config vars`) Python ignores it
    quiet = diagnose(numpy_env, environ={"HOME": str(kit.home), "PYTHONNOUSERSITE": "1"})
    assert quiet.analysis.findings == ()
    state = numpy_env / "conda-meta" / "state"
    state.write_text(json.dumps({"env_vars": {"PYTHONNOUSERSITE": "1"}}))
    assert scan(numpy_env).analysis.findings == ()


def test_pip_only_requested_versus_dependency(numpy_env, kit, scan):
    kit.wheel("app", "1.0", {"app.py": ""}, requires_dist=["helper"])
    kit.wheel("helper", "1.0", {"helper.py": ""})
    kit.pip(numpy_env, "install", "app")
    diagnosis = scan(numpy_env)
    assert kinds(diagnosis) == [("pip-only", "app"), ("pip-only", "helper")]
    app, helper = diagnosis.analysis.findings
    assert app.details["requested"] is True and "installed on request" in app.message
    assert helper.details["requested"] is False and "a dependency of app" in helper.message
    assert diagnosis.verdict == "pip-touched"


def test_editable_installs(numpy_env, kit, scan, tmp_path):
    project = editable_project(tmp_path)
    kit.pip(numpy_env, "install", "-e", str(project))
    develop = tmp_path / "devsrc"
    develop.mkdir()
    (site_packages(numpy_env) / "conda.pth").write_text(
        f"{develop}\n"
    )  # what `conda develop` writes
    diagnosis = scan(numpy_env)
    assert kinds(diagnosis) == [("editable", None), ("editable", "proj")]
    conda_develop, proj = diagnosis.analysis.findings
    assert proj.details["source"] == str(project)
    assert conda_develop.location == str(develop)
    assert diagnosis.verdict == "pip-touched"


def test_debris_and_corrupt_records(numpy_env, scan):
    sp = site_packages(numpy_env)
    (sp / "~umpy").mkdir()
    (sp / "ghost-1.0.dist-info").mkdir()
    (numpy_env / "conda-meta" / "broken-1.0-0.json").write_text('{"name": "broken", "vers')
    diagnosis = scan(numpy_env)
    assert sorted(kinds(diagnosis)) == [
        ("corrupt-record", None),
        ("debris", None),
        ("debris", None),
    ]
    reasons = " ".join(f.message for f in diagnosis.analysis.findings)
    assert "interrupted pip" in reasons and "without a readable METADATA" in reasons
    assert "not valid JSON" in reasons
    assert diagnosis.to_dict()["counts"]["conda_records"] == 3


# -- false-positive traps: none of these may produce an error --------------------------------


def test_package_owning_several_dists(kit, scan):
    kit.add_package(
        "pyqt",
        "5.15.9",
        dist_name="PyQt5",
        modules={"PyQt5/__init__.py": ""},
        extra_dists=[Dist("PyQt5_sip", "12.12.2", {"PyQt5/sip.so": b"sip"})],
    )
    prefix = kit.create("env", ["python", "pip", "pyqt"], dialect="conda")
    diagnosis = scan(prefix)
    assert diagnosis.verdict == "clean" and diagnosis.analysis.findings == ()
    assert len(diagnosis.analysis.conda_distributions) == 3  # pip, PyQt5, PyQt5_sip


def test_conda_name_differs_from_pypi_name(kit, scan):
    kit.add_package("pytorch", "2.3.0", dist_name="torch", modules={"torch/__init__.py": ""})
    kit.wheel("torchapp", "1.0", {"torchapp.py": ""}, requires_dist=["torch>=2"])
    prefix = kit.create("env", ["python", "pip", "pytorch"], dialect="conda")
    kit.pip(prefix, "install", "torchapp")  # torch>=2 is satisfied by conda's pytorch
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [("pip-only", "torchapp")]


def test_egg_info_from_conda_build(kit, scan):
    kit.add_package("oldpkg", "1.0", modules={"oldpkg/__init__.py": ""}, egg_info=True)
    prefix = kit.create("env", ["python", "oldpkg"], dialect="conda")
    diagnosis = scan(prefix)
    assert diagnosis.verdict == "clean"
    assert [d.kind for d in diagnosis.analysis.conda_distributions] == ["egg-info"]


@pytest.mark.parametrize("installer", ["conda", "conda-pypi", "uv-pixi", "pip", None])
def test_installer_file_is_only_a_hint(kit, scan, installer):
    kit.add_package("tool", "1.0", modules={"tool.py": ""}, installer=installer)
    prefix = kit.create("env", ["python", "tool"], dialect="rattler")
    assert scan(prefix).analysis.findings == ()


def test_non_conda_uv_pixi_distribution_is_information(kit, scan):
    prefix = kit.create("env", ["python", "pip"], dialect="rattler")
    kit.wheel("pypionly", "1.0", {"pypionly.py": ""})
    kit.pip(prefix, "install", "pypionly")
    (site_packages(prefix) / "pypionly-1.0.dist-info" / "INSTALLER").write_text("uv-pixi\n")
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [("pip-only", "pypionly")]
    assert diagnosis.analysis.findings[0].installer == "uv-pixi"


def test_namespace_packages_share_a_directory(kit, scan):
    kit.add_package("google-auth", "2.0", modules={"google/auth/__init__.py": ""})
    kit.wheel("google-cloud-storage", "2.0", {"google/cloud/storage/__init__.py": ""})
    prefix = kit.create("env", ["python", "pip", "google-auth"], dialect="conda")
    kit.pip(prefix, "install", "google-cloud-storage")
    assert kinds(scan(prefix)) == [("pip-only", "google-cloud-storage")]


def test_pip_upgrading_itself_is_low_severity(kit, scan):
    prefix = kit.create("env", ["python", "pip"], dialect="conda")
    (wheel,) = ENSUREPIP.glob("pip-*.whl")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", str(wheel))
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [("shadowed", "pip")]
    finding = diagnosis.analysis.findings[0]
    assert finding.level is Severity.WARNING
    assert "was reinstalled over conda's pip" in finding.message
    assert diagnosis.verdict == "at-risk"


def test_same_version_reinstall_is_caught_by_hashes(numpy_env, kit, scan):
    kit.wheel("numpy", "1.26.4", {**NUMPY_1, "numpy/_multiarray.so": b"PyPI build of 1.26.4"})
    kit.pip(numpy_env, "install", "--force-reinstall", "--no-deps", "numpy==1.26.4")
    diagnosis = scan(numpy_env)
    assert kinds(diagnosis) == [("shadowed", "numpy")]
    assert diagnosis.analysis.findings[0].paths.overwritten >= 1


def test_a_byte_identical_reinstall_is_a_warning_that_pip_now_claims_the_package(
    numpy_env, kit, scan
):
    """pip --force-reinstall of the very wheel conda's package was made of changes no file."""
    kit.wheel("numpy", "1.26.4", NUMPY_1)
    kit.pip(numpy_env, "install", "--force-reinstall", "--no-deps", "numpy==1.26.4")
    diagnosis = scan(numpy_env)
    assert kinds(diagnosis) == [("shadowed", "numpy")]
    (finding,) = diagnosis.analysis.findings
    assert finding.level is Severity.WARNING
    assert diagnosis.verdict == "at-risk"
    assert finding.paths.to_dict() == {"overwritten": 0, "deleted": 0, "identical": 4}
    assert finding.details == {"same_bytes": True}
    assert finding.message == (
        "numpy 1.26.4 (pip) was reinstalled over conda's numpy 1.26.4 with the same bytes "
        "(4 files, none changed): what imports is conda's, but its metadata is now pip's, so "
        "pip and uv would uninstall or upgrade conda's files as their own"
    )
    assert finding.fix == f"conda pipguard fix -p {numpy_env}"  # run in tests/guard/test_states.py


def test_json_contract(numpy_env, kit, scan):
    kit.pip(numpy_env, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    data = json.loads(json.dumps(scan(numpy_env).to_dict()))
    assert set(data) >= {"prefix", "name", "verdict", "python", "marker", "counts", "findings"}
    assert data["prefix"] == str(numpy_env)
    assert data["marker"] == {
        "state": "absent",
        "path": f"lib/python{PY}/EXTERNALLY-MANAGED",
        "bypassed_by": [],
    }
    finding = data["findings"][0]
    assert set(finding) >= {
        "kind",
        "severity",
        "distribution",
        "version",
        "installer",
        "conda_package",
        "conda_version",
        "paths",
        "message",
        "fix",
    }
    assert not any(p.startswith("/") for f in data["findings"] for p in [f["location"] or ""])


def test_python_site_packages_path_from_the_python_record(tmp_path, scan):
    """Newer conda-forge pythons declare ``python_site_packages_path``; noarch paths follow it."""
    from tests.support.envkit import EnvKit

    kit = EnvKit(tmp_path / "sp", site_packages_path=True)
    kit.add_package("tool", "1.0", modules={"tool.py": ""})
    prefix = kit.create("env", ["python", "pip", "tool"], dialect="conda")
    kit.wheel("extra", "1.0", {"extra.py": ""})
    kit.pip(prefix, "install", "extra")
    diagnosis = scan(prefix)
    assert diagnosis.env.python.site_packages == f"lib/python{PY}/site-packages"
    assert kinds(diagnosis) == [("pip-only", "extra")]
    assert len(diagnosis.analysis.conda_distributions) == 2

"""A pip install checked in real envs with real pip: the planned env is judged as status judges
the env pip then really leaves, and nothing is written before that."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from conda_pipguard.core.errors import CannotCheck
from conda_pipguard.core.pipcheck.arguments import read_arguments
from conda_pipguard.core.pipcheck.check import CheckedInstall, checked_install
from tests.support.envkit import tree_hashes

OPENCV = {"cv2/__init__.py": "from .cv2 import *\n", "cv2/cv2.so": b"\x7fELF conda's opencv"}
OPENCV_PYTHON = {
    "cv2/__init__.py": "from .cv2 import *  # PyPI\n",
    "cv2/cv2.so": b"\x7fELF PyPI opencv-python with its own ffmpeg",
    "opencv_python.libs/libavcodec.so.59": b"\x7fELF bundled",
}

#: An in-tree PEP 517 backend whose wheel writes FILES (a dict defined beside it).
BACKEND = """
import base64, hashlib, os, zipfile
from files import NAME, VERSION, FILES

STEM = f"{NAME.replace('-', '_')}-{VERSION}"
DIST = f"{STEM}.dist-info"


def _wheel(directory):
    items = dict(FILES)
    items[f"{DIST}/METADATA"] = f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n"
    items[f"{DIST}/WHEEL"] = "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    lines = []
    for path, text in items.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    name = f"{STEM}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as wheel:
        for path, text in items.items():
            wheel.writestr(path, text)
        wheel.writestr(f"{DIST}/RECORD", "\\n".join(lines + [f"{DIST}/RECORD,,"]) + "\\n")
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory)
"""


def project_files(name: str, version: str, files: dict[str, str]) -> dict[str, str]:
    """The files of a source project built by :data:`BACKEND`."""
    return {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
        'backend-path = ["."]\n',
        "backend.py": BACKEND,
        "files.py": f"NAME, VERSION, FILES = {name!r}, {version!r}, {files!r}\n",
    }


def check(prefix: Path, *args: str) -> CheckedInstall:
    with checked_install(prefix, read_arguments(args)) as checked:
        return checked


def local(kit, *args: str) -> tuple[str, ...]:
    """pip's arguments for the kit's wheel directory, offline."""
    return ("--no-index", "--find-links", str(kit.wheels), *args)


def judged_as_status_judges(checked: CheckedInstall, scan, prefix: Path) -> None:
    """The analysis of the planned env is the analysis of the env pip really left."""
    assert checked.after is not None
    predicted = [finding.to_dict() for finding in checked.after.findings]
    assert [finding.to_dict() for finding in scan(prefix).analysis.findings] == predicted


@pytest.fixture
def story(numpy_channel):
    return numpy_channel.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")


def test_a_replacement_is_named_before_pip_writes(numpy_channel, story, scan):
    kit = numpy_channel
    before = tree_hashes(story)
    checked = check(story, *local(kit, "--force-reinstall", "numpy==2.1.0"))
    assert tree_hashes(story) == before  # the check wrote nothing

    assert [(p.name, p.version, p.requested) for p in checked.planned] == [("numpy", "2.1.0", True)]
    assert checked.impact.harmed == ("numpy", "scipy")
    found = {f.kind: f for f in checked.impact.new}
    shadowed, broken = found["shadowed"], found["conda-dependency-broken"]
    # as status counts it after pip: __init__.py and the extension differ, linalg.py is the
    # same bytes, _old_api.py and conda's four dist-info files go with pip's uninstall
    assert shadowed.paths.to_dict() == {"overwritten": 2, "deleted": 5, "identical": 1}
    assert (shadowed.conda_version, shadowed.version) == ("1.26.4", "2.1.0")
    assert (broken.conda_package, broken.details) == (
        "scipy",
        {"requirement": "numpy >=1.23.5,<2.0a0"},
    )

    kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    judged_as_status_judges(checked, scan, story)


def test_a_same_version_reinstall_from_pypi_is_a_replacement(numpy_channel, story, scan):
    kit = numpy_channel
    kit.wheel("numpy", "1.26.4", {**_numpy_files(story), "numpy/__init__.py": "# PyPI build\n"})
    checked = check(story, *local(kit, "--force-reinstall", "--no-deps", "numpy==1.26.4"))
    assert checked.impact.harmed == ("numpy",)
    kit.pip(story, "install", "--force-reinstall", "--no-deps", "numpy==1.26.4")
    judged_as_status_judges(checked, scan, story)


def _numpy_files(prefix: Path) -> dict[str, bytes]:
    site = next(prefix.glob("lib/python3*/site-packages"))
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in (site / "numpy").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_a_wheel_of_another_name_overwriting_conda_files_is_named(numpy_channel, scan):
    kit = numpy_channel
    kit.add_package("opencv", "4.10.0", modules=OPENCV, noarch=False)
    prefix = kit.create("cv", ["python", "pip", "opencv"], dialect="conda")
    kit.wheel("opencv-python", "4.10.0.84", OPENCV_PYTHON)
    checked = check(prefix, *local(kit, "opencv-python"))

    clobbered = [f for f in checked.impact.new if f.kind == "clobbered"]
    assert [(f.distribution, f.conda_package) for f in clobbered] == [("opencv-python", "opencv")]
    assert clobbered[0].paths.overwritten == 2
    assert "opencv" in checked.impact.harmed
    assert checked.replaces(checked.planned[0]) is None  # another project: nothing uninstalled

    # the planned distribution carries its whole file list: every rule over files sees it
    (planned,) = [d for d in checked.after.non_conda if d.key == "opencv-python"]
    site = next(prefix.glob("lib/python3*/site-packages")).relative_to(prefix).as_posix()
    dist_info = f"{site}/opencv_python-4.10.0.84.dist-info"
    assert {entry.path for entry in planned.files} == {
        *(f"{site}/{rel}" for rel in OPENCV_PYTHON),
        *(f"{dist_info}/{n}" for n in ("METADATA", "WHEEL", "RECORD", "INSTALLER", "REQUESTED")),
    }
    shared = next(e for e in planned.files if e.path.endswith("libavcodec.so.59"))
    assert shared.size == len(OPENCV_PYTHON["opencv_python.libs/libavcodec.so.59"])

    kit.pip(prefix, "install", "opencv-python")
    judged_as_status_judges(checked, scan, prefix)


def test_a_pypi_only_package_harms_nothing(numpy_channel, story, scan):
    kit = numpy_channel
    kit.wheel("requests", "2.32.3", {"requests/__init__.py": ""}, requires_dist=["tinydep"])
    kit.wheel(
        "tinydep",
        "1.0",
        {"tinydep.py": ""},
        entry_points={"console_scripts": {"t": "tinydep:main"}},
    )
    checked = check(story, *local(kit, "requests"))
    assert [(p.name, p.requested) for p in checked.planned] == [
        ("requests", True),
        ("tinydep", False),
    ]
    assert checked.impact.harm == () and checked.impact.harmed == ()
    assert {(f.kind, f.distribution) for f in checked.impact.new} == {
        ("pip-only", "requests"),
        ("pip-only", "tinydep"),
    }
    kit.pip(story, "install", "requests")
    judged_as_status_judges(checked, scan, story)


def test_ignore_installed_keeps_conda_s_metadata_beside_pip_s(numpy_channel, story, scan):
    kit = numpy_channel
    checked = check(story, *local(kit, "-I", "--no-deps", "numpy==2.1.0"))
    kinds = {f.kind for f in checked.impact.new}
    assert {"shadowed", "duplicate", "conda-dependency-broken"} <= kinds
    kit.pip(story, "install", "-I", "--no-deps", "numpy==2.1.0")
    judged_as_status_judges(checked, scan, story)


def test_a_local_project_and_an_sdist_are_built_then_checked(story, tmp_path):
    project = tmp_path / "scipy-addon"
    for rel, text in project_files(
        "scipy-addon", "0.1", {"scipy/__init__.py": "import numpy  # patched\n"}
    ).items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text)
    checked = check(story, "--no-index", str(project))
    assert [(p.name, p.archive, p.local_path) for p in checked.planned] == [
        ("scipy-addon", False, str(project))
    ]
    assert [(f.kind, f.conda_package) for f in checked.impact.harm] == [("clobbered", "scipy")]

    sdist = tmp_path / "sdist" / "addon-0.2.tar.gz"
    sdist.parent.mkdir()
    files = project_files("addon", "0.2", {"addon.py": "", "numpy/linalg.py": "BLAS = 'mkl'\n"})
    files["PKG-INFO"] = "Metadata-Version: 2.1\nName: addon\nVersion: 0.2\n"
    with tarfile.open(sdist, "w:gz") as archive:
        for rel, text in files.items():
            info = tarfile.TarInfo(f"addon-0.2/{rel}")
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    checked = check(story, "--no-index", str(sdist))
    assert [(p.name, p.is_wheel) for p in checked.planned] == [("addon", False)]
    assert [(f.kind, f.conda_package) for f in checked.impact.harm] == [("clobbered", "numpy")]
    assert not any(project.glob("*.whl")) and not any(sdist.parent.glob("*.whl"))


def test_pip_s_own_refusal_is_kept_and_nothing_is_written(numpy_channel, story):
    before = tree_hashes(story)
    with pytest.raises(CannotCheck) as refused:
        check(story, *local(numpy_channel, "numpy==9.9"))
    assert refused.value.exit_code == 2
    assert "No matching distribution found for numpy==9.9" in refused.value.output
    assert tree_hashes(story) == before


def test_a_foreign_marker_is_pip_s_to_enforce(numpy_channel, story):
    kit = numpy_channel
    kit.wheel("requests", "2.32.3", {"requests/__init__.py": ""})
    stdlib = next(story.glob("lib/python3*/site-packages")).parent
    (stdlib / "EXTERNALLY-MANAGED").write_text("[externally-managed]\nError=Ask the admins.\n")
    with pytest.raises(CannotCheck) as refused:
        check(story, *local(kit, "requests"))
    assert "Ask the admins." in refused.value.output
    assert "externally-managed-environment" in refused.value.output

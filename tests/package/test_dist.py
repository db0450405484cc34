"""The sdist and wheel a release uploads to PyPI: what conda-forge's recipe builds from.

Built as ``python -m build`` builds them, offline: the sdist from the checkout with hatchling's
PEP 517 hooks, then the wheel from the unpacked sdist (so the sdist alone must be enough).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.package.conftest import ROOT, TIMEOUT, project_field, project_version

pytest.importorskip(
    "hatchling", reason="hatchling comes with the test extra: pip install -e '.[test]'"
)


def _hook(hook: str, source: Path, out: Path) -> Path:
    """Run hatchling's PEP 517 *hook* in *source* (a fresh interpreter); the file it made."""
    code = f"import sys; from hatchling.build import {hook}; print({hook}(sys.argv[1]))"
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code, str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    return out / proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("dist")
    sdist = _hook("build_sdist", ROOT, out)
    with tarfile.open(sdist) as archive:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # 3.10.12+
        archive.extractall(out / "unpacked", **safe)
    (source,) = (out / "unpacked").iterdir()
    wheel = _hook("build_wheel", source, out)
    return sdist, wheel


def test_the_sdist_holds_what_the_recipe_and_the_tests_need(dists):
    sdist, _ = dists
    stem = f"conda_pipguard-{project_version()}"
    assert sdist.name == f"{stem}.tar.gz"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(f"{stem}/") for name in archive.getnames()}
    for needed in (
        "pyproject.toml",
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "conda_pipguard/plugin.py",
        "recipe/recipe.yaml",
        "recipe/variants.yaml",
        "tests/conftest.py",
    ):
        assert needed in names
    assert not [n for n in names if "__pycache__" in n or n.startswith((".venv", ".git/"))]


def test_the_wheel_holds_the_package_and_license_and_no_tests(dists):
    _, wheel = dists
    assert wheel.name == f"conda_pipguard-{project_version()}-py3-none-any.whl"
    info = f"conda_pipguard-{project_version()}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert {n.split("/")[0] for n in names} == {"conda_pipguard", info}
    assert f"{info}/licenses/LICENSE" in names
    assert "conda_pipguard/plugin.py" in names and "conda_pipguard/core/disk/safeio.py" in names
    assert not [n for n in names if "tests" in n.split("/") or "benchmarks" in n.split("/")]
    assert f"Version: {project_version()}\n" in metadata
    assert f"Requires-Python: {project_field('requires-python')}\n" in metadata
    assert "Requires-Dist: packaging>=23\n" in metadata
    assert "[conda]\nconda-pipguard = conda_pipguard.plugin\n" in entry_points
    assert "[console_scripts]\nconda-pipguard = conda_pipguard.cli.main:main\n" in entry_points


def test_the_readme_makes_a_conda_forge_recipe_of_the_sdist(dists, tmp_path):
    """recipe/README.md's steps, done: its source block with this sdist's sha256 renders."""
    rattler_build = pytest.importorskip("rattler_build", reason="py-rattler-build: test extra")
    sdist, _ = dists
    readme = (ROOT / "recipe" / "README.md").read_text()
    block = readme.split("   ```yaml\n", 1)[1].split("   ```\n", 1)[0]
    source = "".join(line.removeprefix("   ") + "\n" for line in block.splitlines())
    sha256 = hashlib.sha256(sdist.read_bytes()).hexdigest()
    source = source.replace("0" * 64, sha256)
    recipe = (ROOT / "recipe" / "recipe.yaml").read_text()
    assert "source:\n  path: ..\n" in recipe
    (tmp_path / "recipe.yaml").write_text(recipe.replace("source:\n  path: ..\n", source))
    # conda-forge's global pinning, not recipe/variants.yaml, sets python_min there
    pinning = rattler_build.VariantConfig.from_yaml('python_min:\n  - "3.10"\n')
    (rendered,) = rattler_build.Stage0Recipe.from_file(tmp_path / "recipe.yaml").render(pinning)
    recipe = rendered.recipe.to_dict()
    assert recipe["source"] == [
        {"url": f"https://pypi.org/packages/source/c/conda-pipguard/{sdist.name}", "sha256": sha256}
    ]
    assert recipe["requirements"]["host"][0] == "python 3.10.*"


def test_the_changelogs_newest_entry_is_pyprojects_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    newest = changelog.split("\n## [", 1)[1].split("]", 1)[0]
    assert newest == project_version()
    assert f"\n[{newest}]: " in changelog  # its link at the bottom

"""``recipe/``: renders as conda-forge would render it, builds offline, and its tests pass."""

from __future__ import annotations

import json
import re

import pytest

from tests.package.conftest import RECIPE, built_files, project_field, project_version


@pytest.fixture(scope="module")
def rattler_build():
    return pytest.importorskip(
        "rattler_build",
        reason="py-rattler-build comes with the test extra: pip install -e '.[test]'",
    )


def test_the_recipe_renders_without_experimental_features(rattler_build):
    variants = rattler_build.VariantConfig.from_files([RECIPE.parent / "variants.yaml"])
    # the default render configuration is conda-forge's: no --experimental
    (rendered,) = rattler_build.Stage0Recipe.from_file(RECIPE).render(variants)
    package = rendered.recipe.package
    assert (package.name, str(package.version)) == ("conda-pipguard", project_version())
    assert rendered.variant["target_platform"] == "noarch"


def test_python_min_is_the_oldest_python_pyproject_allows(rattler_build):
    variants = rattler_build.VariantConfig.from_files([RECIPE.parent / "variants.yaml"])
    (python_min,) = variants.get_values("python_min")
    assert project_field("requires-python") == f">={python_min}"


def test_the_build_ran_the_recipes_own_tests(built):
    log = "\n".join(built.log)
    assert "python imports test passed" in log
    assert "pip check passed" in log
    for command in ("conda pipguard --help", "conda pipguard status --help"):
        assert f"+ {command}" in log
    assert f"conda-pipguard {project_version()}" in built.log


def test_the_package_is_noarch_python_with_its_plugin_and_script(built, tmp_path):
    files = built_files(built.package, tmp_path)
    index = json.loads(files["info/index.json"])
    assert (index["name"], index["version"], index["noarch"]) == (
        "conda-pipguard",
        project_version(),
        "python",
    )
    depends = {re.split(r"[ =<>]", spec)[0]: spec for spec in index["depends"]}
    assert depends["conda"] == "conda >=25.5"
    assert set(depends) == {"python", "conda", "packaging", "pluggy"}
    link = json.loads(files["info/link.json"])
    assert link["noarch"]["entry_points"] == ["conda-pipguard = conda_pipguard.cli.main:main"]
    dist_info = f"site-packages/conda_pipguard-{project_version()}.dist-info"
    assert (
        "[conda]\nconda-pipguard = conda_pipguard.plugin" in files[f"{dist_info}/entry_points.txt"]
    )
    assert "site-packages/conda_pipguard/plugin.py" in files
    assert "info/licenses/LICENSE" in files
    assert not [path for path in files if path.startswith(("site-packages/tests", "bin/"))]

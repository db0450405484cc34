"""Leftovers and packages gone, on real environments (the kit's packages, real pip).

The states of issue 22 reached as a user reaches them: pip's ``--force-reinstall`` and then its
dist-info deleted by hand; ``pip uninstall`` over conda's package; conda's record removed under
pip's copy. conda itself runs in ``tests/guard/test_states.py``, where the printed fixes run.
"""

from __future__ import annotations

import shutil

from conda_pipguard.core.repair.build import build_plan, render_plan
from conda_pipguard.core.repair.export import export_spec
from conda_pipguard.core.rules.kinds import Severity
from tests.conftest import NUMPY_1, NUMPY_2, PY, kinds
from tests.support.envkit import append_history, dist_str, read_records, site_packages
from tests.support.fixlines import importable

SITE = f"lib/python{PY}/site-packages"


def story_env(kit):
    return kit.create("env", ["python", "pip", "numpy", "scipy"], dialect="conda")


def test_files_left_by_an_install_whose_metadata_is_gone(numpy_channel, scan):
    kit = numpy_channel
    prefix = story_env(kit)
    scripts = {"console_scripts": {"f2py": "numpy.f2py:main", "other": "elsewhere:main"}}
    kit.wheel("numpy", "2.1.1", NUMPY_2, entry_points=scripts)
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.1")
    shutil.rmtree(site_packages(prefix) / "numpy-2.1.1.dist-info")
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [
        ("altered", "numpy"),
        ("conda-dependency-broken", "scipy"),
        ("leftovers", "numpy"),
        ("missing-files", "numpy"),
    ]
    left = next(f for f in diagnosis.analysis.findings if f.kind == "leftovers")
    # numpy 2's files among conda's numpy 1.26, whose own files pip changed: a mix, an error
    assert left.level is Severity.ERROR and left.details["mixed"]
    # pip's wrapper that imports numpy goes with numpy's leftovers; one for another module not
    assert left.details["scripts"] == ["bin/f2py"]
    assert (left.details["files"], left.details["bytecode"]) == (2, 1)
    assert left.details["sample"] == [
        f"{SITE}/numpy/_new_api.py",
        "bin/f2py",
        f"{SITE}/numpy/__pycache__/_new_api.cpython-{PY.replace('.', '')}.pyc",
    ]
    broken = next(f for f in diagnosis.analysis.findings if f.kind == "conda-dependency-broken")
    assert "conda's numpy 1.26.4 is a mix on disk" in broken.message
    # conda's files come back first, and only then go the leftovers
    plan = build_plan(diagnosis)
    assert [step.action for step in plan.steps] == ["check", "conda-reinstall", "remove-files"]
    assert plan.specs == ("numpy=1.26.4=0",)
    assert plan.steps[-1].argv[-3:] == (
        f"{SITE}/numpy/_new_api.py",
        "bin/f2py",
        f"{SITE}/numpy/__pycache__/_new_api.cpython-{PY.replace('.', '')}.pyc",
    )
    (sweep,) = plan.to_dict()["sweep"]  # what fix --json reports
    assert (sweep["name"], sweep["files"], sweep["bytecode"]) == ("numpy", 2, 1)
    text = render_plan(plan)
    assert "2 files and 1 .pyc no record and no distribution lists" in text
    assert "Also resolved by these steps:\n    - conda's scipy 1.11.4 requires" in text


def test_leftovers_after_conda_put_its_files_back(numpy_channel, scan):
    """conda relinked numpy in place (history says so): its directories are listed again."""
    kit = numpy_channel
    prefix = story_env(kit)
    stray = site_packages(prefix) / "numpy" / "_core"
    stray.mkdir()
    (stray / "multiarray.py").write_text("from numpy 2\n")
    (stray / "__pycache__").mkdir()
    (stray / "__pycache__" / f"multiarray.cpython-{PY.replace('.', '')}.pyc").write_bytes(b"pyc")
    # conda's --force-reinstall relinks numpy's files and writes the record after
    numpy = next(r for r in read_records(prefix).values() if r["name"] == "numpy")
    append_history(prefix, linked=[dist_str(numpy)], unlinked=[dist_str(numpy)])
    record = next((prefix / "conda-meta").glob("numpy-*.json"))
    record.write_text(record.read_text())  # written after the directories changed
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [("leftovers", "numpy")]
    (left,) = diagnosis.analysis.findings
    assert left.level is Severity.WARNING and not left.details["mixed"]
    assert "1 file and 1 .pyc" in left.message and "(numpy/)" in left.message
    assert diagnosis.verdict == "at-risk"
    plan = build_plan(diagnosis)
    assert [step.action for step in plan.steps] == ["remove-files"]


def test_pythons_own_byte_code_is_no_leftover(numpy_channel, scan):
    kit = numpy_channel
    prefix = story_env(kit)
    assert importable(prefix, ["numpy", "scipy"], kit.home) == {"numpy": "1.26.4", "scipy": ""}
    # the imports wrote __pycache__ into conda's directories, after conda linked them
    assert (site_packages(prefix) / "numpy" / "__pycache__").is_dir()
    diagnosis = scan(prefix)
    assert (diagnosis.verdict, diagnosis.analysis.findings) == ("clean", ())


def test_pip_uninstall_over_condas_package_is_gone(numpy_channel, scan):
    kit = numpy_channel
    prefix = story_env(kit)
    kit.pip(prefix, "uninstall", "-y", "numpy")
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [("dependency-gone", "scipy"), ("missing-files", "numpy")]
    gone, missing = diagnosis.analysis.findings
    assert missing.level is Severity.ERROR and missing.details["gone"]
    assert "numpy/__init__.py among them" in missing.message
    assert gone.message.startswith("conda's scipy 1.11.4 requires numpy >=1.23.5,<2.0a0 but ")
    assert "conda's numpy 1.26.4 is gone" in gone.message
    assert diagnosis.verdict == "broken"
    assert build_plan(diagnosis).specs == ("numpy=1.26.4=0",)


def test_condas_record_removed_under_pips_copy(numpy_channel, scan):
    """``conda remove --force numpy`` after pip's force-reinstall: conda's numpy comes back."""
    kit = numpy_channel
    prefix = story_env(kit)
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    kit.remove(prefix, ["numpy"], dialect="conda")
    assert importable(prefix, ["numpy"], kit.home) == {"numpy": ""}  # a hollow namespace
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [("incomplete", "numpy"), ("dependency-gone", "numpy")]
    incomplete, gone = diagnosis.analysis.findings
    assert gone.conda_package == "scipy" and gone.distribution == "numpy"
    assert "only numpy 2.1.0 (pip) is there, incomplete" in gone.message
    assert "the fix puts conda's numpy 1.26.4 back (conda-meta/history)" in gone.message
    # never the broken copy alone: conda's scipy needs conda's numpy
    assert incomplete.fix == gone.fix == f"conda pipguard fix -p {prefix}"
    plan = build_plan(diagnosis)
    assert [step.action for step in plan.steps] == ["check", "pip-uninstall", "conda-reinstall"]
    assert plan.specs == ("numpy=1.26.4=0",) and plan.reinstalls[0].record_missing
    assert not plan.removals[0].pip_only
    assert plan.suggestions == ()  # the incomplete copy goes with the plan
    # nor does a recreated env get the broken copy back over the numpy scipy needs
    spec = export_spec(diagnosis)
    assert not any(line.startswith("numpy") for line in spec.spec.pip)
    assert any("conda's scipy need numpy from conda" in note for note in spec.notes)


def test_without_dependents_the_incomplete_copy_is_reinstalled_as_before(kit, scan):
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.wheel("numpy", "2.1.0", {**NUMPY_1, "numpy/__init__.py": "__version__ = '2.1.0'\n"})
    prefix = kit.create("env", ["python", "pip", "numpy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    kit.remove(prefix, ["numpy"], dialect="conda")
    diagnosis = scan(prefix)
    assert kinds(diagnosis) == [("incomplete", "numpy")]
    assert "--force-reinstall --no-deps numpy==2.1.0" in diagnosis.analysis.findings[0].fix

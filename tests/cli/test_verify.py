"""``status --verify``: import what a finding involves, with the env's own Python, write nothing."""

from __future__ import annotations

import pytest

from tests.cli.conftest import run, run_json
from tests.conftest import NUMPY_1, NUMPY_2
from tests.support.envkit import tree_hashes


@pytest.fixture
def lab(kit):
    """numpy 1.26.4 and three dependents from conda, then pip's numpy 2 over conda's numpy.

    conda's scipy uses ``numpy._old_api``, which numpy 2 no longer has; ``slowpkg`` hangs on
    import; ``fine`` only needs ``import numpy``.
    """
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.add_package(
        "scipy",
        "1.11.4",
        modules={"scipy/__init__.py": "from numpy import _old_api\n"},
        depends=["numpy >=1.23.5,<2.0a0"],
        noarch=False,
    )
    kit.add_package(
        "slowpkg",
        "1.0",
        modules={"slowpkg/__init__.py": "import time\nwhile True:\n    time.sleep(0.05)\n"},
        depends=["numpy"],
    )
    kit.add_package("fine", "1.0", modules={"fine.py": "import numpy\n"}, depends=["numpy"])
    kit.wheel("numpy", "2.1.0", NUMPY_2)
    prefix = kit.create("lab", ["python", "pip", "numpy", "scipy", "slowpkg", "fine"], "conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    return prefix


def test_verify_reports_what_fails_to_import_and_writes_nothing(lab, capsys):
    before = tree_hashes(lab)
    code, data = run_json(capsys, "status", "-p", str(lab), "--verify", "--verify-timeout", "3")
    assert code == 0
    assert tree_hashes(lab) == before
    verify = data["verify"]
    assert (verify["ran"], verify["packages"], verify["failed"]) == (True, 4, 2)
    by_package = {check["package"]: check for check in verify["checks"]}
    assert by_package["numpy"]["imports"] and by_package["fine"]["imports"]
    fails = {f["conda_package"]: f for f in data["findings"] if f["kind"] == "import-fails"}
    assert set(fails) == {"scipy", "slowpkg"}
    assert fails["scipy"]["severity"] == "error"
    assert fails["scipy"]["details"]["error"] == (
        "ImportError: cannot import name '_old_api' from 'numpy' "
        f"({lab}/lib/python{data['python']['version']}/site-packages/numpy/__init__.py)"
    )
    assert fails["slowpkg"]["details"]["timed_out"] is True
    assert "did not finish within 3 s" in fails["slowpkg"]["message"]


def test_verify_text_and_nothing_without_the_option(lab, capsys):
    code, out, _ = run(capsys, "status", "-p", str(lab), "--verify", "--verify-timeout", "3")
    assert code == 0
    assert "  verify: 2 of the 4 conda packages involved fail to import" in out.splitlines()
    assert any(line.split()[:2] == ["error", "import-fails"] for line in out.splitlines())
    code, data = run_json(capsys, "status", "-p", str(lab))
    assert "verify" not in data
    assert "import-fails" not in {f["kind"] for f in data["findings"]}


def test_verify_on_an_env_whose_imports_work(numpy_channel, capsys):
    kit = numpy_channel
    prefix = kit.create("ok", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.wheel("requests", "2.32.3", {"requests/__init__.py": ""})
    kit.pip(prefix, "install", "requests")
    code, data = run_json(capsys, "status", "-p", str(prefix), "--verify")
    assert code == 0
    assert data["verify"] == {"ran": True, "packages": 0, "failed": 0, "checks": []}
    _, out, _ = run(capsys, "status", "-p", str(prefix), "--verify")
    assert "verify: no conda package is involved in a finding; nothing imported" in out

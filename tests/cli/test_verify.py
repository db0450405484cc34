"""``status --verify``: import what a finding involves, with the env's own Python, write nothing."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from conda_pipguard.core.bounded_run import run_bounded
from tests.cli.conftest import run, run_json
from tests.conftest import NUMPY_1, NUMPY_2, PY, add_story_packages
from tests.support.envkit import EnvKit, site_packages, tree_hashes


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
    assert (verify["ran"], verify["packages"], verify["failed"]) == (True, 4, 3)
    by_package = {check["package"]: check for check in verify["checks"]}
    assert by_package["fine"]["imports"]
    site = f"lib/python{data['python']['version']}/site-packages"
    # what loads is pip's numpy, whatever conda's record says
    assert by_package["numpy"]["loads"] == {
        "module": "numpy",
        "version": "2.1.0",
        "file": f"{site}/numpy/__init__.py",
        "owner": "pip's numpy 2.1.0",
    }
    assert by_package["fine"]["loads"]["owner"] == "conda's fine 1.0"
    fails = {f["conda_package"]: f for f in data["findings"] if f["kind"] == "import-fails"}
    assert set(fails) == {"numpy", "scipy", "slowpkg"}
    assert fails["scipy"]["severity"] == "error"
    assert fails["scipy"]["details"]["error"] == (
        f"ImportError: cannot import name '_old_api' from 'numpy' ({lab}/{site}/numpy/__init__.py)"
    )
    assert fails["scipy"]["message"].endswith(
        "; the numpy that loads is 2.1.0 from pip's numpy 2.1.0, not conda's numpy 1.26.4"
    )
    # the import reaches the extension modules: numpy's (the kit's stand-in bytes) does not load
    assert by_package["numpy"]["modules"] == ["numpy", "numpy._multiarray"]
    assert fails["numpy"]["details"]["module"] == "numpy._multiarray"
    assert fails["slowpkg"]["details"]["timed_out"] is True
    assert "did not finish within 3 s" in fails["slowpkg"]["message"]


def test_verify_text_and_nothing_without_the_option(lab, capsys):
    code, out, _ = run(capsys, "status", "-p", str(lab), "--verify", "--verify-timeout", "3")
    assert code == 0
    lines = out.splitlines()
    assert "  verify: 3 of the 4 conda packages involved fail to import" in lines
    assert (
        f"  verify: numpy 2.1.0 loads from lib/python{PY}/site-packages/numpy/__init__.py "
        "(pip's numpy 2.1.0), not conda's numpy 1.26.4"
    ) in lines
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


#: Run by a ``.pth`` in every start of the env's Python: what a hostile or broken one may do.
HOOK = """
import os, sys, time
def note(*words):
    with open({log!r}, "a") as log:
        log.write(" ".join(map(str, words)) + "\\n")
note("main", os.getpid())
if {mode!r} in ("escape", "escape-closed", "group", "hang"):
    pid = os.fork()
    if pid == 0:
        if {mode!r} != "group":
            os.setsid()  # out of the interpreter's process group and session
        if {mode!r} == "escape-closed":
            os.close(2)
        time.sleep(600)
        os._exit(0)
    note("child", pid)
if {mode!r} == "hang":
    time.sleep(600)
if {mode!r} == "flood":
    while True:
        sys.stderr.write("x" * 65536)
"""
VERIFY_TIMEOUT = 2
#: What the verify may take beyond its timeout: the scan, starting pythons on a busy machine.
MARGIN = 8


def _processes() -> dict[int, tuple[str, int, int]]:
    """Every live process: pid -> (state, process group, session), from /proc."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as stat:
                    fields = stat.read().rpartition(b")")[2].split()
            except OSError:
                continue
            found[int(name)] = (fields[0].decode(), int(fields[2]), int(fields[3]))
    return found


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))


@pytest.fixture(scope="module")
def shadowed(tmp_path_factory):
    kit = add_story_packages(EnvKit(tmp_path_factory.mktemp("verify")))
    prefix = kit.create("story", ["python", "pip", "numpy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    return prefix


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="processes are looked up in /proc")
@pytest.mark.parametrize("mode", ["escape", "escape-closed", "group", "hang", "flood"])
def test_verify_ends_in_time_and_leaves_no_process(shadowed, tmp_path, mode):
    log = tmp_path / "pids"
    hook = tmp_path / "hook.py"
    hook.write_text(HOOK.format(log=str(log), mode=mode))
    pth = site_packages(shadowed) / "zz-hostile.pth"
    pth.write_text(f"import os; exec(open({str(hook)!r}).read())\n")
    command = [sys.executable, "-m", "conda_pipguard", "status", "-p", str(shadowed), "--json"]
    command += ["--verify", "--verify-timeout", str(VERIFY_TIMEOUT)]
    started = time.monotonic()
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=VERIFY_TIMEOUT + 60,
            preexec_fn=_limits,
            check=False,
        )
        took = time.monotonic() - started
    finally:
        pth.unlink()
        pids = {int(line.split()[1]) for line in log.read_text().splitlines()}
        left = {
            pid: info
            for pid, info in _processes().items()
            if info[0] != "Z" and (pid in pids or info[1] in pids or info[2] in pids)
        }
        for pid in left:  # never leave the machine a sleeper, whatever the outcome
            os.kill(pid, signal.SIGKILL)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert took < VERIFY_TIMEOUT + MARGIN, f"{mode}: took {took:.1f} s"
    assert left == {}, f"{mode}: processes left behind: {left}"
    assert len(pids) == (1 if mode == "flood" else 2)
    (check,) = json.loads(result.stdout)["verify"]["checks"]
    assert check["package"] == "numpy"
    assert check["timed_out"] is (mode in ("hang", "flood")), check
    if not check["timed_out"]:
        # the import ran to its end, as without the hook: the kit's stand-in extension fails
        assert (check["imports"], check["module"]) == (False, "numpy._multiarray"), check


def test_bounded_run_keeps_a_bounded_part_of_the_output(tmp_path):
    script = "import sys; sys.stderr.write('x' * 3_000_000); sys.stderr.write('end')"
    result = run_bounded(
        [sys.executable, "-c", script],
        timeout=30,
        env=dict(os.environ),
        cwd=str(tmp_path),
        limit=1024,
    )
    assert (result.returncode, result.timed_out, result.truncated) == (0, False, True)
    assert result.stderr == "x" * 1024


def test_verify_reaches_subpackages_and_extensions_and_names_where_it_broke(numpy_channel, capsys):
    """A scipy-like package: the failure reported is the first raised inside the module imported.

    ``sci.cluster`` fails inside ``sci.spatial`` (it imports it); ``sci.linalg`` fails inside
    itself, on its extension module: that is what is reported. ``sci.datasets`` needs ``pooch``,
    which no conda package provides: optional, not a failure. Test packages are not imported.
    """
    import importlib.machinery

    kit = numpy_channel
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    kit.add_package(
        "sci",
        "1.0",
        modules={
            "sci/__init__.py": "import numpy\n",
            "sci/cluster/__init__.py": "from sci import spatial\n",
            "sci/datasets/__init__.py": "import pooch\n",
            "sci/linalg/__init__.py": "from sci.linalg import _flapack\n",
            f"sci/linalg/_flapack{suffix}": b"\x7fELF built against numpy 1",
            "sci/spatial/__init__.py": "raise ValueError('numpy.dtype size changed')\n",
            "sci/tests/__init__.py": "raise RuntimeError('tests are not imported')\n",
        },
        depends=["numpy"],
        noarch=False,
    )
    prefix = kit.create("sci", ["python", "pip", "numpy", "sci"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    code, data = run_json(capsys, "status", "-p", str(prefix), "--verify")
    assert code == 0
    (sci,) = [check for check in data["verify"]["checks"] if check["package"] == "sci"]
    assert sci["modules"] == [
        "sci",
        "sci.cluster",
        "sci.datasets",
        "sci.linalg",
        "sci.spatial",
        "sci.linalg._flapack",
    ]
    assert (sci["imports"], sci["module"]) == (False, "sci.linalg")
    assert [f["module"] for f in sci["failures"]] == [
        "sci.cluster",
        "sci.linalg",
        "sci.spatial",
        "sci.linalg._flapack",
    ]
    assert sci["failures"][0]["error"] == "ValueError: numpy.dtype size changed"
    (finding,) = [
        f for f in data["findings"] if f["kind"] == "import-fails" and f["conda_package"] == "sci"
    ]
    assert finding["message"].startswith(
        "conda's sci 1.0 fails to import in the env's Python: import sci.linalg: ImportError: "
    )
    assert "(3 more modules of it fail too)" in finding["message"]

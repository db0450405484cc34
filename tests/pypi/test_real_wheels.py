"""Issue #10 on real packages: numpy, scipy and pandas from PyPI wheels, converted to conda's.

One channel per module (the conversion is cached across runs); real conda (``python -m conda``)
creates and changes the environments, real pip damages them, and the printed fixes are run in a
shell. The numbers the issue quotes (files overwritten, deleted, left over) come from here.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conda_pipguard.core.diagnosis import diagnose
from tests.support.envkit import EnvKit, host_python, index_channel, site_packages
from tests.support.fixlines import importable, never_worse, run_line, shell_env
from tests.support.pypi import PyPIUnreachable, cache_root, conda_package_from_wheel, download
from tests.support.running import offline_conda_settings

pytestmark = [
    pytest.mark.pypi,
    pytest.mark.skipif(importlib.util.find_spec("conda") is None, reason="needs conda importable"),
]

#: conda package -> (wheel spec, conda depends)
PACKAGES = {
    "six": ("six==1.16.0", []),
    "python-dateutil": ("python-dateutil==2.9.0.post0", ["six >=1.5"]),
    "pytz": ("pytz==2024.1", []),
    "tzdata": ("tzdata==2024.1", []),
    "numpy": ("numpy==1.26.4", []),
    "scipy": ("scipy==1.11.4", ["numpy >=1.21.6,<1.28.0"]),
    "pandas": (
        "pandas==2.2.2",
        ["numpy >=1.23.2", "python-dateutil >=2.8.2", "pytz >=2020.1", "tzdata >=2022.7"],
    ),
}
NUMPY_2 = "numpy==2.1.3"
MODULES = ("numpy", "scipy", "scipy.linalg", "pandas")


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> EnvKit:
    if host_python().short_version not in ("3.10", "3.11", "3.12"):
        pytest.skip("numpy 1.26.4, scipy 1.11.4 and pandas 2.2.2 have wheels for 3.10-3.12 only")
    kit = EnvKit(tmp_path_factory.mktemp("pypi"))
    wheels = cache_root() / "pypi-wheels"
    try:
        for name, (spec, depends) in PACKAGES.items():
            wheel = download(spec, wheels)
            conda_package_from_wheel(wheel, kit.channel, name, spec.split("==")[1], depends)
        kit.wheels.mkdir(parents=True, exist_ok=True)
        shutil.copy(download(NUMPY_2, wheels), kit.wheels)
    except PyPIUnreachable as err:
        pytest.skip(f"PyPI cannot be reached: {err}")
    index_channel(kit.channel)
    return kit


def conda_env(kit: EnvKit) -> dict[str, str]:
    env = shell_env(kit.home, [kit.wheels])
    env.update(offline_conda_settings(str(kit.root / "pkgs"), kit.channel_url))
    env["CONDA_OVERRIDE_CHANNELS_ENABLED"] = "true"
    return env


def conda(kit: EnvKit, *args: str) -> str:
    command = [sys.executable, "-m", "conda", *args]
    proc = subprocess.run(command, capture_output=True, text=True, env=conda_env(kit), check=False)
    assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def create(kit: EnvKit, name: str, *specs: str) -> Path:
    prefix = kit.root / "envs" / name
    conda(
        kit, "create", "-y", "-p", str(prefix), "--override-channels", "-c", kit.channel_url, *specs
    )
    return prefix


def scan(kit: EnvKit, prefix: Path):
    return diagnose(prefix, environ={"HOME": str(kit.home), "PATH": ""})


def timed_status(kit: EnvKit, prefix: Path) -> float:
    start = time.perf_counter()
    scan(kit, prefix)
    return time.perf_counter() - start


def run_fixes(kit: EnvKit, prefix: Path) -> None:
    before = importable(prefix, MODULES, kit.home)
    for line in dict.fromkeys(f.fix for f in scan(kit, prefix).analysis.findings):
        if not line:
            continue
        proc = subprocess.run(
            ["sh", "-c", line],
            input="y\n",
            capture_output=True,
            text=True,
            env=conda_env(kit),
            check=False,
        )
        assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
    assert never_worse(before, importable(prefix, MODULES, kit.home)) == []


def test_clean_then_pip_then_conda_puts_numpy_back(lab, capsys):
    prefix = create(lab, "lab", "python", "pip", "numpy", "scipy", "pandas")
    clean = scan(lab, prefix)
    assert (clean.verdict, clean.analysis.findings) == ("clean", ())
    assert importable(prefix, MODULES, lab.home) == {
        "numpy": "1.26.4",
        "scipy": "1.11.4",
        "scipy.linalg": "",
        "pandas": "2.2.2",
    }
    clean_time = min(timed_status(lab, prefix) for _ in range(3))

    lab.pip(prefix, "install", "--force-reinstall", "--no-deps", NUMPY_2)
    seed = scan(lab, prefix)
    kinds = [(f.kind, f.conda_package) for f in seed.analysis.findings]
    assert seed.verdict == "broken"
    assert kinds[:2] == [("shadowed", "numpy"), ("conda-dependency-broken", "scipy")]
    shadowed = seed.analysis.findings[0]
    assert shadowed.paths.overwritten > 300 and shadowed.paths.deleted > 200
    seed_time = min(timed_status(lab, prefix) for _ in range(3))
    # --verify reaches scipy.linalg (import scipy works), and names the numpy that loads
    start = time.perf_counter()
    verified = json.loads(conda(lab, "pipguard", "status", "-p", str(prefix), "--verify", "--json"))
    verify_time = time.perf_counter() - start
    checks = {check["package"]: check for check in verified["verify"]["checks"]}
    assert (checks["scipy"]["module"], checks["scipy"]["error"]) == (
        "scipy.linalg",
        "ImportError: numpy.core.multiarray failed to import",
    )
    assert "scipy.linalg._flapack" in checks["scipy"]["modules"]
    loads = checks["numpy"]["loads"]
    assert (loads["version"], loads["owner"]) == ("2.1.3", "pip's numpy 2.1.3")
    assert loads["file"].endswith("site-packages/numpy/__init__.py")
    (scipy_fails,) = [
        f
        for f in verified["findings"]
        if f["kind"] == "import-fails" and f["conda_package"] == "scipy"
    ]
    assert scipy_fails["message"].endswith(
        "the numpy that loads is 2.1.3 from pip's numpy 2.1.3, not conda's numpy 1.26.4"
    )

    # State 1: conda puts its own numpy back; pip's numpy-2.1.3.dist-info stays.
    conda(
        lab,
        "install",
        "-y",
        "-p",
        str(prefix),
        "--force-reinstall",
        "--override-channels",
        "-c",
        lab.channel_url,
        "numpy",
    )
    assert importable(prefix, ["numpy", "scipy.linalg"], lab.home) == {
        "numpy": "1.26.4",
        "scipy.linalg": "",
    }
    stale = scan(lab, prefix)
    assert [(f.kind, f.distribution) for f in stale.analysis.findings] == [
        ("stale-metadata", "numpy")
    ]
    leftovers = stale.analysis.findings[0].details["leftovers"]
    assert leftovers > 100 and stale.analysis.findings[0].details["leftover_bytecode"] > 50
    ledger = stale.analysis.overlay.ledger
    with capsys.disabled():
        print(
            f"\n[real wheels] status: clean {clean_time:.3f}s, seed {seed_time:.3f}s, "
            f"--verify {verify_time:.1f}s ({len(checks['scipy']['modules'])} scipy modules, "
            f"{len(checks['scipy']['failures'])} failing); seed: "
            f"{shadowed.paths.overwritten} overwritten, {shadowed.paths.deleted} deleted, "
            f"{shadowed.paths.identical} identical; after conda's reinstall: {leftovers} "
            f"leftovers, {ledger.hashed} files hashed"
        )
    run_fixes(lab, prefix)
    after = scan(lab, prefix)
    assert (after.verdict, after.analysis.findings) == ("clean", ())
    assert not (site_packages(prefix) / "numpy-2.1.3.dist-info").exists()


def test_conda_remove_after_pip_leaves_pip_numpy_incomplete(lab, capsys):
    prefix = create(lab, "removed", "python", "pip", "numpy")
    lab.pip(prefix, "install", "--force-reinstall", "--no-deps", NUMPY_2)
    conda(lab, "remove", "-y", "-p", str(prefix), "numpy")
    diagnosis = scan(lab, prefix)
    assert diagnosis.verdict == "broken"
    (incomplete,) = diagnosis.analysis.findings
    assert incomplete.kind == "incomplete"
    with capsys.disabled():
        print(f"\n[real wheels] after conda remove: {incomplete.message}")
    assert incomplete.details["missing"] > 500
    run_fixes(lab, prefix)
    assert importable(prefix, ["numpy"], lab.home) == {"numpy": "2.1.3"}
    assert scan(lab, prefix).verdict == "pip-touched"


def test_shell_env_has_our_conda_first(lab):
    assert Path(shell_env(lab.home)["PATH"].split(":")[0], "conda").is_file()
    assert json.loads(conda(lab, "info", "--json"))["offline"] is True
    assert run_line("conda --version", lab.home).returncode == 0


def test_hand_deleted_dist_info_leaves_numpy_2_among_condas_numpy(lab, capsys):
    """Issue 22: pip's numpy 2.1.3 over conda's 1.26.4, then its dist-info deleted by hand."""
    prefix = create(lab, "handdeleted", "python", "pip", "numpy", "scipy", "pandas")
    lab.pip(prefix, "install", "--force-reinstall", "--no-deps", NUMPY_2)
    shutil.rmtree(site_packages(prefix) / "numpy-2.1.3.dist-info")
    before = scan(lab, prefix)
    assert before.verdict == "broken"
    kinds = {(f.kind, f.conda_package) for f in before.analysis.findings}
    assert {("leftovers", "numpy"), ("conda-dependency-broken", "scipy")} <= kinds
    assert ("conda-dependency-broken", "pandas") in kinds
    (left,) = [f for f in before.analysis.findings if f.kind == "leftovers"]
    assert left.details["mixed"] and left.details["files"] > 100
    assert left.details["bytecode"] > 50
    assert "bin/f2py" in left.details["scripts"]  # pip's wrapper, which imports numpy
    site = f"{before.env.python.site_packages}/"
    sample = left.details["sample"]
    assert any(path.startswith(f"{site}numpy/_core/") for path in sample)
    with capsys.disabled():
        print(
            f"\n[real wheels] hand-deleted numpy-2.1.3.dist-info: {left.details['files']} "
            f"files and {left.details['bytecode']} .pyc left (scripts: "
            f"{left.details['scripts']}); before the fix: {before.verdict}, "
            f"{sorted(kinds)}"
        )
    run_fixes(lab, prefix)
    after = scan(lab, prefix)
    with capsys.disabled():
        print(f"[real wheels] after the fix: {after.verdict}, {after.analysis.findings}")
    assert (after.verdict, after.analysis.findings) == ("clean", ())
    assert not any((prefix / path).exists() for path in sample)  # numpy 2's, all gone
    assert not any((prefix / path).exists() for path in left.details["scripts"])
    assert importable(prefix, MODULES, lab.home) == {
        "numpy": "1.26.4",
        "scipy": "1.11.4",
        "scipy.linalg": "",
        "pandas": "2.2.2",
    }


def test_pip_uninstall_of_condas_numpy_is_gone_for_scipy_and_pandas(lab):
    prefix = create(lab, "uninstalled", "python", "pip", "numpy", "scipy", "pandas")
    lab.pip(prefix, "uninstall", "-y", "numpy")
    diagnosis = scan(lab, prefix)
    assert diagnosis.verdict == "broken"
    kinds = [(f.kind, f.conda_package) for f in diagnosis.analysis.findings]
    assert kinds == [
        ("dependency-gone", "pandas"),
        ("dependency-gone", "scipy"),
        ("missing-files", "numpy"),
    ]
    assert diagnosis.analysis.findings[-1].details["gone"]
    run_fixes(lab, prefix)
    assert scan(lab, prefix).verdict == "clean"
    assert importable(prefix, ["numpy", "scipy.linalg", "pandas"], lab.home) == {
        "numpy": "1.26.4",
        "scipy.linalg": "",
        "pandas": "2.2.2",
    }


def test_conda_remove_force_under_pips_numpy_restores_condas(lab):
    prefix = create(lab, "forced", "python", "pip", "numpy", "scipy")
    lab.pip(prefix, "install", "--force-reinstall", "--no-deps", NUMPY_2)
    conda(lab, "remove", "-y", "--force", "-p", str(prefix), "numpy")
    diagnosis = scan(lab, prefix)
    kinds = [(f.kind, f.conda_package or f.distribution) for f in diagnosis.analysis.findings]
    assert ("dependency-gone", "scipy") in kinds
    assert all(f.fix.startswith("conda pipguard fix") for f in diagnosis.analysis.findings)
    run_fixes(lab, prefix)
    assert scan(lab, prefix).verdict == "clean"
    assert importable(prefix, ["numpy", "scipy.linalg"], lab.home) == {
        "numpy": "1.26.4",
        "scipy.linalg": "",
    }

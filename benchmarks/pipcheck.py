"""What checking a pip install costs, against pip's own dry run of the same install.

In the generated 1,000-record env (``genenv.py``, its site-packages where this Python keeps it),
made runnable: a virtual environment of this Python laid over it (so that its ``bin/python`` is a
real interpreter whose site-packages is the env's) and pip from ``ensurepip``. Wheels are local
(``--no-index --find-links``), every command offline with no pip configuration, each a median of
alternating runs:

* one PyPI-only package: ``conda-pipguard pip --dry-run install P`` against ``pip install
  --dry-run P`` (target: within 1.5x), and the checked install (``-y``) against ``pip install
  P`` (for information: both install; the package is uninstalled, untimed, before each run);
* a plan of 50 wheels: ``conda-pipguard pip --dry-run install`` of 50 PyPI-only packages against
  ``pip install --dry-run`` of them (target: within 2x).

The targets are wall time, where the check's own reading and analysis of the env overlaps pip's
resolution; CPU time (pip's included: it is our child) shows what the overlap hides, and what a
machine with no core to spare pays.

Run ``python benchmarks/pipcheck.py`` (``--rounds N``, ``--records N``, ``--json FILE``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from processes import alternate, isolated_environ  # noqa: E402

from tests.support.wheels import make_wheel  # noqa: E402

#: The check of one package within this much of pip's dry run; the plan of 50 within that.
ONE_RATIO = 1.5
MANY_RATIO = 2.0
MANY = 50


def runnable_env(workdir: Path, records: int) -> Path:
    """The generated env of *records* records with a real interpreter and pip (made once)."""
    version = sysconfig.get_python_version()
    prefix = workdir / f"pipcheck-env-{records}-py{version}"
    done = prefix.with_suffix(".complete")
    if done.exists():
        return prefix
    shutil.rmtree(prefix, ignore_errors=True)
    # the generator in a child, its site-packages this Python's (it writes 3.11's otherwise)
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import genenv\n"
        "genenv.PY = sys.argv[3]; genenv.SITE = f'lib/python{genenv.PY}/site-packages'\n"
        "genenv.generate(Path(sys.argv[2]), int(sys.argv[4]))\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(HERE), str(prefix), version, str(records)], check=True
    )
    for name in ("python", "python3", f"python{version}"):
        (prefix / "bin" / name).unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "venv", "--symlinks", "--without-pip", str(prefix)], check=True
    )
    subprocess.run(
        [str(prefix / "bin" / "python"), "-m", "ensurepip", "--default-pip"],
        check=True,
        capture_output=True,
    )
    done.touch()
    return prefix


def wheels(where: Path) -> Path:
    """One PyPI-only package and :data:`MANY` more, as local wheels."""
    where.mkdir(parents=True, exist_ok=True)
    make_wheel(where, "benchone", "1.0", {f"benchone/m{j}.py": f"X = {j}\n" for j in range(20)})
    for index in range(MANY):
        name = f"benchmany{index:03d}"
        make_wheel(where, name, "1.0", {f"{name}/m{j}.py": f"X = {j}\n" for j in range(10)})
    return where


def measure(prefix: Path, links: Path, home: Path, rounds: int) -> dict[str, dict[str, float]]:
    """Medians of our commands and pip's, alternating."""
    environ = isolated_environ(home)
    python = str(prefix / "bin" / "python")
    local = ["--no-index", "--find-links", str(links)]
    many = [f"benchmany{index:03d}" for index in range(MANY)]
    ours = [sys.executable, "-m", "conda_pipguard", "pip", "-p", str(prefix)]
    pip = [python, "-m", "pip", "install", *local]
    dry = alternate(
        {
            "pip dry run, one": ([*pip, "--dry-run", "benchone"], environ),
            "checked, one": ([*ours, "--dry-run", "install", *local, "benchone"], environ),
            "pip dry run, 50": ([*pip, "--dry-run", *many], environ),
            "checked, 50": ([*ours, "--dry-run", "install", *local, *many], environ),
        },
        rounds,
    )

    def uninstall(_name: str) -> None:
        subprocess.run(
            [python, "-m", "pip", "uninstall", "-y", "-q", "benchone"],
            env=environ,
            capture_output=True,
            check=False,
        )

    real = alternate(
        {
            "pip install, one": ([*pip, "benchone"], environ),
            "checked install, one": ([*ours, "-y", "install", *local, "benchone"], environ),
        },
        rounds,
        before=uninstall,
    )
    uninstall("")
    return {**dry, **real}


def report(runs: dict[str, dict[str, float]], records: int) -> str:
    """The medians and the ratios, each target with ✔ or ✘."""
    lines = [f"Checked pip installs in the {records:,}-record env (medians: wall, CPU, RSS):"]
    for name, run in runs.items():
        lines.append(
            f"  {name:<22} {run['wall']:7.3f} s  {run['cpu']:7.3f} s CPU  {run['rss']:6.1f} MB"
        )
    pairs = (
        ("one PyPI-only package", "checked, one", "pip dry run, one", ONE_RATIO),
        (f"a plan of {MANY} wheels", "checked, 50", "pip dry run, 50", MANY_RATIO),
        ("the install itself", "checked install, one", "pip install, one", None),
    )
    for what, ours, theirs, target in pairs:
        ratio = runs[ours]["wall"] / runs[theirs]["wall"]
        cpu = runs[ours]["cpu"] / runs[theirs]["cpu"]
        verdict = (
            "" if target is None else f" (target {target:g}x) {'✔' if ratio <= target else '✘'}"
        )
        lines.append(f"  {what}: {ratio:.2f}x pip's own wall{verdict}, {cpu:.2f}x its CPU")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Prepare, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000, help="Records of the env.")
    parser.add_argument("--rounds", type=int, default=5, help="Alternating rounds.")
    parser.add_argument("--workdir", type=Path, help="Where the generated env is kept.")
    parser.add_argument("--json", type=Path, help="Also write the numbers to this file.")
    args = parser.parse_args(argv)
    workdir = (args.workdir or Path(tempfile.gettempdir()) / "conda-pipguard-bench").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = runnable_env(workdir, args.records)
    with tempfile.TemporaryDirectory() as tmp:
        links = wheels(Path(tmp) / "wheels")
        runs = measure(prefix, links, Path(tmp) / "home", args.rounds)
    print(report(runs, args.records))
    if args.json:
        args.json.write_text(json.dumps({"records": args.records, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

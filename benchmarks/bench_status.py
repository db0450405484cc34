"""How much the scanner and the hooks cost, as ratios against baselines anyone can reproduce.

Builds one large, real environment with the test kit (conda packages installed by py-rattler, a
real CPython, real pip on top), then times:

* ``status``: the full read-only diagnosis (``diagnose``), what ``conda pipguard status`` does;
* ``pre-command``: the one-line risk check that runs before every mutating conda command;
* ``post-solve``: the impact of a five-package plan.

Baselines: reading every ``conda-meta/*.json`` with ``json`` (the floor any reader of a conda
env pays) and ``<env>/bin/python -m pip list`` (what users run to see the same env).

Run: ``python benchmarks/bench_status.py [--packages 300] [--pip 40] [--repeat 5]``
(needs the test extra: ``pip install -e '.[test]'``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conda_pipguard.core.diagnosis import diagnose
from conda_pipguard.core.environment import load_environment
from conda_pipguard.core.impact import PlannedPackage, impact, risk_line
from tests.support.envkit import EnvKit, run_pip


def build(root: Path, packages: int, pip_dists: int) -> Path:
    """A conda env of *packages* python packages (20 files each) plus *pip_dists* from pip."""
    kit = EnvKit(root)
    names = [f"pkg{i:04d}" for i in range(packages)]
    for name in names:
        modules = {f"{name}/mod{j}.py": f"VALUE = {j}\n" * 20 for j in range(20)}
        kit.add_package(name, "1.0", modules=modules)
    for i in range(pip_dists):
        kit.wheel(f"pypi{i:03d}", "1.0", {f"pypi{i:03d}/__init__.py": ""})
    for name in names[:5]:  # pip replaced five of conda's packages
        kit.wheel(name, "2.0", {f"{name}/mod0.py": "VALUE = 'pypi'\n"})
    prefix = kit.create("big", ["python", "pip", *names], dialect="conda")
    wanted = [f"pypi{i:03d}" for i in range(pip_dists)] + [f"{n}==2.0" for n in names[:5]]
    kit.pip(prefix, "install", "--no-deps", *wanted)
    return prefix


def timed(function: Callable[[], object], repeat: int) -> float:
    """Median wall time of *repeat* runs, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def read_all_records(prefix: Path) -> None:
    """Baseline: decode every conda-meta record."""
    for path in (prefix / "conda-meta").glob("*.json"):
        json.loads(path.read_bytes())


def main() -> int:
    """Build the env, time everything, print a table of seconds and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=300)
    parser.add_argument("--pip", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        prefix = build(Path(tmp), args.packages, args.pip)
        environ = {"HOME": tmp}
        env = load_environment(prefix, include_user_site=False)
        files = sum(len(record.files) for record in env.records)
        plan = [PlannedPackage(f"pkg{i:04d}", "1.1", "0") for i in range(5)]
        results = {
            "baseline: json-decode conda-meta": timed(
                lambda: read_all_records(prefix), args.repeat
            ),
            "baseline: python -m pip list": timed(
                lambda: run_pip(prefix, "list", "--format=json"), args.repeat
            ),
            "status (full diagnosis)": timed(
                lambda: diagnose(prefix, environ=environ), args.repeat
            ),
            "pre-command (risk line)": timed(
                lambda: risk_line(load_environment(prefix, metadata=False)), args.repeat
            ),
            "post-solve (5-package plan)": timed(
                lambda: impact(load_environment(prefix, metadata=False), plan, plan),
                args.repeat,
            ),
        }
    floor = results["baseline: json-decode conda-meta"]
    pip_list = results["baseline: python -m pip list"]
    print(
        f"env: {len(env.records)} conda records, {files} files, "
        f"{len(env.distributions)} Python distributions"
    )
    print(f"{'measurement':36} {'seconds':>9} {'x json floor':>13} {'x pip list':>11}")
    for name, seconds in results.items():
        print(f"{name:36} {seconds:9.3f} {seconds / floor:13.1f} {seconds / pip_list:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What conda-pipguard costs, against baselines anyone can reproduce, from 250 to 10,000 records.

For each size it generates (once, cached under ``--workdir``) a deterministic, realistic env in
conda's record dialect (see ``genenv.py``), then measures whole processes, as medians of
alternating runs (every command once per round, so that a noisy neighbour hits all alike):

* ``python -c pass`` (startup) and the parse floor (``json.load`` of every ``conda-meta/*.json``);
* ``pip list --path <site-packages>`` and ``conda list -p <copy>`` (on a copy of ``conda-meta``
  restored before each run: conda's PyPI loader deletes the records of pip-replaced packages);
* ``conda-pipguard status --json`` and, where conda is importable, ``conda pipguard status --json``;

wall time, peak RSS and CPU time (``wait4``), and, in a separate process (``probe.py``), the
in-process cost of the guard's pre-command check and of the post-solve impact of a five-package
plan (through conda's hooks when conda is importable, else through the core functions they call).
Over all sizes: the growth of ``status`` as least-squares slopes (per 1,000 records and per
10,000 files, wall and peak RSS). Then ``status --all`` over few and many copies of the smallest
env (``fleet.py``: is memory flat in the number of envs?).

Where conda is importable, full runs (or ``--conda``) also time conda commands with and without
the plugin (``inconda.py``): a dry-run and a real ``conda install`` in a copy of the 1,000-record
env installed from a local file channel (``channel.py``), the same with ``pipguard_mode: off``,
and ``conda config --show solver`` / ``conda info``.

Run ``python benchmarks/run.py`` (all sizes), ``--sizes 250,1000``, or ``--quick`` (250 records,
one round, no conda install: a smoke test for CI). ``--json FILE`` also writes the numbers.
Every number is a median of alternating runs; each target is printed with ✔ or ✘.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import fleet  # noqa: E402
import genenv  # noqa: E402
import inconda  # noqa: E402
from processes import alternate, isolated_environ  # noqa: E402

FLOOR = (
    "import json, os, sys\n"
    "meta = sys.argv[1]\n"
    "for name in os.listdir(meta):\n"
    "    if name.endswith('.json'):\n"
    "        with open(os.path.join(meta, name), 'rb') as f: json.load(f)\n"
)


def conda_importable() -> bool:
    """Whether this Python has conda (then ``conda pipguard status`` and ``conda list`` run)."""
    try:
        import conda  # noqa: F401
    except ImportError:
        return False
    return True


def conda_list_copy(env: genenv.GeneratedEnv, root: Path) -> Path:
    """A copy of *env* for ``conda list``: its own conda-meta and metadata, the rest symlinked.

    conda resolves site-packages and the metadata directories inside it, so those are real
    directories (dist-infos copied); modules and every other file are symlinks to the original.
    """
    copy = root / f"copy-{env.records}"
    shutil.rmtree(copy, ignore_errors=True)
    real = {"lib", f"lib/python{genenv.PY}", genenv.SITE}

    def mirror(rel: str) -> None:
        (copy / rel).mkdir(parents=True, exist_ok=True)
        for entry in os.scandir(env.prefix / rel):
            child = f"{rel}/{entry.name}".lstrip("/")
            if child == "conda-meta":
                continue
            if child in real:
                mirror(child)
            elif entry.name.endswith(".dist-info") and entry.is_dir():
                shutil.copytree(entry.path, copy / child)
            else:
                os.symlink(entry.path, copy / child)

    mirror("")
    return copy


def restore_meta(env: genenv.GeneratedEnv, copy: Path) -> None:
    """Put the original conda-meta back into *copy* (conda list deletes records)."""
    shutil.rmtree(copy / "conda-meta", ignore_errors=True)
    shutil.copytree(env.prefix / "conda-meta", copy / "conda-meta")


def measure_processes(
    env: genenv.GeneratedEnv,
    root: Path,
    rounds: int,
    with_conda: bool,
    skip: frozenset[str] = frozenset(),
) -> dict[str, dict[str, float]]:
    """Median wall and RSS of every whole-process measurement, in alternating rounds."""
    py = sys.executable
    environ = isolated_environ(root)
    prefix = str(env.prefix)
    commands: dict[str, list[str]] = {
        "python -c pass": [py, "-c", "pass"],
        "parse floor": [py, "-c", FLOOR, f"{prefix}/conda-meta"],
        "pip list --path": [
            py,
            "-m",
            "pip",
            "list",
            "--path",
            f"{prefix}/{genenv.SITE}",
            "--format=json",
        ],
        "status": [py, "-m", "conda_pipguard", "status", "-p", prefix, "--json"],
    }
    copy = None
    if with_conda:
        commands["conda pipguard status"] = [
            py,
            "-m",
            "conda",
            "pipguard",
            "status",
            "-p",
            prefix,
            "--json",
        ]
        if "conda list" not in skip:
            copy = conda_list_copy(env, root)
            commands["conda list"] = [py, "-m", "conda", "list", "-p", str(copy), "--json"]
    runs = {name: (argv, environ) for name, argv in commands.items() if name not in skip}

    def before(name: str) -> None:
        if name == "conda list" and copy is not None:
            restore_meta(env, copy)

    try:
        return alternate(runs, rounds, before)
    finally:
        if copy is not None:
            shutil.rmtree(copy, ignore_errors=True)


def plugin_import_cost(root: Path, rounds: int) -> dict[str, float]:
    """What ``conda config --show solver`` imports because of the plugin (``-X importtime``).

    The self time of every ``conda_pipguard`` and ``packaging`` module (conda itself imports
    neither for this command), median over *rounds*; and how many modules that is.
    """
    argv = [sys.executable, "-X", "importtime", "-m", "conda", "config", "--show", "solver"]
    totals, count = [], 0
    for _ in range(max(rounds, 3)):
        err = subprocess.run(
            argv, env=isolated_environ(root), capture_output=True, text=True, check=True
        ).stderr
        ours = [
            int(line.split("|")[0].split(":")[1])
            for line in err.splitlines()
            if line.startswith("import time:")
            and line.rsplit("|", 1)[-1].strip().startswith(("conda_pipguard", "packaging"))
        ]
        totals.append(sum(ours) / 1e6)
        count = len(ours)
    return {"seconds": statistics.median(totals), "modules": count}


def measure_hooks(
    env: genenv.GeneratedEnv, root: Path, rounds: int, with_conda: bool = True
) -> dict[str, float]:
    """In-process medians of the guard's checks, measured in a fresh process."""
    argv = [
        sys.executable,
        str(HERE / "probe.py"),
        str(env.prefix),
        "--rounds",
        str(max(rounds, 3)),
        "--plan",
        json.dumps(env.plan),
        *(() if with_conda else ("--no-conda",)),
    ]
    out = subprocess.run(
        argv, env=isolated_environ(root), capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"hook probe failed: {out.stderr[-2000:]}")
    if "skipped" in out.stderr:  # a hook failed and said so: the timing would be meaningless
        raise RuntimeError(f"a hook failed in the probe: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def fit(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Least-squares slope, intercept and R² of *points* (x, y); NaNs below two points."""
    nan = float("nan")
    if len(points) < 2:
        return nan, nan, nan
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    if not den:
        return nan, nan, nan
    slope = sum((x - mx) * (y - my) for x, y in points) / den
    intercept = my - slope * mx
    total = sum((y - my) ** 2 for _, y in points)
    residual = sum((y - intercept - slope * x) ** 2 for x, y in points)
    return slope, intercept, 1 - residual / total if total else nan


def growth(results: list[dict[str, object]]) -> str:
    """The growth of ``status`` as slopes fitted over the sizes measured."""
    sizes = ", ".join(f"{r['env']['records']:,}" for r in results)
    parts = []
    for measure, unit, digits in (("wall", "s", 3), ("rss", "MB", 1)):
        by_records = fit(
            [(r["env"]["records"], r["processes"]["status"][measure]) for r in results]
        )
        by_files = fit([(r["env"]["files"], r["processes"]["status"][measure]) for r in results])
        parts.append(
            f"{'wall' if measure == 'wall' else 'peak RSS'} {by_records[0] * 1000:.{digits}f} "
            f"{unit} per 1,000 records and {by_files[0] * 10000:.{digits}f} {unit} per 10,000 "
            f"files (intercept {by_records[1]:.{digits}f} {unit}, R² {by_records[2]:.3f})"
        )
    first, last = results[0], results[-1]
    times = last["processes"]["status"]["wall"] / first["processes"]["status"]["wall"]
    size = last["env"]["records"] / first["env"]["records"]
    return (
        f"\nGrowth of `status`, least squares over {sizes} records: "
        + "; ".join(parts)
        + f". {times:.1f}x the time for {size:.0f}x the records."
    )


def mark(ok: bool) -> str:
    """✔ when a target is met, else ✘."""
    return "✔" if ok else "✘"


def report(results: list[dict[str, object]]) -> str:
    """The table, the ratios and the growth, as Markdown."""
    lines = []
    for res in results:
        env, proc, hooks = res["env"], res["processes"], res["hooks"]
        lines.append(
            f"\n### {env['records']:,} records, {env['files']:,} files, "
            f"{env['dist_infos']} dist-infos ({env['pip_only']} pip-only, "
            f"{env['replaced']} replaced by pip)\n"
        )
        lines.append("| | wall (s) | CPU (s) | peak RSS (MB) |\n|---|---:|---:|---:|")
        for name, value in proc.items():
            lines.append(
                f"| `{name}` | {value['wall']:.3f} | {value['cpu']:.3f} | {value['rss']:.0f} |"
            )
        for name, limit in (
            ("pre-command", 0.010),
            ("post-solve", 0.050),
            ("post-solve alone", 0.050),
        ):
            cpu = hooks.get(f"{name} cpu", float("nan"))
            lines.append(
                f"| {name} in-process ({hooks['via']}) | {hooks[name]:.4f} "
                f"(≤ {limit:.3f} {mark(hooks[name] <= limit)}) | {cpu:.4f} "
                f"(≤ {limit:.3f} {mark(cpu <= limit)}) | |"
            )
        wall = {name: value["wall"] for name, value in proc.items()}
        ratios = []
        if {"status", "python -c pass", "parse floor"} <= wall.keys():
            floor = wall["python -c pass"] + wall["parse floor"]
            ratio = wall["status"] / floor
            ratios.append(
                f"status / (startup + parse floor) = {ratio:.2f} (≤ 1.5 {mark(ratio <= 1.5)})"
            )
        if {"status", "pip list --path"} <= wall.keys():
            ratio = wall["status"] / wall["pip list --path"]
            ratios.append(f"status / pip list = {ratio:.2f} (< 1 {mark(ratio < 1)})")
        if {"conda list", "conda pipguard status"} <= wall.keys():
            ratio = wall["conda list"] / wall["conda pipguard status"]
            ratios.append(
                f"conda list / conda pipguard status = {ratio:.2f} (≥ 5 {mark(ratio >= 5)})"
            )
        if "status" in proc:
            rss = proc["status"]["rss"]
            ratios.append(f"status peak RSS = {rss:.0f} MB (≤ 80 {mark(rss <= 80)})")
        lines.append("\nRatios (targets at 1,000 records): " + "; ".join(ratios) + ".")
    if len(results) > 1:
        lines.append(growth(results))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Generate, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,1000,3000,10000", help="Record counts.")
    parser.add_argument("--rounds", type=int, default=5, help="Alternating rounds per size.")
    parser.add_argument("--quick", action="store_true", help="250 records, one round.")
    parser.add_argument("--workdir", type=Path, help="Where generated envs are kept.")
    parser.add_argument("--no-conda", action="store_true", help="Skip the conda measurements.")
    parser.add_argument(
        "--conda",
        action="store_true",
        help="conda commands with/without the plugin at every size (default: full runs, "
        "at 1,000 records only; never in --quick without this flag).",
    )
    parser.add_argument(
        "--without",
        choices=("absent", "blocked"),
        default="absent",
        help="Without the plugin: a venv without its entry point, or CONDA_NO_PLUGINS=true.",
    )
    parser.add_argument(
        "--fleet", default="", help="Env counts for status --all (default 5,25; --quick 2,5)."
    )
    parser.add_argument("--json", type=Path, help="Also write the numbers to this file.")
    parser.add_argument(
        "--skip",
        default="",
        help="Measurements to leave out, comma-separated: 'conda list', 'fleet', 'install', "
        "'no env'.",
    )
    args = parser.parse_args(argv)
    sizes = [250] if args.quick else [int(s) for s in args.sizes.split(",")]
    rounds = 1 if args.quick else args.rounds
    skip = frozenset(args.skip.split(","))
    with_conda = conda_importable() and not args.no_conda
    in_conda = (
        []
        if not with_conda or "install" in skip
        else (sizes if args.conda else [] if args.quick else [s for s in sizes if s == 1000])
    )
    counts = tuple(int(n) for n in (args.fleet or ("2,5" if args.quick else "5,25")).split(","))
    workdir = (args.workdir or Path(tempfile.gettempdir()) / "conda-pipguard-bench").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    out: dict[str, object] = {"sizes": results, "conda": {}, "without": args.without}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            # generated in a child: a measuring process grown by the generator would pass its
            # size on to every child it forks (ru_maxrss counts the pages before exec)
            subprocess.run([sys.executable, genenv.__file__, str(workdir), str(size)], check=True)
            env = genenv.cached(workdir, size)
            results.append(
                {
                    "env": {**env.__dict__, "prefix": str(env.prefix)},
                    "processes": measure_processes(env, Path(tmp), rounds, with_conda, skip),
                    "hooks": measure_hooks(env, Path(tmp), rounds, with_conda),
                }
            )
            print(report(results[-1:]), flush=True)
            if size in in_conda:
                install, imports = inconda.measure_install(
                    env.prefix, size, env.plan[1][0], workdir, Path(tmp), rounds, args.without
                )
                out["conda"][str(size)] = {"runs": install, "imports": imports}
                print(inconda.report(install, None, size, args.without, imports), flush=True)
        if len(results) > 1:
            print(growth(results))
        if "fleet" not in skip:
            small = genenv.cached(workdir, sizes[0])
            fleet_result = fleet.measure_fleet(small.prefix, workdir, Path(tmp), counts, rounds)
            out["fleet"] = fleet_result
            print(fleet.report(fleet_result, small.records), flush=True)
        if with_conda and (args.conda or not args.quick) and "no env" not in skip:
            no_env, imports = inconda.measure_no_env(Path(tmp), max(4 * rounds, 10), args.without)
            out["no_env"] = {"runs": no_env, "imports": imports}
            print(inconda.report(None, no_env, None, args.without, imports), flush=True)
    if with_conda:
        with tempfile.TemporaryDirectory() as tmp:
            out["imports"] = imports = plugin_import_cost(Path(tmp), rounds)
        print(
            f"\nThe plugin's imports on `conda config --show solver`: {imports['modules']} "
            f"modules, {imports['seconds'] * 1000:.1f} ms (-X importtime self times)."
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

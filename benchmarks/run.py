"""What conda-pipguard costs, against baselines anyone can reproduce, from 250 to 10,000 records.

For each size it generates (once, cached under ``--workdir``) a deterministic, realistic env in
conda's record dialect (see ``genenv.py``), then measures whole processes, as medians of
alternating runs (every command once per round, so that a noisy neighbour hits all alike):

* ``python -c pass`` (startup) and the parse floor (``json.load`` of every ``conda-meta/*.json``);
* ``pip list --path <site-packages>`` and ``conda list -p <copy>`` (on a copy of ``conda-meta``
  restored before each run: conda's PyPI loader deletes the records of pip-replaced packages);
* ``conda-pipguard status --json`` and, where conda is importable, ``conda pipguard status --json``;

wall time and peak RSS (``wait4``), and, in a separate process (``probe.py``), the in-process cost
of the guard's pre-command check and of the post-solve impact of a five-package plan (through
conda's hooks when conda is importable, else through the core functions they call).

Run ``python benchmarks/run.py`` (all sizes), ``--sizes 250,1000``, or ``--quick`` (250 records,
one round: a smoke test for CI). ``--json FILE`` also writes the numbers.
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import genenv  # noqa: E402

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


def isolated_environ(home: Path) -> dict[str, str]:
    """This process's environment without pip/uv/conda settings, with an empty HOME and condarc."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "CONDA", "PYTHON", "_CE_"))
    }
    if os.environ.get("PYTHONPATH"):  # to measure another checkout of the plugin
        environ["PYTHONPATH"] = os.environ["PYTHONPATH"]
    condarc = home / ".condarc"
    condarc.touch()
    environ.update(
        HOME=str(home),
        CONDARC=str(condarc),
        CONDA_PKGS_DIRS=str(home / "pkgs"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONNOUSERSITE="1",
    )
    return environ


def run_once(argv: list[str], environ: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of *argv*; raises when it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024


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
    commands = {name: argv for name, argv in commands.items() if name not in skip}
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, argv in commands.items():
            if name == "conda list" and copy is not None:
                restore_meta(env, copy)
            samples[name].append(run_once(argv, environ))
    if copy is not None:
        shutil.rmtree(copy, ignore_errors=True)
    return {
        name: {
            "wall": statistics.median(s[0] for s in values),
            "rss": statistics.median(s[1] for s in values),
        }
        for name, values in samples.items()
    }


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


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of *points* (x, y)."""
    if len(points) < 2:
        return float("nan")
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else float("nan")


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
        lines.append("| | wall (s) | peak RSS (MB) |\n|---|---:|---:|")
        for name, value in proc.items():
            lines.append(f"| `{name}` | {value['wall']:.3f} | {value['rss']:.0f} |")
        for name in ("pre-command", "post-solve", "post-solve alone"):
            lines.append(f"| {name} in-process ({hooks['via']}) | {hooks[name]:.4f} | |")
        wall = {name: value["wall"] for name, value in proc.items()}
        ratios = []
        if {"status", "python -c pass", "parse floor"} <= wall.keys():
            floor = wall["python -c pass"] + wall["parse floor"]
            ratios.append(f"status / (startup + parse floor) = {wall['status'] / floor:.2f}")
        if {"status", "pip list --path"} <= wall.keys():
            ratios.append(f"status / pip list = {wall['status'] / wall['pip list --path']:.2f}")
        if {"conda list", "conda pipguard status"} <= wall.keys():
            ratios.append(
                "conda list / conda pipguard status = "
                f"{wall['conda list'] / wall['conda pipguard status']:.2f}"
            )
        lines.append("\nRatios: " + "; ".join(ratios) + ".")
    if len(results) > 1:
        points = [(r["env"]["records"], r["processes"]["status"]["wall"]) for r in results]
        rss = [(r["env"]["records"], r["processes"]["status"]["rss"]) for r in results]
        files = [(r["env"]["files"], r["processes"]["status"]["wall"]) for r in results]
        first, last = results[0], results[-1]
        growth = last["processes"]["status"]["wall"] / first["processes"]["status"]["wall"]
        size = last["env"]["records"] / first["env"]["records"]
        lines.append(
            f"\nGrowth of `status`: {slope(points) * 1000:.3f} s and "
            f"{slope(rss) * 1000:.1f} MB per 1,000 records "
            f"({slope(files) * 100000:.3f} s per 100,000 files); "
            f"{growth:.1f}x the time for {size:.0f}x the records."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Generate, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,1000,3000,10000", help="Record counts.")
    parser.add_argument("--rounds", type=int, default=5, help="Alternating rounds per size.")
    parser.add_argument("--quick", action="store_true", help="250 records, one round.")
    parser.add_argument("--workdir", type=Path, help="Where generated envs are kept.")
    parser.add_argument("--no-conda", action="store_true", help="Skip the conda measurements.")
    parser.add_argument("--json", type=Path, help="Also write the numbers to this file.")
    parser.add_argument(
        "--skip", default="", help="Measurements to leave out, comma-separated ('conda list')."
    )
    args = parser.parse_args(argv)
    sizes = [250] if args.quick else [int(s) for s in args.sizes.split(",")]
    rounds = 1 if args.quick else args.rounds
    with_conda = conda_importable() and not args.no_conda
    workdir = args.workdir or Path(tempfile.gettempdir()) / "conda-pipguard-bench"
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            # generated in a child: a measuring process grown by the generator would pass its
            # size on to every child it forks (ru_maxrss counts the pages before exec)
            subprocess.run([sys.executable, genenv.__file__, str(workdir), str(size)], check=True)
            env = genenv.cached(workdir, size)
            results.append(
                {
                    "env": {**env.__dict__, "prefix": str(env.prefix)},
                    "processes": measure_processes(
                        env, Path(tmp), rounds, with_conda, frozenset(args.skip.split(","))
                    ),
                    "hooks": measure_hooks(env, Path(tmp), rounds, with_conda),
                }
            )
            print(report(results[-1:]), flush=True)
    if len(results) > 1:
        print(report(results).rsplit("\n", 1)[-1])
    imports = None
    if with_conda:
        with tempfile.TemporaryDirectory() as tmp:
            imports = plugin_import_cost(Path(tmp), rounds)
        print(
            f"\nThe plugin's imports on `conda config --show solver`: {imports['modules']} "
            f"modules, {imports['seconds'] * 1000:.1f} ms (-X importtime self times)."
        )
    if args.json:
        args.json.write_text(json.dumps({"sizes": results, "imports": imports}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

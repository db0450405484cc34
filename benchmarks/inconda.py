"""What the plugin costs inside conda: the same conda command with and without it.

Commands run against a copy of a generated env installed from a local file channel
(``channel.py``), with conda's classic solver, offline, one package cache shared by both sides,
HOME and ``CONDARC`` pointing at an own ``.condarc`` and no ``CONDA_*`` variable from outside:

* ``conda install --dry-run benchpy`` (a new Python package; the solve and the post-solve hook);
* ``conda install -y --force-reinstall benchtiny`` (a real install of a real, tiny package:
  extract, unlink, link; pre-command, post-solve, the transaction hooks);
* the same real install with ``pipguard_mode: off`` (target: costs nothing);
* ``conda config --show solver`` and ``conda info`` (no env: the plugin's import cost).

"Without the plugin" is, by default, conda run from a second virtual environment whose
site-packages holds symbolic links to every entry of this one except conda-pipguard's
dist-info and its editable-install hook: the same conda, the same libraries, and conda-pipguard's
entry point absent. ``--without blocked`` uses this Python with ``CONDA_NO_PLUGINS=true``
instead (conda still imports the entry point, then blocks every external plugin).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
from pathlib import Path

import channel
from processes import alternate, isolated_environ

#: A hooked conda install within 5 % of the same command without the plugin.
INSTALL_RATIO = 1.05
#: pipguard_mode off costs nothing: within 2 % (about the noise of a median here).
OFF_RATIO = 1.02
#: A command that touches no env pays at most 5 ms for the plugin.
NO_ENV_MS = 5.0

#: Medians of alternating runs, by command name.
Runs = dict[str, dict[str, float]]
#: What the plugin adds to a command's imports, by command name (see :func:`added_imports`).
Imports = dict[str, dict[str, object]]


def _import_times(argv: list[str], environ: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Module -> (self, cumulative) microseconds of one run of *argv* under ``-X importtime``."""
    python, *rest = argv
    done = subprocess.run(
        [python, "-X", "importtime", *rest],
        env=environ,
        cwd=environ["HOME"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}")
    times = {}
    for line in done.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if line.startswith("import time:") and len(fields) == 3 and fields[0].strip().isdigit():
            times[fields[2].strip()] = (int(fields[0]), int(fields[1]))
    return times


def added_imports(
    with_: tuple[list[str], dict[str, str]],
    without: tuple[list[str], dict[str, str]],
    rounds: int,
) -> dict[str, object]:
    """The modules a command imports with the plugin and not without it, and their cost.

    The sum of their ``-X importtime`` self times (median over *rounds*): unlike the difference
    of two wall times, it does not drown in the noise of a loaded machine. ``heaviest`` names
    the added module with the largest cumulative time (what pulled the rest in).
    """
    seconds, count, heaviest = [], 0, ("", 0)
    for _ in range(rounds):
        ours, theirs = _import_times(*with_), _import_times(*without)
        added = set(ours) - set(theirs)
        seconds.append(sum(ours[name][0] for name in added) / 1e6)
        count = len(added)
        top = max(added, key=lambda name: ours[name][1], default="")
        heaviest = (top, ours[top][1] if top else 0)
    return {
        "seconds": statistics.median(seconds),
        "modules": count,
        "heaviest": heaviest[0],
        "heaviest_seconds": heaviest[1] / 1e6,
    }


def noplugin_python(root: Path) -> str:
    """The Python of a virtual environment like this one without conda-pipguard (made once)."""
    venv = root / "venv-noplugin"
    python = venv / "bin" / "python"
    done = Path(f"{venv}.complete")
    if done.exists():
        return str(python)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    theirs = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for entry in os.scandir(sysconfig.get_paths()["purelib"]):
        if "pipguard" in entry.name.lower() or entry.name == "__pycache__":
            continue
        os.symlink(entry.path, os.path.join(theirs, entry.name))
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, conda; "
            "print(len([e for e in m.entry_points(group='conda') if 'pipguard' in e.value]))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if check.stdout.strip() != "0":
        raise RuntimeError(f"{venv} still sees conda-pipguard's entry point")
    done.touch()
    return str(python)


def _condarc(root: Path, url: str, mode: str | None) -> str:
    lines = [
        "solver: classic",
        "offline: true",
        f"channels: [{url}]",
        f"pkgs_dirs: [{root / 'pkgs'}]",
        f"envs_dirs: [{root / 'envs'}]",
        "add_pip_as_python_dependency: false",
        "notify_outdated_conda: false",
        "report_errors: false",
    ]
    if mode is not None:
        lines += ["plugins:", f'  pipguard_mode: "{mode}"']
    return "\n".join(lines) + "\n"


def _environs(root: Path, url: str, without: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Python and environment of each side: with, without, and with the mode off."""
    sides: dict[str, tuple[str, dict[str, str]]] = {}
    for side, mode in (("with", None), ("without", None), ("off", "off")):
        environ = isolated_environ(root / f"home-{side}", _condarc(root, url, mode))
        environ["CONDA_PKGS_DIRS"] = str(root / "pkgs")  # one cache for every side
        python = sys.executable
        if side == "without":
            if without == "blocked":
                environ["CONDA_NO_PLUGINS"] = "true"
            else:
                python = noplugin_python(root.parent)
        sides[side] = (python, environ)
    return sides


def measure_install(
    prefix: Path, records: int, needs: str, workdir: Path, scratch: Path, rounds: int, without: str
) -> tuple[Runs, Imports]:
    """Medians of the dry run and the real install, with / without / mode off; added imports.

    Args:
        prefix: The generated env (copied, never changed).
        records: Its size.
        needs: An installed Python package that the dry run's new package requires.
        workdir: Where the channel and the env's copy are kept between runs.
        scratch: A temporary directory for homes and the package cache.
        rounds: Alternating rounds.
        without: ``absent`` (a venv without the plugin) or ``blocked`` (``CONDA_NO_PLUGINS``).
    """
    chan = channel.build_channel(workdir, prefix, records, needs)
    copy = channel.prepared_copy(prefix, chan, workdir / f"conda-{records}")
    url = chan.as_uri()
    root = scratch / f"conda-{records}"
    sides = _environs(root, url, without)
    common = ["-p", str(copy), "--override-channels", "-c", url]

    def install(side: str, *args: str) -> tuple[list[str], dict[str, str]]:
        python, environ = sides[side]
        return [python, "-m", "conda", "install", *common, *args], environ

    if not (copy / "share" / channel.TINY / "README").exists():  # once: the package to reinstall
        subprocess.run(
            install("without", "-y", channel.TINY)[0],
            env=sides["without"][1],
            check=True,
            capture_output=True,
        )
    # one unmeasured round: fills the package cache, and checks that each side is what it says
    for side, speaks in (("with", True), ("without", False), ("off", False)):
        argv, environ = install(side, "-y", "--force-reinstall", channel.TINY)
        done = subprocess.run(
            argv, env=environ, cwd=environ["HOME"], capture_output=True, text=True
        )
        said = any(
            line.startswith("conda-pipguard:") for line in (done.stdout + done.stderr).splitlines()
        )
        if done.returncode != 0 or said != speaks:
            raise RuntimeError(
                f"the install {side} the plugin exited {done.returncode} and the plugin "
                f"{'said nothing' if speaks else 'spoke'}: {done.stderr[-2000:]}"
            )
    commands = {
        "dry run, with": install("with", "--dry-run", channel.NEW),
        "dry run, without": install("without", "--dry-run", channel.NEW),
        "install, with": install("with", "-y", "--force-reinstall", channel.TINY),
        "install, without": install("without", "-y", "--force-reinstall", channel.TINY),
        "install, mode off": install("off", "-y", "--force-reinstall", channel.TINY),
    }
    runs = alternate(commands, rounds)
    imports = {
        name: added_imports(commands[name], commands["install, without"], 1)
        for name in ("install, with", "install, mode off")
    }
    return runs, imports


def measure_no_env(scratch: Path, rounds: int, without: str) -> tuple[Runs, Imports]:
    """Medians of ``conda config --show solver`` and ``conda info``, with and without."""
    root = scratch / "no-env"
    sides = _environs(root, "file:///nonexistent", without)
    commands = {}
    for label, args in (("config", ["config", "--show", "solver"]), ("info", ["info"])):
        for side in ("with", "without"):
            python, environ = sides[side]
            commands[f"{label}, {side}"] = ([python, "-m", "conda", *args], environ)
    runs = alternate(commands, rounds)
    imports = {
        f"{label}, with": added_imports(
            commands[f"{label}, with"], commands[f"{label}, without"], 3
        )
        for label in ("config", "info")
    }
    return runs, imports


def _mark(ok: bool) -> str:
    return "✔" if ok else "✘"


def report(
    install: Runs | None,
    no_env: Runs | None,
    records: int | None,
    without: str,
    imports: Imports | None = None,
) -> str:
    """The with/without table as Markdown."""
    how = (
        "a venv without the plugin's entry point"
        if without == "absent"
        else "`CONDA_NO_PLUGINS=true`"
    )
    lines = [
        f"\n### Inside conda{f' ({records:,} records)' if records else ''}: "
        f"with the plugin vs without ({how})\n",
        "| | wall with / without (s) | ratio | diff | CPU with / without (s) | ratio | diff "
        "| RSS with / without (MB) | target: wall, CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    rows = []
    if install:
        rows += [
            (
                "`conda install --dry-run benchpy`",
                "dry run, with",
                "dry run, without",
                INSTALL_RATIO,
            ),
            (
                "`conda install -y --force-reinstall benchtiny`",
                "install, with",
                "install, without",
                INSTALL_RATIO,
            ),
            ("the same, `pipguard_mode: off`", "install, mode off", "install, without", OFF_RATIO),
        ]
    if no_env:
        rows += [
            ("`conda config --show solver`", "config, with", "config, without", None),
            ("`conda info`", "info, with", "info, without", None),
        ]
    data = {**(install or {}), **(no_env or {})}
    for label, with_, without_, ratio_target in rows:
        a, b = data[with_], data[without_]
        cells, marks = [], []
        for measure in ("wall", "cpu"):
            ratio = a[measure] / b[measure]
            diff_ms = (a[measure] - b[measure]) * 1000
            cells.append(f"{a[measure]:.3f} / {b[measure]:.3f} | {ratio:.3f} | {diff_ms:+.0f} ms")
            ok = ratio <= ratio_target if ratio_target is not None else diff_ms <= NO_ENV_MS
            marks.append(_mark(ok))
        target = f"≤ {ratio_target:.2f}x" if ratio_target is not None else f"≤ +{NO_ENV_MS:.0f} ms"
        lines.append(
            f"| {label} | {cells[0]} | {cells[1]} | {a['rss']:.0f} / {b['rss']:.0f} "
            f"| {target}: {' '.join(marks)} |"
        )
    for name, added in (imports or {}).items():
        ms = added["seconds"] * 1000
        lines.append(
            f"\n`{name}`: the plugin adds {added['modules']} imported modules, {ms:.1f} ms "
            f"(-X importtime self times; heaviest: `{added['heaviest']}`, "
            f"{added['heaviest_seconds'] * 1000:.1f} ms cumulative)"
            + (
                ""
                if name == "install, with"
                else f" (≤ {NO_ENV_MS:.0f} ms {_mark(ms <= NO_ENV_MS)})"
            )
            + "."
        )
    return "\n".join(lines)

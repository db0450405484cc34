"""Running whole processes for the benchmark: an isolated environment, wall and peak RSS, medians.

Every measurement runs its commands in alternating rounds (each command once per round, the
order reversed every other round), so that a noisy neighbour on the machine and any warm-cache
advantage of going second hit every side alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


def isolated_environ(home: Path, condarc: str = "") -> dict[str, str]:
    """This process's environment without pip/uv/conda settings, with an empty HOME.

    conda reads only ``home/.condarc`` (written from *condarc*, empty by default): HOME hides
    ``~/.condarc`` and ``~/.config/conda``, ``CONDARC`` names the file, and no ``CONDA_*``
    variable is passed on.
    """
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "CONDA", "PYTHON", "_CE_", "MAMBA", "XDG_"))
    }
    if os.environ.get("PYTHONPATH"):  # to measure another checkout of the plugin
        environ["PYTHONPATH"] = os.environ["PYTHONPATH"]
    home.mkdir(parents=True, exist_ok=True)
    rc = home / ".condarc"
    rc.write_text(condarc)
    environ.update(
        HOME=str(home),
        CONDARC=str(rc),
        CONDA_PKGS_DIRS=str(home / "pkgs"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONNOUSERSITE="1",
    )
    return environ


def run_once(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system) of one run of *argv*.

    Raises:
        RuntimeError: The command failed.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        env=dict(environ),
        cwd=environ.get("HOME"),  # not a checkout: ``-m`` puts the working directory on sys.path
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # read stderr while waiting: a chatty child must not block on a full pipe
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


#: A named command: its argv and its environment.
Command = tuple[Sequence[str], Mapping[str, str]]


def alternate(
    commands: Mapping[str, Command],
    rounds: int,
    before: Callable[[str], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Median wall, peak RSS and CPU time of every command over *rounds* alternating rounds.

    Args:
        commands: Name -> (argv, environ).
        rounds: How many times each command runs.
        before: Called with a command's name before each of its runs (e.g. to restore state).
    """
    names = list(commands)
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            if before is not None:
                before(name)
            samples[name].append(run_once(*commands[name]))
    return {
        name: {
            "wall": statistics.median(s[0] for s in values),
            "rss": statistics.median(s[1] for s in values),
            "cpu": statistics.median(s[2] for s in values),
        }
        for name, values in samples.items()
    }

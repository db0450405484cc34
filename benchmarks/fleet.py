"""``status --all`` over few and many envs: is its peak memory flat in the number of envs?

The envs are copies of one generated env (hard-linked files, so they cost little disk; distinct
directories, since ``--all`` counts an env once per real path), registered in the
``~/.conda/environments.txt`` of a HOME of their own, which is how the standalone command finds
every env (``core/disk/locate.py``) when no ``CONDA_*`` variable names a root.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from processes import alternate, isolated_environ

#: Peak RSS over many envs at most this much above that over few ("flat").
FLAT_RATIO = 1.10


def fleet_copies(prefix: Path, workdir: Path, count: int) -> list[Path]:
    """*count* copies of *prefix* under *workdir* (made once, hard links)."""
    copies = []
    for index in range(count):
        dest = workdir / f"fleet-{prefix.name}" / f"env{index:03d}"
        done = Path(f"{dest}.complete")
        if not done.exists():
            subprocess.run(["rm", "-rf", str(dest)], check=True)
            dest.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-al", str(prefix), str(dest)], check=True)
            done.touch()
        copies.append(dest)
    return copies


def measure_fleet(
    prefix: Path, workdir: Path, scratch: Path, counts: tuple[int, int], rounds: int
) -> dict[str, dict[str, float]]:
    """Medians of ``conda-pipguard status --all --json`` over each count of envs."""
    copies = fleet_copies(prefix, workdir, max(counts))
    commands = {}
    for count in counts:
        environ = isolated_environ(scratch / f"fleet-{count}")
        registry = Path(environ["HOME"]) / ".conda" / "environments.txt"
        registry.parent.mkdir(parents=True, exist_ok=True)
        registry.write_text("".join(f"{copy}\n" for copy in copies[:count]))
        argv = [sys.executable, "-m", "conda_pipguard", "status", "--all", "--json"]
        commands[str(count)] = (argv, environ)
    return alternate(commands, rounds)


def report(result: dict[str, dict[str, float]], records: int) -> str:
    """One line per count and the verdict."""
    (few, a), (many, b) = sorted(result.items(), key=lambda item: int(item[0]))
    ratio = b["rss"] / a["rss"]
    mark = "✔" if ratio <= FLAT_RATIO else "✘"
    return (
        f"\n`status --all --json` over {few} vs {many} envs of {records:,} records: "
        f"peak RSS {a['rss']:.0f} vs {b['rss']:.0f} MB (x{ratio:.2f}; flat: ≤ x{FLAT_RATIO:.2f} "
        f"{mark}); wall {a['wall']:.2f} vs {b['wall']:.2f} s "
        f"({a['wall'] / int(few):.3f} vs {b['wall'] / int(many):.3f} s per env)."
    )

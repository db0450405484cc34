"""In-process cost of the guard's checks on one env; run by ``run.py`` in a fresh process.

``python benchmarks/probe.py PREFIX --plan JSON [--rounds N] [--no-conda]`` prints JSON: the
median seconds of the pre-command check (the env's one look), of the post-solve impact of the
plan right after it (sharing that look, as in a conda command) and of the post-solve alone,
wall time and, under the same names with `` cpu``, this process's CPU time (steadier on a
shared machine). Through conda's hooks when conda is importable, else through the core
functions they call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def probe(
    prefix: str, plan: list[list[str]], rounds: int, with_conda: bool = True
) -> dict[str, float]:
    """Time the pre-command check and the post-solve impact inside this process."""
    from types import SimpleNamespace

    unlink = [SimpleNamespace(name=n, version=v, build=b, noarch=None) for n, v, b in plan]
    link = [SimpleNamespace(name=n, version="99.0", build=b, noarch=None) for n, v, b in plan]
    try:
        if not with_conda:
            raise ImportError("--no-conda")
        from argparse import Namespace

        from conda.base.context import reset_context

        reset_context((), argparse_args=Namespace(prefix=prefix, json=False, quiet=False))
        from conda_pipguard.guard import hooks

        def pre() -> None:
            hooks.pre_command("install")

        def post() -> None:
            hooks.post_solve("repodata.json", unlink, link)

        try:
            from conda_pipguard.guard.session import current

            def forget() -> None:
                current().glances.clear()

        except ImportError:  # before the command's session existed
            try:
                from conda_pipguard.guard.envcache import forget
            except ImportError:  # before the shared read existed

                def forget() -> None:
                    pass

        via = "conda hooks"
    except ImportError:
        from conda_pipguard.core.model.glance import glance
        from conda_pipguard.core.rules.impact import PipLayer, PlannedPackage, impact

        shared: dict[str, object] = {}

        def look():
            if "glance" not in shared:
                shared["glance"] = glance(prefix)
            return shared["glance"]

        def pre() -> None:
            look().risk_line()

        def post() -> None:
            seen = look()
            layer = PipLayer(seen.env, seen.records_for(p[0] for p in plan), seen.foreign)
            impact(
                seen.env,
                [PlannedPackage(*p) for p in plan],
                [PlannedPackage(p[0], "99.0", p[2]) for p in plan],
                layer=layer,
            )

        def forget() -> None:
            shared.clear()

        via = "core functions"
    names = ("pre-command", "post-solve", "post-solve alone")
    samples: dict[str, list[float]] = {key: [] for n in names for key in (n, f"{n} cpu")}
    for _ in range(rounds):
        forget()
        marks = [(time.perf_counter(), time.process_time())]
        pre()
        marks.append((time.perf_counter(), time.process_time()))
        post()
        marks.append((time.perf_counter(), time.process_time()))
        forget()
        marks.append((time.perf_counter(), time.process_time()))
        post()
        marks.append((time.perf_counter(), time.process_time()))
        for name, (start, end) in zip(names, ((0, 1), (1, 2), (3, 4)), strict=True):
            samples[name].append(marks[end][0] - marks[start][0])
            samples[f"{name} cpu"].append(marks[end][1] - marks[start][1])
    result: dict[str, object] = {k: statistics.median(v) for k, v in samples.items()}
    result["via"] = via
    return result  # type: ignore[return-value]


def main() -> int:
    """Parse the arguments, print the medians as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefix")
    parser.add_argument("--plan", required=True, help="[[name, version, build], ...]")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-conda", action="store_true", help="Time the core functions.")
    args = parser.parse_args()
    result = probe(args.prefix, json.loads(args.plan), args.rounds, not args.no_conda)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

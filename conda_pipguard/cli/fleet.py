"""``status`` over many environments: one at a time or in worker processes, each on its own.

Every environment is read, diagnosed and rendered inside one call of :func:`examine`, which keeps
only the rendered text, the JSON object and a summary row (:class:`~.envreport.EnvReport`): the
diagnosis (records with their file lists, distributions with their RECORDs) is let go before the
next environment is read, so memory stays flat over a fleet. The same function runs in-process
(``--jobs 1``) and in a worker process (``--jobs N``), so the results are the same either way, in
the order the environments were given.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence

from ..core.diagnosis import diagnose
from ..core.errors import NotACondaEnvironment
from ..core.printable import printable, printable_lines
from .envreport import EnvReport, Options, matcher_for, report_of


def _unexamined(prefix: str, name: str | None, verdict: str, reason: str) -> EnvReport:
    """The report of an env that was ``skipped`` (not an environment) or an ``error``."""
    title = f"{name} ({prefix})" if name else prefix
    said = "skipped" if verdict == "skipped" else "error: could not be diagnosed"
    return EnvReport(
        prefix,
        name,
        {"prefix": prefix, "name": name, verdict: reason},
        printable(f"{title}: {said}: {reason}"),
        verdict,
        problem=reason,
    )


def _failure(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"[:500]


def examine(prefix: str, name: str | None, options: Options) -> EnvReport:
    """Diagnose one env of a fleet; a failure is that env's report, never an exception."""
    try:
        diagnosis = diagnose(prefix, name, matcher=matcher_for(options))
    except NotACondaEnvironment as err:
        return _unexamined(prefix, name, "skipped", str(err))
    except Exception as err:  # noqa: BLE001 - one bad env must not stop the fleet
        return _unexamined(prefix, name, "error", _failure(err))
    try:
        return report_of(diagnosis, options)
    except Exception as err:  # noqa: BLE001 - same: report it as this env's failure
        return _unexamined(prefix, name, "error", _failure(err))


def _examine_args(args: tuple[str, str | None, Options]) -> EnvReport:
    return examine(*args)


def examine_all(
    targets: Sequence[tuple[str, str | None]], options: Options, *, jobs: int = 1
) -> Iterator[EnvReport]:
    """Examine *targets* in order, in *jobs* worker processes (in this one when 1)."""
    work = [(prefix, name, options) for prefix, name in targets]
    if jobs <= 1 or len(work) <= 1:
        yield from map(_examine_args, work)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a clean interpreter per worker, the same on every platform, no inherited locks.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(work)), mp_context=context) as pool:
        yield from pool.map(_examine_args, work, chunksize=1)


def default_jobs() -> int:
    """What ``--jobs 0`` means: one worker per CPU."""
    return os.cpu_count() or 1


def summary_table(reports: Iterable[EnvReport]) -> str:
    """One row per environment: env, verdict, errors, warnings, lock; then the tally."""
    reports = list(reports)
    rows = [("env", "verdict", "errors", "warnings", "lock")]
    for report in reports:
        env = printable(report.name or report.prefix)  # escaped before the widths are taken
        if report.failed or report.skipped:
            rows.append((env, report.verdict, "-", "-", "-"))
        else:
            rows.append(
                (env, report.verdict, str(report.errors), str(report.warnings), report.lock)
            )
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if column in (2, 3) else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    tally: dict[str, int] = {}
    for report in reports:
        tally[report.verdict] = tally.get(report.verdict, 0) + 1
    summary = ", ".join(f"{count} {verdict}" for verdict, count in sorted(tally.items()))
    noun = "environment" if len(reports) == 1 else "environments"
    lines.append(f"{len(reports)} {noun}: {summary or 'none'}")
    return printable_lines(lines)

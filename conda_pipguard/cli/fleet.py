"""``status`` over many environments: one at a time or in worker processes, each on its own.

Every environment is read, diagnosed and rendered inside one call of :func:`examine`, which keeps
only the rendered text, the JSON object and a summary row: the diagnosis (records with their file
lists, distributions with their RECORDs) is let go before the next environment is read, so memory
stays flat over a fleet. The same function runs in-process (``--jobs 1``) and in a worker process
(``--jobs N``), so the results are the same either way, in the order the environments were given.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.diagnosis import Diagnosis, diagnose
from ..core.errors import NotACondaEnvironment
from ..core.rules.findings import agree, count_of, sort_findings
from ..core.rules.kinds import Severity
from ..core.rules.versionspec import Matcher


@dataclass(frozen=True)
class Options:
    """How to examine each environment (picklable, sent to the workers).

    Attributes:
        matcher_factory: The host's version matcher factory (a module-level function, so that
            it pickles); None: the core's own matching.
        colour: Paint the text.
        verify: Run ``--verify``'s import checks.
        verify_timeout: Seconds allowed per package import.
    """

    matcher_factory: Callable[[], Matcher | None] | None = None
    colour: bool = False
    verify: bool = False
    verify_timeout: float = 20.0


@dataclass(frozen=True)
class EnvReport:
    """What ``status`` keeps of one environment.

    Attributes:
        prefix: Absolute path, as given.
        name: The env's name, when known.
        data: The JSON object (the contract's, or ``{"prefix", "name", "error"}``).
        text: The text block.
        verdict: The verdict, ``error`` when the env could not be diagnosed, ``skipped`` when
            it is not an environment.
        errors: Error findings.
        warnings: Warning findings.
        lock: The pip lock state ('' when unknown).
        worst: The worst severity, or None.
        problem: Why the env could not be diagnosed (or was skipped), '' otherwise.
    """

    prefix: str
    name: str | None
    data: dict[str, Any]
    text: str
    verdict: str
    errors: int = 0
    warnings: int = 0
    lock: str = ""
    worst: int | None = None
    problem: str = ""

    @property
    def failed(self) -> bool:
        """The environment exists but could not be diagnosed."""
        return self.verdict == "error"

    @property
    def skipped(self) -> bool:
        """The prefix conda lists is not an environment."""
        return self.verdict == "skipped"


def with_verification(diagnosis: Diagnosis, timeout: float) -> tuple[Diagnosis, dict[str, Any]]:
    """Run ``--verify`` on *diagnosis*: its findings gain ``import-fails``; the JSON summary."""
    from ..core.incident.verify import verify_imports

    result = verify_imports(diagnosis.env, diagnosis.analysis.findings, timeout=timeout)
    findings = tuple(sort_findings([*diagnosis.analysis.findings, *result.findings]))
    analysis = dataclasses.replace(diagnosis.analysis, findings=findings)
    return dataclasses.replace(diagnosis, analysis=analysis), result.to_dict()


def matcher_for(options: Options) -> Matcher | None:
    """The version matcher the host provides (conda's ``MatchSpec`` inside conda), or None."""
    return options.matcher_factory() if options.matcher_factory else None


def report_of(diagnosis: Diagnosis, options: Options) -> EnvReport:
    """Render one diagnosis (with ``--verify`` when asked) into what ``status`` prints."""
    from ..core.report import render_text

    data: dict[str, Any]
    verify: dict[str, Any] | None = None
    if options.verify:
        diagnosis, verify = with_verification(diagnosis, options.verify_timeout)
    data = diagnosis.to_dict()
    text = render_text(diagnosis, colour=options.colour)
    if verify is not None:
        data["verify"] = verify
        text += "\n" + verify_line(verify)
    levels = [finding.level for finding in diagnosis.analysis.findings]
    return EnvReport(
        prefix=str(diagnosis.env.prefix),
        name=diagnosis.env.name,
        data=data,
        text=text,
        verdict=diagnosis.verdict,
        errors=levels.count(Severity.ERROR),
        warnings=levels.count(Severity.WARNING),
        lock=diagnosis.marker.state,
        worst=int(max(levels)) if levels else None,
    )


def verify_line(verify: dict[str, Any]) -> str:
    """One line saying what ``--verify`` did, then one per package whose code is not conda's.

    ``numpy 2.1.3 loads from lib/.../numpy/__init__.py (pip's numpy 2.1.3), not conda's numpy
    1.26.4``: what the env's Python loaded, not what the record says.
    """
    if not verify.get("ran"):
        return f"  verify: not run ({verify.get('reason', 'nothing to check')})"
    packages, failed = verify["packages"], verify["failed"]
    if not packages:
        return "  verify: no conda package is involved in a finding; nothing imported"
    involved = f"the {count_of(packages, 'conda package')} involved"
    if failed:
        line = f"  verify: {failed} of {involved} {agree(failed, 'fails', 'fail')} to import"
    else:
        line = f"  verify: {involved} {agree(packages, 'imports', 'import')}; results not checked"
    for check in verify.get("checks", ()):
        loads, package, version = check.get("loads"), check["package"], check["version"]
        if loads and (
            loads["version"] not in (None, version)
            or not loads["owner"].startswith(f"conda's {package} ")
        ):
            line += (
                f"\n  verify: {loads['module']} {loads['version'] or '(no __version__)'} loads "
                f"from {loads['file']} ({loads['owner']}), not conda's {package} {version}"
            )
    return line


def _unexamined(prefix: str, name: str | None, verdict: str, reason: str) -> EnvReport:
    """The report of an env that was ``skipped`` (not an environment) or an ``error``."""
    title = f"{name} ({prefix})" if name else prefix
    said = "skipped" if verdict == "skipped" else "error: could not be diagnosed"
    return EnvReport(
        prefix,
        name,
        {"prefix": prefix, "name": name, verdict: reason},
        f"{title}: {said}: {reason}",
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
        env = report.name or report.prefix
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
    return "\n".join(lines)

"""One environment's report, as ``status`` prints it: the text, the JSON object, a summary row.

Used by plain ``status`` and, once per environment, by ``status --all`` (:mod:`.fleet`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.diagnosis import Diagnosis
from ..core.plurals import agree, count_of
from ..core.printable import printable_lines
from ..core.rules.findings import sort_findings
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
        text += "\n" + printable_lines(verify_line(verify).split("\n"))
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

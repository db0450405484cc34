"""``status --verify``: does a conda package that a finding involves still import?

Opt-in, never from a hook: it runs the environment's own Python. Each package (its top-level
modules, their subpackages and its extension modules: :mod:`.probe`) is imported in a
fresh interpreter of the env, isolated (``-I``: no user site, no ``PYTHON*`` variables, no
current directory on the path), with ``-B`` so that no byte code is written, a scratch directory
as working directory and ``HOME``, and a timeout after which the interpreter and its children are
killed (its descendants too, also those that left its session) and at most 1 MiB of its stderr
read (:mod:`..bounded_run`). A failure becomes an ``import-fails`` finding with the exception's
last line; a success claims no more than that the import works. What the interpreter loaded is
reported too: the version and file of each package's top-level module, and whose file that is.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..bounded_run import run_bounded
from ..disk.environment import Environment
from ..disk.records import CondaRecord
from ..rules.findings import Finding
from ..rules.kinds import Severity, Verify
from ..rules.versionspec import split_depends
from .probe import PROBE_SCRIPT, Loaded, Probing, failure_note, modules_to_import

#: At most this many top-level modules are imported per package.
MAX_MODULES = 8
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXTENSION = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\.[^.]+)?\.(?:so|pyd)$")

#: Imports the modules named on the command line (see :mod:`.probe`).
_SCRIPT = PROBE_SCRIPT


@dataclass(frozen=True)
class ImportCheck:
    """The import of one conda package's top-level modules.

    Attributes:
        package: conda package name.
        version: Its version.
        modules: The modules imported.
        error: The exception's last line ('' when every module imported).
        module: The module that failed.
        timed_out: The import did not finish in time.
        failures: ``(module, error)`` of every module that failed, the reported one among them.
        loads: What the env's Python loaded for the package's first top-level module.
        needs: The conda packages it depends on that are checked too.
    """

    package: str
    version: str
    modules: tuple[str, ...]
    error: str = ""
    module: str = ""
    timed_out: bool = False
    failures: tuple[tuple[str, str], ...] = ()
    loads: Loaded | None = None
    needs: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Every module imported."""
        return not self.error

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "package": self.package,
            "version": self.version,
            "modules": list(self.modules),
            "imports": self.ok,
            "timed_out": self.timed_out,
            "error": self.error or None,
            "module": self.module or None,
            "failures": [{"module": m, "error": e} for m, e in self.failures],
            "loads": self.loads.to_dict() if self.loads else None,
        }


@dataclass(frozen=True)
class Verification:
    """What ``--verify`` did.

    Attributes:
        ran: False when nothing could be run (the env has no Python).
        checks: One per package imported.
        reason: Why it did not run.
        target_flag: ``-n NAME``/``-p PATH`` for the fix line.
    """

    ran: bool
    checks: tuple[ImportCheck, ...] = ()
    reason: str = ""
    target_flag: str = ""

    @property
    def findings(self) -> list[Finding]:
        """One ``import-fails`` finding per package that does not import."""
        return [self._finding(check) for check in self.checks if not check.ok]

    def _finding(self, check: ImportCheck) -> Finding:
        return Finding(
            "import-fails",
            f"conda's {check.package} {check.version} fails to import in the env's Python: "
            f"import {check.module}: {check.error}{failure_note(check, self.checks)}",
            f"conda pipguard fix {self.target_flag}".rstrip(),
            severity=Severity.ERROR,
            conda_package=check.package,
            conda_version=check.version,
            details={
                "module": check.module,
                "error": check.error,
                "timed_out": check.timed_out,
                "failed_modules": [module for module, _ in check.failures],
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``verify`` object of ``status --json``."""
        data: dict[str, Any] = {
            "ran": self.ran,
            "packages": len(self.checks),
            "failed": sum(not check.ok for check in self.checks),
            "checks": [check.to_dict() for check in self.checks],
        }
        if self.reason:
            data["reason"] = self.reason
        return data


def involved_records(env: Environment, findings: Iterable[Finding]) -> list[CondaRecord]:
    """The conda packages findings name, and the conda dependents of those another copy replaced.

    Only records still in ``conda-meta`` count: without one, the modules cannot be known.
    """
    by_name = env.records_by_name
    named: list[str] = []
    replaced: set[str] = set()
    for finding in findings:
        verify = finding.row.verify
        if finding.level < Severity.WARNING or not finding.conda_package or verify is Verify.NONE:
            continue
        named.append(finding.conda_package)
        if verify is Verify.DEPENDENTS:
            replaced.add(finding.conda_package)
    for record in env.records:
        if any(split_depends(entry)[0] in replaced for entry in record.depends):
            named.append(record.name)
    return [by_name[name] for name in dict.fromkeys(named) if name in by_name]


def top_level_modules(env: Environment, record: CondaRecord) -> tuple[str, ...]:
    """The importable top-level modules a record installs into the env's site-packages."""
    if env.python is None:
        return ()
    site = env.python.site_packages.rstrip("/") + "/"
    found: dict[str, None] = {}
    for file in record.files:
        if not file.path.startswith(site):
            continue
        head, _, rest = file.path[len(site) :].partition("/")
        if rest:  # a package: its __init__ makes it importable
            if rest != "__init__.py" and not (
                rest.startswith("__init__.") and _EXTENSION.match(rest)
            ):
                continue
            name = head
        elif head.endswith(".py"):
            name = head[:-3]
        elif match := _EXTENSION.match(head):
            name = match.group("name")
        else:
            continue
        if _IDENTIFIER.match(name) and name != "__pycache__":
            found[name] = None
    public = [name for name in found if not name.startswith("_")]
    return tuple((public or list(found))[:MAX_MODULES])


def _interpreter(env: Environment) -> Path | None:
    for candidate in (env.prefix / "bin" / "python", env.prefix / "python.exe"):
        if candidate.exists():
            return candidate
    return None


def _environ(scratch: str) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "PIP_", "UV_")) and key != "VIRTUAL_ENV"
    }
    environ.update(
        {
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "HOME": scratch,
            "USERPROFILE": scratch,
            "XDG_CACHE_HOME": scratch,
            "XDG_CONFIG_HOME": scratch,
            "MPLCONFIGDIR": scratch,
        }
    )
    return environ


def import_check(
    python: Path, record: CondaRecord, modules: Sequence[str], *, timeout: float, scratch: str
) -> ImportCheck:
    """Import *modules* in a fresh isolated interpreter; cut it off after *timeout* seconds.

    It ends within the timeout plus a second or two whatever the env's Python does, keeps at
    most :data:`~.bounded_run.OUTPUT_LIMIT` bytes of its stderr, and leaves no process behind
    (:func:`~.bounded_run.run_bounded`).
    """
    command = [str(python), "-I", "-B", "-c", _SCRIPT, *modules]
    try:
        result = run_bounded(command, timeout=timeout, env=_environ(scratch), cwd=scratch)
    except OSError as err:
        error = f"the interpreter could not be started: {err.strerror or err}"
        return ImportCheck(record.name, record.version, tuple(modules), error, modules[0])
    if result.timed_out:
        return ImportCheck(
            record.name,
            record.version,
            tuple(modules),
            f"did not finish within {timeout:g} s and was stopped",
            modules[0] if len(modules) == 1 else ", ".join(modules),
            timed_out=True,
        )
    if result.returncode == 0:
        return ImportCheck(record.name, record.version, tuple(modules))
    lines = result.stderr.splitlines()
    for line in reversed(lines):
        if line.startswith("pipguard-verify\t") and line.count("\t") >= 2:
            _, module, error = line.split("\t", 2)
            return ImportCheck(record.name, record.version, tuple(modules), error[:300], module)
    last = next((line for line in reversed(lines) if line.strip()), "")
    error = last.strip()[:300] or f"the interpreter exited with code {result.returncode}"
    return ImportCheck(record.name, record.version, tuple(modules), error, modules[0])


def verify_imports(
    env: Environment, findings: Iterable[Finding], *, timeout: float = 20.0
) -> Verification:
    """Import every conda package *findings* involve, one fresh interpreter per package."""
    findings = list(findings)
    python = _interpreter(env)
    if python is None:
        return Verification(False, reason="the env has no Python", target_flag=env.target_flag)
    checks = []
    records = involved_records(env, findings)
    probing = Probing(env, findings, records)
    with tempfile.TemporaryDirectory(prefix="pipguard-verify-") as scratch:
        for record in records:
            top = top_level_modules(env, record)
            modules = modules_to_import(env, record, top)
            if modules:
                check = import_check(python, record, modules, timeout=timeout, scratch=scratch)
                checks.append(replace(check, **probing.judge(check, record, top, scratch)))
    return Verification(True, tuple(checks), target_flag=env.target_flag)

"""Environment -> findings. Ownership is decided by files, never by names or ``INSTALLER``.

A distribution on disk belongs to conda when its metadata directory is among the files of a conda
record *and* the metadata files conda recorded hashes for are still the ones conda linked; pip
reinstalling a package over conda's copy rewrites ``INSTALLER`` and ``RECORD``, so a same-version
``--force-reinstall`` is caught too. Everything else is *non-conda*, whatever its ``INSTALLER``.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import InvalidMarker, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .distributions import Distribution
from .environment import Environment
from .findings import Finding, PathCounts, Severity, sort_findings, verdict
from .history import HistoryDist
from .records import CondaRecord, RecordFile
from .versionspec import Matcher, match_depends, split_depends

#: Metadata files whose change shows that another installer reinstalled a distribution.
_SIGNATURE_FILES = ("INSTALLER", "RECORD", "METADATA", "PKG-INFO")
_BYTECODE = (".pyc", ".pyo")


def sha256_file(path: Path) -> str | None:
    """Hex SHA-256 of a file; None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def dist_dir_of(path: str) -> str | None:
    """The dist-info/egg-info directory (or egg-info file) a prefix-relative path lies in."""
    for marker in (".dist-info", ".egg-info"):
        index = path.find(marker)
        if index != -1:
            end = index + len(marker)
            if end == len(path) or path[end] == "/":
                return path[:end]
    return None


def project_key(dist_dir: str) -> str:
    """The canonical project name a dist-info/egg-info path spells."""
    stem = dist_dir.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return canonicalize_name(stem.split("-", 1)[0])


def _countable(file: RecordFile) -> bool:
    return file.path_type not in ("pyc_file", "directory") and not file.path.endswith(_BYTECODE)


@dataclass(frozen=True)
class Ownership:
    """Which conda record owns which file and which Python project.

    Attributes:
        file_owner: Prefix-relative path -> the record that linked it.
        dist_dir_owner: Metadata directory -> the record that linked it.
        provides: Canonical project name -> records that linked metadata of that project.
    """

    file_owner: dict[str, CondaRecord]
    dist_dir_owner: dict[str, CondaRecord]
    provides: dict[str, list[CondaRecord]]

    @classmethod
    def of(cls, records: Iterable[CondaRecord]) -> Ownership:
        """Index the files of *records*."""
        file_owner: dict[str, CondaRecord] = {}
        dist_dir_owner: dict[str, CondaRecord] = {}
        provides: dict[str, list[CondaRecord]] = defaultdict(list)
        for record in records:
            for file in record.files:
                file_owner[file.path] = record
                dist_dir = dist_dir_of(file.path)
                if dist_dir is not None and dist_dir not in dist_dir_owner:
                    dist_dir_owner[dist_dir] = record
                    key = project_key(dist_dir)
                    if record not in provides[key]:
                        provides[key].append(record)
        return cls(file_owner, dist_dir_owner, dict(provides))


def is_intact(prefix: Path, dist: Distribution, owner: CondaRecord) -> bool:
    """Whether the metadata conda linked for *dist* is still conda's.

    Compares the recorded hashes of INSTALLER/RECORD/METADATA; for a record without hashes,
    a RECORD that lists files the record does not own means another installer wrote it.
    """
    inside = [f for f in owner.files if f.path.startswith(f"{dist.path}/") or f.path == dist.path]
    hashed = [f for f in inside if f.sha256 and f.path.rsplit("/", 1)[-1] in _SIGNATURE_FILES]
    if hashed:
        return all(sha256_file(prefix / f.path) == f.sha256 for f in hashed)
    if dist.files is None:
        return True
    owned = {f.path for f in owner.files}
    return all(entry.path in owned or entry.path.endswith(_BYTECODE) for entry in dist.files)


class FixCommands:
    """Spell the commands that fix an environment, for the user to copy."""

    def __init__(self, env: Environment) -> None:
        self.target = env.target_flag
        executable = env.python.executable if env.python else "bin/python"
        self.python = shlex.quote(str(env.prefix / executable))

    def pip(self, *args: str) -> str:
        """``<env python> -m pip ARGS``."""
        return " ".join((self.python, "-m", "pip", *(shlex.quote(a) for a in args)))

    def conda(self, verb: str, *args: str) -> str:
        """``conda VERB <target> ARGS``."""
        return " ".join(("conda", verb, self.target, *(shlex.quote(a) for a in args)))

    def reinstall(self, name: str, version: str, build: str | None = None) -> str:
        """Force conda to relink its own copy of a package."""
        spec = f"{name}={version}={build}" if build else f"{name}={version}"
        return self.conda("install", "--force-reinstall", spec)


@dataclass
class _Context:
    env: Environment
    owners: Ownership
    fixes: FixCommands
    matcher: Matcher
    conda_dists: list[Distribution] = field(default_factory=list)
    foreign: list[Distribution] = field(default_factory=list)
    # conda package name -> (the non-conda distribution that replaced its Python code, the
    # command that restores conda's copy)
    replaced: dict[str, tuple[Distribution, str]] = field(default_factory=dict)
    involved: set[str] = field(default_factory=set)  # records explained by a finding


def _installer(dist: Distribution) -> str:
    return dist.installer or "unknown installer"


def label(dist: Distribution) -> str:
    """``name version (installer)``, how every message names a distribution."""
    return f"{dist.name} {dist.version} ({_installer(dist)})"


def _count_paths(prefix: Path, record: CondaRecord, touched: set[str] | None) -> PathCounts:
    overwritten = deleted = identical = 0
    for file in record.files:
        if not _countable(file):
            continue
        if not os.path.lexists(prefix / file.path):
            deleted += 1
        elif file.sha256 and (touched is None or file.path in touched):
            if sha256_file(prefix / file.path) == file.sha256:
                identical += 1
            else:
                overwritten += 1
    return PathCounts(overwritten, deleted, identical)


def _history_only(env: Environment) -> dict[str, HistoryDist]:
    names = {record.name for record in env.records}
    return {name: dist for name, dist in env.history.current().items() if name not in names}


def name_keys(conda_name: str) -> set[str]:
    """Python project names a conda package name may stand for, when no files tell.

    ``py-opencv`` -> ``opencv``, ``python-dateutil`` -> ``dateutil``, and the name itself.
    """
    candidates = {conda_name, conda_name.removeprefix("py-"), conda_name.removeprefix("python-")}
    return {canonicalize_name(candidate) for candidate in candidates}


def _shadowed(ctx: _Context, dist: Distribution, record: CondaRecord) -> Finding:
    touched = {entry.path for entry in dist.files} if dist.files is not None else None
    counts = _count_paths(ctx.env.prefix, record, touched)
    ctx.involved.add(record.name)
    verb = "was reinstalled over" if dist.version == record.version else "shadows"
    is_pip = dist.key == "pip"
    message = (
        f"{label(dist)} {verb} conda's {record.name} {record.version}: "
        f"{counts.overwritten} files overwritten, {counts.deleted} deleted, "
        f"{counts.identical} rewritten unchanged"
    )
    if is_pip:
        message += "; pip upgraded itself, conda will put its own pip back on its next change"
    fix = f"{ctx.fixes.pip('uninstall', '-y', dist.name)} && " + ctx.fixes.reinstall(
        record.name, record.version, record.build
    )
    ctx.replaced[record.name] = (dist, fix)
    return Finding(
        "shadowed",
        message,
        fix,
        severity=Severity.WARNING if is_pip else None,
        distribution=dist.name,
        version=dist.version,
        installer=dist.installer,
        conda_package=record.name,
        conda_version=record.version,
        paths=counts,
        location=dist.path,
    )


def _shadowed_history(ctx: _Context, dist: Distribution, gone: HistoryDist) -> Finding:
    fix = f"{ctx.fixes.pip('uninstall', '-y', dist.name)} && " + ctx.fixes.reinstall(
        gone.name, gone.version, gone.build
    )
    ctx.replaced[gone.name] = (dist, fix)
    return Finding(
        "shadowed",
        f"{label(dist)} replaced conda's {gone.name} {gone.version}, whose record in conda-meta "
        "is gone (conda-meta/history still lists it): conda no longer knows what it installed",
        fix,
        distribution=dist.name,
        version=dist.version,
        installer=dist.installer,
        conda_package=gone.name,
        conda_version=gone.version,
        paths=PathCounts(),
        location=dist.path,
        details={"record_missing": True},
    )


def _clobbered(ctx: _Context, dist: Distribution, counterparts: list[CondaRecord]) -> list[Finding]:
    if not dist.files:
        return []
    by_record: dict[str, tuple[CondaRecord, set[str]]] = {}
    for entry in dist.files:
        owner = ctx.owners.file_owner.get(entry.path)
        if owner is None or owner in counterparts or entry.path.startswith(f"{dist.path}/"):
            continue
        by_record.setdefault(owner.name, (owner, set()))[1].add(entry.path)
    findings = []
    for record, touched in by_record.values():
        files = [f for f in record.files if f.path in touched and _countable(f)]
        overwritten = identical = 0
        for file in files:
            if file.sha256 is None:
                continue
            if sha256_file(ctx.env.prefix / file.path) == file.sha256:
                identical += 1
            else:
                overwritten += 1
        if not overwritten:
            continue  # the same bytes (a shared namespace __init__.py): nothing is broken now
        ctx.involved.add(record.name)
        fix = f"{ctx.fixes.pip('uninstall', '-y', dist.name)} && " + ctx.fixes.reinstall(
            record.name, record.version, record.build
        )
        findings.append(
            Finding(
                "clobbered",
                f"{label(dist)} overwrote {overwritten} files of conda's {record.name} "
                f"{record.version}",
                fix,
                distribution=dist.name,
                version=dist.version,
                installer=dist.installer,
                conda_package=record.name,
                conda_version=record.version,
                paths=PathCounts(overwritten, 0, identical),
                location=dist.path,
            )
        )
    return findings


def classify(env: Environment, owners: Ownership) -> tuple[list[Distribution], list[Distribution]]:
    """Split the env's distributions into conda's (owned and intact) and the others."""
    conda: list[Distribution] = []
    foreign: list[Distribution] = []
    for dist in env.distributions:
        owner = owners.dist_dir_owner.get(dist.path)
        if owner is not None and is_intact(env.prefix, dist, owner):
            conda.append(dist)
        else:
            foreign.append(dist)
    return conda, foreign


def counterparts(owners: Ownership, dist: Distribution) -> list[CondaRecord]:
    """The conda records whose Python project a non-conda *dist* replaced or sits on top of."""
    owner = owners.dist_dir_owner.get(dist.path)
    return [owner] if owner else list(owners.provides.get(dist.key, ()))


def _foreign_findings(ctx: _Context) -> list[Finding]:
    findings: list[Finding] = []
    history_only = _history_only(ctx.env)
    dependents = _dependents(ctx.env.distributions)
    for dist in ctx.foreign:
        records = counterparts(ctx.owners, dist)
        findings.extend(_shadowed(ctx, dist, record) for record in records)
        gone = None
        if not records:
            gone = next((h for n, h in history_only.items() if dist.key in name_keys(n)), None)
            if gone is not None:
                findings.append(_shadowed_history(ctx, dist, gone))
        findings.extend(_clobbered(ctx, dist, records))
        if dist.editable:
            findings.append(_editable(dist))
        elif not records and gone is None:
            findings.append(_pip_only(ctx, dist, dependents.get(dist.key, [])))
    return findings


def _dependents(dists: Iterable[Distribution]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = defaultdict(list)
    for dist in dists:
        for text in dist.requires:
            try:
                result[canonicalize_name(Requirement(text).name)].append(dist.name)
            except InvalidRequirement:
                continue
    return result


def _editable(dist: Distribution) -> Finding:
    source = dist.editable_source or "an unknown directory"
    return Finding(
        "editable",
        f"{dist.name} {dist.version} is a development install from {source}",
        "",
        distribution=dist.name,
        version=dist.version,
        installer=dist.installer,
        location=dist.path,
        details={"source": dist.editable_source},
    )


def _pip_only(ctx: _Context, dist: Distribution, needed_by: list[str]) -> Finding:
    if dist.requested or not needed_by:
        why = "installed on request"
    else:
        why = f"a dependency of {', '.join(sorted(needed_by)[:3])}"
    return Finding(
        "pip-only",
        f"{label(dist)} is not from conda ({why}); conda does not track it",
        f"if conda has it, prefer {ctx.fixes.conda('install', dist.name)}",
        distribution=dist.name,
        version=dist.version,
        installer=dist.installer,
        location=dist.path,
        details={"requested": dist.requested, "required_by": sorted(needed_by)},
    )


def _dependency_findings(ctx: _Context) -> list[Finding]:
    findings = []
    for record in ctx.env.records:
        if record.name in ctx.replaced:
            continue
        for entry in record.depends:
            name, _ = split_depends(entry)
            if name not in ctx.replaced:
                continue
            dist, restore = ctx.replaced[name]
            if ctx.matcher(entry, dist.version) is not False:
                continue
            findings.append(
                Finding(
                    "conda-dependency-broken",
                    f"conda's {record.name} {record.version} requires {entry!s} but "
                    f"{label(dist)} is installed in its place",
                    f"restore conda's {name}: {restore}",
                    distribution=dist.name,
                    version=dist.version,
                    installer=dist.installer,
                    conda_package=record.name,
                    conda_version=record.version,
                    details={"requirement": entry},
                )
            )
    return findings


def _unsatisfied_findings(ctx: _Context) -> list[Finding]:
    python = ctx.env.python
    if python is None:
        return []
    markers = python.marker_environment()
    installed: dict[str, Distribution] = {}
    for dist in ctx.env.distributions:
        installed.setdefault(dist.key, dist)
    conda_keys = {dist.key for dist in ctx.conda_dists}
    findings = []
    for dist in ctx.foreign:
        for text in dist.requires:
            try:
                requirement = Requirement(text)
                if requirement.marker and not requirement.marker.evaluate({**markers, "extra": ""}):
                    continue
            except (InvalidRequirement, InvalidMarker, UndefinedEnvironmentName):
                continue
            key = canonicalize_name(requirement.name)
            target = installed.get(key)
            spec = str(requirement.specifier)
            if target is None:
                problem = "is not installed"
            elif spec and not requirement.specifier.contains(target.version, prereleases=True):
                problem = f"is installed as {target.version}"
            else:
                continue
            wanted = f"{requirement.name}{spec}"
            fix = (
                ctx.fixes.conda("install", wanted)
                if target is None or key in conda_keys
                else ctx.fixes.pip("install", wanted)
            )
            findings.append(
                Finding(
                    "unsatisfied",
                    f"{label(dist)} requires {wanted} but {requirement.name} {problem}",
                    fix,
                    distribution=dist.name,
                    version=dist.version,
                    installer=dist.installer,
                    location=dist.path,
                    details={
                        "requirement": wanted,
                        "installed": target.version if target else None,
                    },
                )
            )
    return findings


def _duplicate_findings(ctx: _Context) -> list[Finding]:
    groups: dict[str, list[Distribution]] = defaultdict(list)
    for dist in ctx.env.distributions:
        groups[dist.key].append(dist)
    conda_paths = {dist.path for dist in ctx.conda_dists}
    findings = []
    for dists in groups.values():
        if len(dists) < 2:
            continue
        copies = ", ".join(
            f"{d.version} ({'conda' if d.path in conda_paths else _installer(d)}) at {d.path}"
            for d in dists
        )
        stale = [d for d in dists if d.path not in conda_paths]
        findings.append(
            Finding(
                "duplicate",
                f"{len(dists)} copies of {dists[0].name} are installed: {copies}",
                "remove the copies conda did not install: "
                + " && ".join(f"rm -r {shlex.quote(str(ctx.env.prefix / d.path))}" for d in stale)
                if stale
                else "",
                distribution=dists[0].name,
                version=dists[0].version,
                location=dists[0].path,
                details={"paths": [d.path for d in dists]},
            )
        )
    return findings


def _missing_findings(ctx: _Context) -> list[Finding]:
    findings = []
    prefix = ctx.env.prefix
    for record in ctx.env.records:
        if record.name in ctx.involved:
            continue
        missing = [
            f.path for f in record.files if _countable(f) and not os.path.lexists(prefix / f.path)
        ]
        if not missing:
            continue
        dist_dirs = {d for d in map(dist_dir_of, missing) if d}
        how = " (its Python metadata is gone too: pip probably uninstalled it)" if dist_dirs else ""
        findings.append(
            Finding(
                "missing-files",
                f"{len(missing)} files of conda's {record.name} {record.version} are missing{how}",
                ctx.fixes.reinstall(record.name, record.version, record.build),
                conda_package=record.name,
                conda_version=record.version,
                paths=PathCounts(deleted=len(missing)),
                location=record.record_path,
                details={"missing": missing[:20]},
            )
        )
    return findings


def _stranded_findings(ctx: _Context) -> list[Finding]:
    findings = []
    for site in ctx.env.other_sites:
        left = [d for d in site.distributions if d.path not in ctx.owners.dist_dir_owner]
        if not left:
            continue
        names = ", ".join(f"{d.name} {d.version}" for d in left[:5])
        more = f" and {len(left) - 5} more" if len(left) > 5 else ""
        if ctx.env.python:
            fix = (
                ctx.fixes.pip("install", *(f"{d.name}=={d.version}" for d in left))
                + f" && rm -r {shlex.quote(str(ctx.env.prefix / site.path))}"
            )
            why = f"the env's Python is now {ctx.env.python.version}"
        else:
            fix = f"reinstall them where you need them, then rm -r {ctx.env.prefix / site.path}"
            why = "the env has no Python any more"
        findings.append(
            Finding(
                "stranded",
                f"{len(left)} non-conda distributions are stranded in {site.path} ({why}): "
                f"{names}{more}",
                fix,
                location=site.path,
                details={"distributions": [f"{d.name}=={d.version}" for d in left]},
            )
        )
    return findings


def _user_site_findings(ctx: _Context) -> list[Finding]:
    site = ctx.env.user_site
    if site is None:
        return []
    env_keys = {dist.key: dist for dist in ctx.env.distributions}
    over = [d for d in site.distributions if d.key in env_keys]
    overlap = ""
    if over:
        overlap = "; they hide the env's " + ", ".join(
            f"{d.name} {env_keys[d.key].version}" for d in over[:5]
        )
    return [
        Finding(
            "user-site",
            f"{len(site.distributions)} distributions in the user site directory {site.path} are "
            f"imported before the env's own{overlap}",
            f"conda env config vars set {ctx.fixes.target} PYTHONNOUSERSITE=1",
            location=site.path,
            details={"distributions": [f"{d.name}=={d.version}" for d in site.distributions]},
        )
    ]


def _debris_findings(ctx: _Context) -> list[Finding]:
    findings = [
        Finding(
            "debris",
            f"{item.path}: {item.reason}",
            f"rm -r {shlex.quote(str(ctx.env.prefix / item.path))}",
            location=item.path,
        )
        for item in ctx.env.debris
    ]
    findings.extend(
        Finding(
            "corrupt-record",
            f"{problem.record_path} {problem.reason}; conda cannot read this package's record",
            "restore the file from a backup, or reinstall that package with "
            f"{ctx.fixes.conda('install', '--force-reinstall')} <package>",
            location=problem.record_path,
        )
        for problem in ctx.env.record_problems
    )
    findings.extend(
        Finding(
            "editable",
            f"{path} is on the path through `conda develop`",
            "",
            location=path,
            details={"source": path},
        )
        for path in ctx.env.conda_develop
    )
    return findings


@dataclass(frozen=True)
class Analysis:
    """The findings of one environment.

    Attributes:
        findings: Sorted worst first.
        conda_distributions: Distributions conda installed and still owns.
        non_conda: Distributions that did not come from conda (or replaced conda's).
    """

    findings: tuple[Finding, ...]
    conda_distributions: tuple[Distribution, ...]
    non_conda: tuple[Distribution, ...]

    def verdict(self) -> str:
        """``clean``, ``pip-touched``, ``at-risk`` or ``broken``."""
        return verdict(self.findings, len(self.non_conda))


def analyze(env: Environment, matcher: Matcher | None = None) -> Analysis:
    """Find everything non-conda installers did to *env*.

    Args:
        env: The environment read from disk.
        matcher: Decides whether a version satisfies a conda ``depends`` entry; conda's own
            ``MatchSpec`` when the caller has conda, the documented subset otherwise.
    """
    ctx = _Context(env, Ownership.of(env.records), FixCommands(env), matcher or match_depends)
    ctx.conda_dists, ctx.foreign = classify(env, ctx.owners)
    findings = _foreign_findings(ctx)
    findings += _dependency_findings(ctx)
    findings += _unsatisfied_findings(ctx)
    findings += _duplicate_findings(ctx)
    findings += _missing_findings(ctx)
    findings += _stranded_findings(ctx)
    findings += _user_site_findings(ctx)
    findings += _debris_findings(ctx)
    return Analysis(tuple(sort_findings(findings)), tuple(ctx.conda_dists), tuple(ctx.foreign))

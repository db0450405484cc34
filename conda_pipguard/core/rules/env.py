"""Findings about the environment around the distributions: requirements, copies, other sites.

Pure functions of the :class:`~..model.overlay.Overlay` and the fix spelling, like the other rules.
"""

from __future__ import annotations

import shlex
from collections import defaultdict

from ..disk.distributions import Distribution
from ..disk.names import canonicalize_name
from ..model.overlay import Overlay
from ..model.ownership import installer_of, label
from ..plurals import count_of
from .findings import Finding
from .fixes import FixCommands
from .requirements import needed
from .versionspec import specifier_allows


def unsatisfied(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """Requirements of live non-conda distributions that the env does not meet."""
    env = overlay.env
    if env.python is None or not any(x.dist.requires for x in overlay.layers if not x.stale):
        return []  # (and packaging, which reads them, is not imported)
    markers = env.python.marker_environment()
    stale = {layer.dist.path for layer in overlay.layers if layer.stale}
    installed: dict[str, Distribution] = {}
    for dist in env.distributions:
        if dist.path not in stale:  # pip's metadata, conda's files: conda's version is there
            installed.setdefault(dist.key, dist)
    conda_keys = {dist.key for dist in overlay.conda_dists}
    findings = []
    for layer in overlay.layers:
        if layer.stale:
            continue
        dist = layer.dist
        for text in dist.requires:
            requirement = needed(text, markers)
            if requirement is None:
                continue
            key = canonicalize_name(requirement.name)
            target = installed.get(key)
            spec = str(requirement.specifier)
            if target is None:
                problem = "is not installed"
            elif spec and specifier_allows(requirement.specifier, target.version) is False:
                problem = f"is installed as {target.version}"
            else:
                continue  # met, or not evaluated (a version that does not parse)
            wanted = f"{requirement.name}{spec}"
            fix = (
                fixes.conda("install", wanted)
                if target is None or key in conda_keys
                else fixes.pip("install", wanted)
            )
            findings.append(
                Finding.about(
                    "unsatisfied",
                    f"{label(dist)} requires {wanted} but {requirement.name} {problem}",
                    fix,
                    dist=dist,
                    details={
                        "requirement": wanted,
                        "installed": target.version if target else None,
                    },
                )
            )
    return findings


def duplicate(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """Several installed copies of one project (stale metadata is reported by itself)."""
    stale = {layer.dist.path for layer in overlay.layers if layer.stale}
    groups: dict[str, list[Distribution]] = defaultdict(list)
    for dist in overlay.env.distributions:
        if dist.path not in stale:
            groups[dist.key].append(dist)
    conda_paths = {dist.path for dist in overlay.conda_dists}
    findings = []
    for dists in groups.values():
        if len(dists) < 2:
            continue
        copies = ", ".join(
            f"{d.version} ({'conda' if d.path in conda_paths else installer_of(d)}) at {d.path}"
            for d in dists
        )
        others = [d for d in dists if d.path not in conda_paths]
        has_conda = len(others) < len(dists)
        message = f"{count_of(len(dists), 'copy')} of {dists[0].name} are installed: {copies}"
        if has_conda:
            removed = ", ".join(label(d) for d in others)
            message += f"; the fix removes {removed} and keeps conda's"
        findings.append(
            Finding(
                "duplicate",
                message,
                fixes.repair() if has_conda else "",
                distribution=dists[0].name,
                version=dists[0].version,
                location=dists[0].path,
                details={"paths": [d.path for d in dists], "removes": [d.path for d in others]},
                dist=dists[0],
            )
        )
    return findings


def stranded(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """Non-conda distributions in the site-packages of a Python the env no longer has."""
    env = overlay.env
    findings = []
    for site in env.other_sites:
        left = [d for d in site.distributions if d.path not in overlay.owners.dist_dir_owner]
        if not left:
            continue
        names = ", ".join(f"{d.name} {d.version}" for d in left[:5])
        more = f" and {len(left) - 5} more" if len(left) > 5 else ""
        if env.python:
            fix = (
                fixes.pip("install", *(f"{d.name}=={d.version}" for d in left))
                + f" && rm -r {shlex.quote(str(env.prefix / site.path))}"
            )
            why = f"the env's Python is now {env.python.version}"
        else:
            fix = f"reinstall them where you need them, then rm -r {env.prefix / site.path}"
            why = "the env has no Python any more"
        findings.append(
            Finding(
                "stranded",
                f"{count_of(len(left), 'non-conda distribution')} "
                f"{'is' if len(left) == 1 else 'are'} stranded in {site.path} ({why}): "
                f"{names}{more}",
                fix,
                location=site.path,
                details={"distributions": [f"{d.name}=={d.version}" for d in left]},
            )
        )
    return findings


def user_site(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """Distributions in the user site directory the env's Python imports first."""
    env = overlay.env
    site = env.user_site
    if site is None:
        return []
    env_keys = {dist.key: dist for dist in env.distributions}
    over = [d for d in site.distributions if d.key in env_keys]
    overlap = ""
    if over:
        overlap = "; they hide the env's " + ", ".join(
            f"{d.name} {env_keys[d.key].version}" for d in over[:5]
        )
    number = len(site.distributions)
    return [
        Finding(
            "user-site",
            f"{count_of(number, 'distribution')} in the user site directory {site.path} "
            f"{'is' if number == 1 else 'are'} imported before the env's own{overlap}",
            f"conda env config vars set {fixes.target} PYTHONNOUSERSITE=1",
            location=site.path,
            details={"distributions": [f"{d.name}=={d.version}" for d in site.distributions]},
        )
    ]


def debris(overlay: Overlay, fixes: FixCommands) -> list[Finding]:
    """Leftovers, unreadable records and ``conda develop`` paths."""
    env = overlay.env
    findings = [
        Finding(
            "debris",
            f"{item.path}: {item.reason}",
            f"rm -r {shlex.quote(str(env.prefix / item.path))}",
            location=item.path,
        )
        for item in env.debris
    ]
    findings.extend(
        Finding(
            "corrupt-record",
            f"{problem.record_path} {problem.reason}; {problem.consequence}",
            "restore the file from a backup, or reinstall that package with "
            f"{fixes.conda('install', '--force-reinstall')} <package>",
            location=problem.record_path,
        )
        for problem in env.record_problems
    )
    findings.extend(
        Finding(
            "editable",
            f"{path} is on the path through `conda develop`",
            "",
            location=path,
            details={"source": path},
        )
        for path in env.conda_develop
    )
    return findings

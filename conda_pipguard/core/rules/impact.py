"""Environment + a planned conda transaction -> what that plan does to non-conda packages.

The plan comes as plain data (:class:`PlannedPackage`), so this is tested without conda; the
guard turns conda's solve results and extracted packages into it. Before extraction only names
and versions are known; afterwards (``paths``) collisions are decided file by file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..disk.distributions import Distribution, with_metadata
from ..disk.environment import Environment
from ..disk.names import canonicalize_name, name_keys
from ..disk.python import minor_version
from ..disk.records import CondaRecord
from ..model.ownership import Ownership, classify, counterparts, dist_dir_of, label, project_key
from ..plurals import agree, count_of
from .fixes import FixCommands
from .requirements import needed, requirement_key
from .versionspec import specifier_allows


@dataclass(frozen=True)
class PlannedPackage:
    """A package a conda transaction links or unlinks.

    Attributes:
        name: Package name.
        version: Package version.
        build: Build string.
        paths: Prefix-relative paths it links, when known (after extraction).
    """

    name: str
    version: str
    build: str = ""
    paths: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """``name version``."""
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class Impact:
    """One consequence of the plan for a non-conda distribution.

    Attributes:
        kind: ``overwrite`` (conda links over its files), ``break`` (conda deletes files it now
            owns), ``requirement`` (a Requires-Dist no longer holds), ``strand`` (a Python
            minor-version change leaves it behind).
        message: One line: what will happen.
        fix: One way to avoid it.
        distribution: The non-conda distribution concerned.
        conda_package: The conda package of the plan concerned.
        paths: Colliding paths (``overwrite`` after extraction), prefix-relative.
    """

    kind: str
    message: str
    fix: str
    distribution: str | None = None
    conda_package: str | None = None
    paths: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "distribution": self.distribution,
            "conda_package": self.conda_package,
            "paths": list(self.paths),
            "message": self.message,
            "fix": self.fix,
        }


class PipLayer:
    """What the impact needs of an env, computed once and reusable.

    The guard keeps one per conda command (post-solve and verify share it).

    Args:
        env: The environment (a cheap read, ``metadata=False``, is enough).
        records: The records to index; all of *env*'s by default. The guard passes only the
            packages of the plan and those of the non-conda distributions' projects: the
            impacts ask ownership only about those (see :func:`impact`).
        foreign: The non-conda distributions when the caller already knows them (else
            :func:`classify` decides from *records*).

    Attributes:
        env: The environment.
        owners: Which record owns which file and project.
        foreign: The non-conda distributions, as read (directory names only in a cheap read).
        keys_by_package: conda package name -> the Python projects its files provide.
    """

    def __init__(
        self,
        env: Environment,
        records: Iterable[CondaRecord] | None = None,
        foreign: Sequence[Distribution] | None = None,
    ) -> None:
        self.env = env
        self.owners = Ownership.of(env.records if records is None else records)
        self.foreign = list(foreign) if foreign is not None else classify(env, self.owners)[1]
        self.keys_by_package: dict[str, set[str]] = {}
        for key, owning in self.owners.provides.items():
            for record in owning:
                self.keys_by_package.setdefault(record.name, set()).add(key)
        self._foreign_read: list[Distribution] | None = None

    def foreign_with_metadata(self) -> list[Distribution]:
        """The non-conda distributions with their metadata (read on the first call only)."""
        if self._foreign_read is None:
            self._foreign_read = [with_metadata(self.env.prefix, d) for d in self.foreign]
        return self._foreign_read

    def keys_of(self, package: PlannedPackage) -> set[str]:
        """Python projects a conda package provides.

        From its files when known, else from the installed record of that name, else its name.
        """
        if package.paths is not None:
            return {project_key(d) for d in map(dist_dir_of, package.paths) if d}
        return set(self.keys_by_package.get(package.name, ())) or name_keys(package.name)


class _Plan:
    def __init__(
        self, layer: PipLayer, unlink: Sequence[PlannedPackage], link: Sequence[PlannedPackage]
    ) -> None:
        self.env = layer.env
        self.layer = layer
        self.owners = layer.owners
        self.foreign = layer.foreign_with_metadata()
        self.fixes = FixCommands(layer.env)
        self.unlink = {p.name: p for p in unlink}
        self.link = {p.name: p for p in link}

    def uninstall_first(self, dist: Distribution) -> str:
        return (
            f"remove pip's copy first ({self.fixes.pip('uninstall', '-y', dist.name)}), "
            f"or run: conda pipguard fix {self.fixes.target}"
        )


def _overwrites(plan: _Plan) -> list[Impact]:
    """Conda links a package over (or unlinks one from under) a non-conda distribution."""
    impacts = []
    by_path: dict[str, Distribution] = {}
    for dist in plan.foreign:
        for entry in dist.files or ():
            by_path.setdefault(entry.path, dist)
    plan.owners.paths.prime(by_path)
    for dist in plan.foreign:
        # conda packages whose files this distribution replaced or overwrote: unlinking one
        # deletes those files from under it
        replaced = {record.name for record in counterparts(plan.owners, dist)}
        replaced |= {
            owner.name
            for entry in dist.files or ()
            if (owner := plan.owners.paths.owner(entry.path)) is not None
        }
        for package in plan.link.values():
            if package.paths is not None:
                hits = tuple(p for p in package.paths if by_path.get(p) is dist)
            else:
                hits = ()
                if package.name not in replaced and dist.key not in plan.layer.keys_of(package):
                    continue
            if package.paths is not None and not hits:
                continue
            verb = _verb(plan.unlink.get(package.name), package)
            impacts.append(
                Impact(
                    "overwrite",
                    f"conda will {verb} over {label(dist)}"
                    + (f" ({_collide(len(hits))})" if hits else "")
                    + f": {dist.name} becomes a mix of both copies",
                    plan.uninstall_first(dist),
                    distribution=dist.name,
                    conda_package=package.name,
                    paths=hits,
                )
            )
        for name in sorted(replaced & set(plan.unlink) - set(plan.link)):
            impacts.append(
                Impact(
                    "break",
                    f"conda will remove {plan.unlink[name].label} and delete files that "
                    f"{label(dist)} now owns: {dist.name} will break",
                    plan.uninstall_first(dist)
                    if dist.key != "pip"
                    else f"reinstall pip's copy afterwards: {plan.fixes.pip('install', dist.name)}",
                    distribution=dist.name,
                    conda_package=name,
                )
            )
    return impacts


def _collide(count: int) -> str:
    return f"{count_of(count, 'file')} {agree(count, 'collides', 'collide')}"


def _verb(old: PlannedPackage | None, new: PlannedPackage) -> str:
    """What conda does to a package: link it, reinstall it, or replace one version with another."""
    if old is None:
        return f"link {new.label}"
    if old.version == new.version:
        return f"reinstall {new.label}"
    return f"replace {old.label} with {new.version}"


def _requirements(plan: _Plan) -> list[Impact]:
    """A non-conda distribution's Requires-Dist versus the versions the plan installs."""
    python = plan.env.python
    markers = cache(lambda: python.marker_environment() if python else None)  # packaging's
    provided: dict[str, PlannedPackage] = {}
    for package in plan.link.values():
        for key in plan.layer.keys_of(package):
            provided.setdefault(key, package)
    removed: dict[str, PlannedPackage] = {}
    for package in plan.unlink.values():
        if package.name not in plan.link:
            for key in plan.layer.keys_of(package):
                removed.setdefault(key, package)
    impacts = []
    named = provided.keys() | removed.keys()
    for dist in plan.foreign:
        for text in dist.requires:
            if requirement_key(text) not in named:
                continue  # names no package of the plan: not parsed (nor packaging imported)
            requirement = needed(text, markers())
            if requirement is None:
                continue
            key = canonicalize_name(requirement.name)
            if key in provided:
                package = provided[key]
                if specifier_allows(requirement.specifier, package.version) is not False:
                    continue  # met, or not evaluated (a version that does not parse)
                message = (
                    f"{label(dist)} requires {requirement.name}{requirement.specifier} "
                    f"but the plan installs {package.label}"
                )
                fix = (
                    f"keep a compatible version: conda install {plan.fixes.target} "
                    f"'{package.name}{requirement.specifier}'"
                )
            elif key in removed:
                package = removed[key]
                message = f"{label(dist)} requires {requirement.name}, which the plan removes"
                fix = f"keep {package.name}, or {plan.fixes.pip('uninstall', dist.name)}"
            else:
                continue
            impacts.append(
                Impact(
                    "requirement", message, fix, distribution=dist.name, conda_package=package.name
                )
            )
    return impacts


def _python_change(plan: _Plan) -> list[Impact]:
    python = plan.link.get("python")
    current = plan.env.python
    if python is None or current is None:
        return []
    new = minor_version(python.version)
    if new is None or new == current.version:
        return []
    left = [d for d in plan.foreign if not d.editable]
    if not left:
        return []
    names = ", ".join(f"{d.name} {d.version}" for d in left[:5])
    more = f" and {len(left) - 5} more" if len(left) > 5 else ""
    return [
        Impact(
            "strand",
            f"Python {current.version} -> {new}: {count_of(len(left), 'non-conda distribution')} "
            f"{agree(len(left), 'stays', 'stay')} behind in {current.site_packages} and will not "
            f"be importable: {names}{more}",
            "reinstall them for the new Python afterwards: "
            + plan.fixes.pip("install", *(f"{d.name}=={d.version}" for d in left)),
            conda_package="python",
        )
    ]


def impact(
    env: Environment,
    unlink: Iterable[PlannedPackage],
    link: Iterable[PlannedPackage],
    *,
    layer: PipLayer | None = None,
) -> list[Impact]:
    """What linking *link* and unlinking *unlink* in *env* does to its non-conda packages.

    *layer* is :class:`PipLayer` of *env* when the caller keeps one (built here otherwise). A
    layer of some records only gives the same impacts when it holds the installed records of
    the plan's packages and of the non-conda distributions' projects: ownership is asked about
    other records only to be matched against the plan's names.
    """
    plan = _Plan(layer if layer is not None else PipLayer(env), list(unlink), list(link))
    if not plan.foreign:
        return []
    impacts = _overwrites(plan) + _requirements(plan) + _python_change(plan)
    seen: set[tuple[str, str | None, str | None]] = set()
    unique = []
    for item in impacts:
        key = (item.kind, item.distribution, item.conda_package)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique

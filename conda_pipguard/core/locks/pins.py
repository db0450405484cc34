"""The constraints file of the soft lock: one pin per Python distribution conda owns.

Where conda-pypi's name table is at hand (:mod:`..disk.pypinames`), a conda package that ships
no Python metadata of its own (``opencv``, whose ``cv2`` pip knows as ``opencv-python``) is
pinned under its PyPI names too, at conda's version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..disk.distributions import Distribution
from ..disk.names import canonicalize_name
from ..disk.pypinames import NameTable
from ..disk.records import CondaRecord
from .pipconfig import config_basename


@dataclass(frozen=True)
class Pin:
    """One line of the constraints file.

    Attributes:
        name: Project name as its metadata spells it.
        version: The installed version.
    """

    name: str
    version: str

    @property
    def key(self) -> str:
        """The canonical project name."""
        return canonicalize_name(self.name)

    @property
    def requirement(self) -> str:
        """``name==version``; ``===`` for a version PEP 440 cannot parse (pip accepts both)."""
        from ..rules.versionspec import parse_version  # not at import: it imports packaging

        if parse_version(self.version) is None:
            return f"{self.name}==={self.version}"
        return f"{self.name}=={self.version}"


def pins_for(distributions: Iterable[Distribution]) -> list[Pin]:
    """One pin per project among *distributions*, sorted by name; unusable names are left out."""
    from packaging.requirements import InvalidRequirement, Requirement

    pins: dict[str, Pin] = {}
    for dist in distributions:
        pin = Pin(dist.name, dist.version)
        try:
            Requirement(pin.requirement)
        except InvalidRequirement:
            continue
        pins.setdefault(pin.key, pin)
    return [pins[key] for key in sorted(pins)]


def named_pins(
    records: Iterable[CondaRecord], owned: Iterable[Distribution], table: NameTable
) -> list[Pin]:
    """Pins under PyPI's names of the conda packages whose own metadata gives none.

    A record that links a dist-info or egg-info is named by it (its distribution is pinned by
    :func:`pins_for`); one that links none gets a pin for each PyPI name *table* gives it, at
    the record's version, unless a distribution of *owned* already carries that name.
    """
    taken = {canonicalize_name(dist.name) for dist in owned}
    pins: dict[str, Pin] = {}
    for record in records:
        if record.name not in table.by_conda:
            continue
        if any(".dist-info/" in f.path or ".egg-info" in f.path for f in record.files):
            continue
        for name in table.pypi_names_of(record.name, record.version):
            if name not in taken:
                pins.setdefault(name, Pin(name, record.version))
    return [pins[key] for key in sorted(pins)]


def render_constraints(pins: Sequence[Pin], target: str) -> str:
    """The constraints file: a header saying why and how to change a pin, then the pins."""
    header = f"""\
# conda-pipguard soft lock (`conda pipguard mark --soft {target}`).
# Each line pins a Python package that conda installed in this environment to its installed
# version, so that pip (and uv) may add packages conda does not have but cannot upgrade,
# downgrade or replace conda's. pip reads this file through the environment's
# {config_basename()} ([install] constraint), and PIP_CONSTRAINT/UV_CONSTRAINT name it when the
# environment is activated.
# To change a pinned package, use conda:  conda install {target} "<package>=<version>"
# conda-pipguard rewrites this file after every conda transaction: edits here do not last.
# Lift the soft lock:  conda pipguard unmark {target}
"""
    return header + "".join(f"{pin.requirement}\n" for pin in pins)


def parse_pins(text: str) -> list[Pin]:
    """The pins of a constraints file we wrote (comments and unparsable lines are skipped)."""
    from packaging.requirements import InvalidRequirement, Requirement

    pins = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        specs = list(requirement.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "==="):
            pins.append(Pin(requirement.name, specs[0].version))
    return pins


def pins_delta(old: Sequence[Pin], new: Sequence[Pin]) -> str:
    """What changed from *old* to *new*, in one line (``+added, -gone, changed (was v)``)."""
    before = {pin.key: pin for pin in old}
    after = {pin.key: pin for pin in new}
    added = sorted(after.keys() - before.keys())
    gone = sorted(before.keys() - after.keys())
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    parts = [f"+{after[k].requirement}" for k in added]
    parts += [f"-{before[k].requirement}" for k in gone]
    parts += [f"{after[k].requirement} (was {before[k].version})" for k in changed]
    return ", ".join(parts)

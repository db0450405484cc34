"""How each non-conda distribution lies over conda's packages, decided from the ledger.

For every non-conda distribution this module reads its RECORD against conda's records and the
ledger once: which conda files it claims and whose content they hold now, how many of its own
files are gone, and which of its files no conda package owns. From that follows whether it is a
*live* layer (its content is on disk over conda's), a *stale* one (conda has put its own files
back; pip's metadata lies) or an incomplete one (files of its RECORD are gone).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from ..disk.distributions import Distribution
from ..disk.environment import Environment
from ..disk.names import name_keys
from ..disk.records import CondaRecord
from .ledger import Content, Ledger
from .ownership import BYTECODE, Ownership, classify, countable, counterparts

if TYPE_CHECKING:
    from ..disk.history import HistoryDist
    from ..disk.pypinames import NameTable
    from .condafiles import CondaFiles
    from .provides import Twins, Wanted


def _conda_pypi_names() -> NameTable | None:
    """conda-pypi's name table (:func:`..disk.pypinames.name_table`), imported when first asked."""
    from ..disk.pypinames import name_table

    return name_table()


@dataclass(frozen=True)
class Overlap:
    """The files of one conda record that one distribution's RECORD also lists.

    Attributes:
        record: The conda record.
        states: Path -> whose content it holds now.
    """

    record: CondaRecord
    states: dict[str, Content] = field(repr=False)

    def count(self, *contents: Content) -> int:
        """How many of the paths hold one of *contents*."""
        return sum(1 for state in self.states.values() if state in contents)

    @property
    def overwritten(self) -> int:
        """Paths whose content is no longer conda's."""
        return self.count(Content.DIST, Content.ALTERED)


@dataclass(frozen=True)
class Layer:
    """One non-conda distribution and what it covers.

    Attributes:
        dist: The distribution.
        counterparts: Conda records of the same Python project.
        overlaps: Conda files its RECORD lists, by record.
        listed: Files its RECORD lists outside its metadata directory (byte code left out).
        missing: Those of them that are gone.
        leftovers: Paths its RECORD lists outside its metadata directory that no conda record
            owns and that exist.
        stale: conda's content is back where this distribution's was (state after ``conda
            install --force-reinstall``): its metadata no longer describes the disk.
        history: The conda package history says this distribution replaced, when the record
            is gone.
    """

    dist: Distribution
    counterparts: tuple[CondaRecord, ...] = ()
    overlaps: tuple[Overlap, ...] = ()
    listed: int = 0
    missing: int = 0
    leftovers: tuple[str, ...] = ()
    stale: bool = False
    history: HistoryDist | None = None

    @property
    def live(self) -> bool:
        """Its content (not conda's) is what imports."""
        return not self.stale

    @property
    def replaces_conda(self) -> bool:
        """It is another copy of a conda package's own project (by its record, or history's)."""
        return bool(self.counterparts) or self.history is not None


@dataclass(frozen=True)
class Overlay:
    """Every non-conda layer of an environment, and what it means for conda's packages.

    Attributes:
        env: The environment.
        owners: File ownership by conda records.
        ledger: What is on disk.
        conda_dists: Distributions conda installed and still owns.
        layers: The non-conda distributions, in the env's order.
        involved: Names of conda records a live layer replaced or overwrote.
        pypi_names: conda-pypi's PyPI<->conda name table, read when first called (None
            without it): for messages that name both sides.
    """

    env: Environment
    owners: Ownership
    ledger: Ledger
    conda_dists: tuple[Distribution, ...]
    layers: tuple[Layer, ...]
    involved: frozenset[str]
    pypi_names: Callable[[], NameTable | None] = field(
        default=_conda_pypi_names, compare=False, repr=False
    )

    @property
    def areas(self) -> tuple[str, ...]:
        """Prefix-relative directories (with a trailing slash) where pip and uv write."""
        python = self.env.python
        if python is None:
            return ()
        return (f"{python.site_packages}/", f"{python.scripts}/")

    @cached_property
    def wanted(self) -> Wanted:
        """What the live non-conda distributions provide (import names, shared libraries)."""
        from .provides import wanted_names  # not for the hooks' look, which needs no rule

        return wanted_names(
            self.env.python,
            (
                (
                    layer.dist,
                    [r.name for r in layer.counterparts]
                    + ([layer.history.name] if layer.history else []),
                )
                for layer in self.layers
                if layer.live
            ),
        )

    @cached_property
    def conda_files(self) -> CondaFiles:
        """Conda's files where pip writes: altered, missing, gone, leftovers (read once)."""
        from .condafiles import CondaFiles, scan_conda_files

        if not self.areas:
            return CondaFiles({}, {})
        listed = (e.path for layer in self.layers for e in layer.dist.files or ())
        return scan_conda_files(
            self.env.records,
            self.ledger,
            self.areas,
            self.involved,
            self.env.history,
            listed,
            self.wanted.tops,
        )

    @cached_property
    def twins(self) -> Twins:
        """Import names and shared libraries a conda record and a live layer both provide."""
        from .provides import find_twins

        return find_twins(
            self.env.python,
            self.env.records,
            self.wanted,
            self.conda_files.import_paths,
            self.ledger,
        )

    @property
    def replaced(self) -> dict[str, Distribution]:
        """Conda package name -> the live non-conda distribution in its place."""
        result: dict[str, Distribution] = {}
        for layer in self.layers:
            if not layer.live:
                continue
            for record in layer.counterparts:
                result.setdefault(record.name, layer.dist)
            if layer.history is not None:
                result.setdefault(layer.history.name, layer.dist)
        return result


def _layer(env: Environment, owners: Ownership, ledger: Ledger, dist: Distribution) -> Layer:
    records = tuple(counterparts(owners, dist))
    by_record: dict[str, tuple[CondaRecord, dict[str, Content]]] = {}
    listed = missing = 0
    leftovers: list[str] = []
    own = f"{dist.path}/"
    for entry in dist.files or ():
        path = entry.path
        if path.endswith(BYTECODE) or path.startswith(own):
            continue  # byte code, and its own metadata (not files that import)
        listed += 1
        owner = owners.paths.owner(path)
        if owner is None:
            if ledger.dist_state(entry, None) is Content.MISSING:
                missing += 1
            else:
                leftovers.append(path)
            continue
        conda_file = owners.paths.file(path)
        if conda_file is None or not countable(conda_file):
            continue
        state = ledger.dist_state(entry, conda_file)
        if state is Content.MISSING:
            missing += 1
        by_record.setdefault(owner.name, (owner, {}))[1][path] = state
    overlaps = tuple(Overlap(record, states) for record, states in by_record.values())
    tally: Counter[Content] = Counter()
    for overlap in overlaps:
        if overlap.record in records:  # only conda's copy of the same project makes it stale
            tally.update(overlap.states.values())
    stale = bool(tally[Content.CONDA]) and not (tally[Content.DIST] or tally[Content.ALTERED])
    return Layer(dist, records, overlaps, listed, missing, tuple(leftovers), stale)


def layer_of(env: Environment, owners: Ownership, ledger: Ledger, dist: Distribution) -> Layer:
    """How one non-conda *dist* (metadata read) lies over the records of *owners*.

    The same reading :func:`build_overlay` does for each layer, without the history: what the
    guard's one warning line needs (live or stale) for the one distribution it names.
    """
    owners.paths.prime(entry.path for entry in dist.files or ())
    return _layer(env, owners, ledger, dist)


def build_overlay(
    env: Environment,
    owners: Ownership,
    ledger: Ledger,
    pypi_names: Callable[[], NameTable | None] = _conda_pypi_names,
) -> Overlay:
    """Read every non-conda distribution of *env* against conda's records and the disk.

    *pypi_names* gives conda-pypi's name table when a rule asks (default: the one on
    ``sys.path``).
    """
    conda, foreign = classify(env, owners, ledger.record_time, ledger.holds)
    names = {record.name for record in env.records}
    gone = [dist for name, dist in env.history.current().items() if name not in names]
    # the paths the layers (and the rules and repairs after them) ask about, indexed in one pass
    owners.paths.prime(entry.path for dist in foreign for entry in dist.files or ())
    layers = []
    involved: set[str] = set()
    for dist in foreign:
        layer = _layer(env, owners, ledger, dist)
        if not layer.counterparts and gone:
            history = next((h for h in gone if dist.key in name_keys(h.name)), None)
            if history is not None:
                layer = replace(layer, history=history)
        if layer.live:
            involved.update(record.name for record in layer.counterparts)
            involved.update(
                o.record.name
                for o in layer.overlaps
                if o.record not in layer.counterparts and o.overwritten
            )
        layers.append(layer)
    return Overlay(
        env, owners, ledger, tuple(conda), tuple(layers), frozenset(involved), pypi_names
    )


def record_missing(ledger: Ledger, record: CondaRecord) -> list[str]:
    """Countable files of *record* that are gone."""
    return [f.path for f in record.files if countable(f) and not ledger.exists(f.path)]

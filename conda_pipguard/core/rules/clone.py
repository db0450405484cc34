"""What ``conda create --clone`` of a pip-touched env gets: the pre-command's one line.

conda clones in two steps (``conda.misc.clone_env``): it copies every file of the source that no
conda record lists, rewriting the source's prefix in text files, then links its own packages from
their records. So a package pip replaced comes back as conda's, with pip's metadata directory and
pip's files that conda does not own copied next to it: the clone starts with stale metadata
(conda/conda#9063). Files pip rewrote at paths conda owns are not copied; conda links its own.
Distributions only pip installed are copied whole, and conda does not track them there either.
"""

from __future__ import annotations

from ..model.glance import Glance
from ..model.overlay import Layer
from ..model.ownership import installer_of
from ..plurals import agree, count_of


def _copied(layer: Layer) -> list[str]:
    """What of *layer* conda copies into the clone, said for people.

    Its metadata directory, when no record lists it, and its files no record owns.
    """
    dist = layer.dist
    inside = f"{dist.path}/"
    listed = any(
        f.path == dist.path or f.path.startswith(inside)
        for record in layer.counterparts
        for f in record.files
    )
    parts = [] if listed else [f"{installer_of(dist)}'s {dist.name} {dist.version} metadata"]
    if layer.leftovers:
        files = count_of(len(layer.leftovers), "file")
        parts.append(f"{files} of {dist.name} {dist.version} that conda does not own")
    return parts


def clone_line(seen: Glance, source: str) -> str | None:
    """The one line before ``conda create --clone`` of the env *seen* (None when it is clean).

    Args:
        seen: The cheap look at the source env (:func:`~..model.glance.glance`).
        source: How the user named the source (``--clone``'s argument).
    """
    foreign = seen.foreign
    if not foreign:
        return None
    fix = f"run `conda pipguard fix {seen.env.target_flag}` first"
    named = seen.named
    if named is None:
        names = ", ".join(d.name for d in foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        return (
            f"conda-pipguard: the clone of {source} gets {count_of(len(foreign), 'package')} "
            f"from pip ({names}) copied as files conda does not track there either"
        )
    record = named.counterparts[0]
    back = " back" if named.live else ""
    others = len(foreign) - 1
    more = f" ({count_of(others, 'more package')} from pip as well)" if others else ""
    copied = _copied(named)
    if not copied:
        return (
            f"conda-pipguard: the clone of {source} gets conda's {record.name} "
            f"{record.version}{back}, as conda installed it{more}"
        )
    return (
        f"conda-pipguard: the clone of {source} gets conda's {record.name} {record.version}"
        f"{back}, but {' and '.join(copied)} {agree(len(copied), 'is', 'are')} copied as "
        f"untracked files: the clone starts with stale metadata{more}; {fix}"
    )

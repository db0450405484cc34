"""The pre-command's one line: which non-conda layer it names, and how it says it.

The guard's first look (:mod:`.glance`) says it from directory listings; tests say it from the
full read's overlay (:func:`line_of_overlay`) and compare. Both choose the layer here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .ownership import label

if TYPE_CHECKING:  # the guard imports the overlay only when a layer is to be named
    from .overlay import Layer, Overlay


def named_layer(layers: Iterable[Layer]) -> Layer | None:
    """The layer the line names: the first live one over a conda package, else the first stale.

    Layers without a conda counterpart (pip-only) are never named. *layers* may be a lazy
    iterable: it is read no further than the first live layer.
    """
    named: Layer | None = None
    for layer in layers:
        if not layer.counterparts:
            continue
        if layer.live:
            return layer
        named = named or layer
    return named


def risk_text(target: str, foreign: Sequence[str], named: Layer | None) -> str:
    """The line: *foreign* distribution names, the one *named* (live or stale), *target*."""
    details = f"Details: conda pipguard status {target}"
    count = len(foreign)
    some = f"{count} Python package{'s' if count > 1 else ''} here {'are' if count > 1 else 'is'}"
    if named is None:
        names = ", ".join(foreign[:3]) + (", ..." if count > 3 else "")
        return f"conda-pipguard: {some} from pip ({names}); conda does not track them. {details}"
    dist, record = named.dist, named.counterparts[0]
    if named.stale:
        return (
            f"conda-pipguard: {label(dist)} is stale: conda's {record.name} {record.version} is "
            f"back on disk, but pip still lists {dist.version} ({some} not from conda). {details}"
        )
    return (
        f"conda-pipguard: {label(dist)} shadows conda's {record.name} {record.version} ({some} "
        f"not from conda). conda does not track them: this command can overwrite or break them. "
        f"{details}"
    )


def line_of_overlay(target: str, overlay: Overlay) -> str | None:
    """The line the full read's *overlay* gives (None when the env has no non-conda layer)."""
    if not overlay.layers:
        return None
    names = [layer.dist.name for layer in overlay.layers]
    return risk_text(target, names, named_layer(overlay.layers))

"""``Requires-Dist`` read as pip reads it: markers evaluated, extras only when asked for."""

from __future__ import annotations

from collections.abc import Mapping

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement


def needed(text: str, markers: Mapping[str, str] | None) -> Requirement | None:
    """The requirement *text* states, or None when it does not apply here.

    A requirement guarded by ``extra == "..."`` applies only when that extra was requested,
    which no installer records: it never applies. Other markers are evaluated against the env's
    Python (*markers*); without them (no Python) a requirement with a marker does not apply.
    """
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    marker = requirement.marker
    if marker is None:
        return requirement
    if markers is None:
        return None
    try:
        return requirement if marker.evaluate({**markers, "extra": ""}) else None
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return None

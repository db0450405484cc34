"""``Requires-Dist`` read as pip reads it: markers evaluated, extras only when asked for.

:mod:`packaging.requirements` is imported on the first requirement read, not with this module:
with its markers (``packaging.tags``, ``platform``, ``logging``, ``subprocess``) it weighs as
much as the rest of the scanner's start-up, and an env whose distributions are all conda's
never needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.requirements import Requirement


def needed(text: str, markers: Mapping[str, str] | None) -> Requirement | None:
    """The requirement *text* states, or None when it does not apply here.

    A requirement guarded by ``extra == "..."`` applies only when that extra was requested,
    which no installer records: it never applies. Other markers are evaluated against the env's
    Python (*markers*); without them (no Python) a requirement with a marker does not apply.
    """
    from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
    from packaging.requirements import InvalidRequirement, Requirement

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

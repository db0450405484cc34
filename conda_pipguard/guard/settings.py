"""conda-pipguard's settings: ``.condarc`` ``plugins:`` keys or ``CONDA_PLUGINS_PIPGUARD_*``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conda.plugins.types import CondaSetting

MODES = ("warn", "block", "off")
AUTO_MARK = ("none", "base", "all")


def _one_of(choices: tuple[str, ...]) -> Callable[[str], bool | str]:
    """A validator that takes a value exactly as written, as conda's own settings do."""

    def validate(value: str) -> bool | str:
        return value in choices or f"must be one of: {', '.join(choices)}"

    return validate


def conda_settings() -> Iterator[CondaSetting]:
    """The settings conda validates and exposes as ``context.plugins.<name>``."""
    from conda.common.configuration import PrimitiveParameter
    from conda.plugins.types import CondaSetting

    yield CondaSetting(
        name="pipguard_mode",
        description=(
            "What conda-pipguard does before conda changes an environment pip has touched: "
            "'warn' (default) prints what the transaction does to pip's packages, 'block' "
            "refuses transactions that would break them, 'off' stays silent."
        ),
        parameter=PrimitiveParameter("warn", element_type=str, validation=_one_of(MODES)),
    )
    yield CondaSetting(
        name="pipguard_auto_mark",
        description=(
            "Lock environments against pip after every conda transaction that leaves Python in "
            "them: 'none' (default), 'base' (only the base environment) or 'all'."
        ),
        parameter=PrimitiveParameter("none", element_type=str, validation=_one_of(AUTO_MARK)),
    )
    yield CondaSetting(
        name="pipguard_auto_mark_soft",
        description=(
            "With pipguard_auto_mark, write the soft lock (pip may add PyPI-only packages but "
            "not replace conda's) instead of the PEP 668 marker."
        ),
        parameter=PrimitiveParameter(False, element_type=bool),
    )


def _plugin_setting(name: str, default: object) -> object:
    from conda.base.context import context
    from conda.common.configuration import ValidationError

    try:
        return getattr(context.plugins, name, default)
    except ValidationError as err:  # conda refused the value: so do we, never "off" instead
        from .errors import PipguardSettingError

        reason = " ".join(str(err).split())
        raise PipguardSettingError(reason) from None


def mode() -> str:
    """``warn``, ``block`` or ``off``, exactly (conda's own settings neither strip nor fold case).

    Raises:
        PipguardSettingError: The value is none of them (``" Block "`` and ``BLOCK`` included:
            a typo must not turn the guard off, nor be guessed at).
    """
    value = _plugin_setting("pipguard_mode", "warn")
    if value not in MODES:
        from .errors import PipguardSettingError

        raise PipguardSettingError(f"pipguard_mode is {value!r}; use one of: {', '.join(MODES)}")
    return str(value)


def block_intended() -> bool:
    """Whether a failure must refuse the transaction: ``block``, or a mode that cannot be read."""
    from .errors import PipguardSettingError

    try:
        return mode() == "block"
    except PipguardSettingError:
        return True


def auto_mark() -> str:
    """``none``, ``base`` or ``all``."""
    value = _plugin_setting("pipguard_auto_mark", "none")
    return str(value) if value in AUTO_MARK else "none"


def auto_mark_soft() -> bool:
    """Whether auto-marking writes the soft lock."""
    return bool(_plugin_setting("pipguard_auto_mark_soft", False))

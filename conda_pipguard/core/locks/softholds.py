"""Which installers the soft lock holds, and when: the claim ``mark --soft`` and ``status`` make.

pip reads the site configuration of the interpreter it runs in, ``<env>/pip.conf``, whether the
env is activated or not: a pip run by the env's Python is held always. uv reads no ``pip.conf``:
it is held only where ``UV_CONSTRAINT`` names the pins, and conda sets that variable from
``conda-meta/state`` when it activates the env (``conda activate``, ``conda run``); a
``uv pip install --python <env>/bin/python`` from a shell where the env is not active is not
held. tests/core/locks/test_softlock.py runs real pip and uv against this claim.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..disk.places import config_basename
from ..plurals import count_of
from .softfiles import names_ours

#: Held by every run of the installer that targets the env.
ALWAYS = "always"
#: Held only where conda's activation set the env's variables.
ACTIVATED = "activated"
#: Held only where the env is not activated (an activated ``PIP_CONSTRAINT`` names another file).
UNACTIVATED = "unactivated"
#: Not held.
NEVER = "never"


@dataclass(frozen=True)
class Hold:
    """When one installer honours the soft lock's pins.

    Attributes:
        installer: ``pip`` or ``uv``.
        when: :data:`ALWAYS`, :data:`ACTIVATED`, :data:`UNACTIVATED` or :data:`NEVER`.
        through: What names the pins to it (``pip.conf``, ``UV_CONSTRAINT``), None when never.
    """

    installer: str
    when: str
    through: str | None = None

    def text(self) -> str:
        """``pip (always: the env's pip.conf)``; ``uv (only in the activated env: ...)``."""
        if self.when == ALWAYS:
            return f"{self.installer} (always: the env's {self.through})"
        if self.when == ACTIVATED:
            return f"{self.installer} (only in the activated env: {self.through})"
        if self.when == UNACTIVATED:
            return f"{self.installer} (only outside the activated env: the env's {self.through})"
        return f"{self.installer} (never)"

    def to_dict(self) -> dict[str, Any]:
        """JSON form: installer, when, through."""
        return {"installer": self.installer, "when": self.when, "through": self.through}


def holds_of(
    prefix: Path, config_tokens: list[str], activated: Mapping[str, str]
) -> tuple[Hold, Hold]:
    """When pip and uv honour the pins of *prefix*'s soft lock.

    Args:
        prefix: The environment.
        config_tokens: The ``constraint`` pip takes from its configuration files (global, user,
            the env's pip.conf; no variables), empty when ``PIP_CONFIG_FILE`` turns them off.
        activated: The env's ``conda env config vars``.
    """
    ours = lambda value: any(names_ours(t, prefix) for t in value.split())  # noqa: E731
    # an activated PIP_CONSTRAINT replaces the configuration's constraint
    variable = activated.get("PIP_CONSTRAINT", "")
    if ours(" ".join(config_tokens)):
        when = ALWAYS if not variable or ours(variable) else UNACTIVATED
        pip = Hold("pip", when, config_basename())
    elif ours(variable):
        pip = Hold("pip", ACTIVATED, "PIP_CONSTRAINT")
    else:
        pip = Hold("pip", NEVER)
    held_uv = ours(activated.get("UV_CONSTRAINT", ""))
    uv = Hold("uv", ACTIVATED, "UV_CONSTRAINT") if held_uv else Hold("uv", NEVER)
    return pip, uv


#: What a soft lock just written holds (``mark --soft`` writes pip.conf and both variables).
WRITTEN = (Hold("pip", ALWAYS, config_basename()), Hold("uv", ACTIVATED, "UV_CONSTRAINT"))


def held_sentence(holds: tuple[Hold, ...], pins: int) -> str:
    """Who is held and when, as one clause; the installers never held are named after it.

    ``pip (always: the env's pip.conf) and uv (only in the activated env: UV_CONSTRAINT) may add
    packages but not change the 3 conda packages``.
    """
    held = [hold.text() for hold in holds if hold.when != NEVER]
    free = [hold.installer for hold in holds if hold.when == NEVER]
    if not held:
        return f"neither {' nor '.join(free)} is held by the {count_of(pins, 'pin')}"
    sentence = (
        f"{' and '.join(held)} may add packages but not change the "
        f"{count_of(pins, 'conda package')}"
    )
    if free:
        sentence += f"; {' and '.join(free)} {'is' if len(free) == 1 else 'are'} not held"
    return sentence

"""What the locks report: the result of ``mark``/``unmark``, the lock state, the error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .softstatus import SoftLockStatus


@dataclass(frozen=True)
class LockStatus:
    """The lock state of an environment.

    Attributes:
        state: ``absent``, ``pipguard`` (our hard lock), ``soft`` (only our soft lock) or
            ``foreign`` (a marker conda-pipguard did not write).
        path: Prefix-relative path where the hard marker is (or would be).
        bypassed_by: What makes pip or uv ignore the lock (variables, configuration files).
        owner: The conda package that owns a foreign marker, if any.
        soft: The soft lock, when the env carries one (alone or under a hard marker).
    """

    state: str
    path: str | None
    bypassed_by: tuple[str, ...] = ()
    owner: str | None = None
    soft: SoftLockStatus | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``marker`` object of the JSON contract (soft-lock keys only when soft-locked)."""
        data: dict[str, Any] = {
            "state": self.state,
            "path": self.path,
            "bypassed_by": list(self.bypassed_by),
        }
        if self.owner:
            data["owner"] = self.owner
        if self.soft is not None:
            data.update(self.soft.to_dict())
        return data


@dataclass(frozen=True)
class LockAction:
    """What ``mark``/``unmark`` did (or would do) to one environment.

    Attributes:
        prefix: The environment.
        path: Prefix-relative path of the lock file (None when the env has no Python).
        action: ``written``, ``unchanged``, ``removed`` or ``skipped``.
        reason: Why, in one line.
        dry_run: True when nothing was changed on purpose.
        lock: ``hard`` (the PEP 668 marker) or ``soft`` (the pip constraints).
        extra: Further JSON-ready facts.
    """

    prefix: str
    path: str | None
    action: str
    reason: str
    dry_run: bool = False
    lock: str = "hard"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: prefix, lock, path, action, reason, dry_run and any extra facts."""
        return {
            "prefix": self.prefix,
            "lock": self.lock,
            "path": self.path,
            "action": self.action,
            "reason": self.reason,
            "dry_run": self.dry_run,
            **self.extra,
        }

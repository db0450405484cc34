"""Adapters from conda's ``context`` to plain data (targets, settings, output flags)."""

from __future__ import annotations

from pathlib import Path

from ..cli.common import Target


def target_of(prefix: str | Path) -> Target:
    """*prefix* with the name conda knows it by (None when it is known only by path)."""
    from conda.base.context import env_name

    name = env_name(str(prefix))
    return Target(Path(prefix), name if isinstance(name, str) and name != str(prefix) else None)


def conda_targets(*, all_envs: bool = False) -> list[Target]:
    """The environments a ``conda pipguard`` command acts on.

    ``-n/-p`` and the default (the active env, else base) are resolved by conda itself, so that
    ``conda pipguard status`` and ``conda install`` agree on what "this environment" is.
    """
    from conda.base.context import context

    if all_envs:
        from conda.core.envs_manager import list_all_known_prefixes

        return [target_of(prefix) for prefix in sorted(list_all_known_prefixes())]
    return [target_of(context.target_prefix)]

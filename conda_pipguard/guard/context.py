"""Adapters from conda's ``context`` to plain data: the targets of a ``conda pipguard`` command."""

from __future__ import annotations

import os
from pathlib import Path

from ..cli.common import Target


def target_of(prefix: str | Path) -> Target:
    """*prefix* with the name conda knows it by (None when it is known only by path)."""
    from conda.base.context import env_name

    name = env_name(str(prefix))
    return Target(Path(prefix), name if isinstance(name, str) and name != str(prefix) else None)


def clone_source() -> tuple[str, Path] | None:
    """``conda create --clone SRC``: how the user named SRC, and its prefix; None otherwise.

    Resolved as ``conda.cli.install.clone`` resolves it: a path when it holds a separator, else
    the name of a known environment (an unknown one is conda's to report).
    """
    from conda.base.context import context, locate_prefix_by_name
    from conda.exceptions import EnvironmentNameNotFound

    source = getattr(context._argparse_args, "clone", None)
    if not isinstance(source, str) or not source:
        return None
    if os.sep in source:
        return source, Path(os.path.abspath(source))
    try:
        return source, Path(locate_prefix_by_name(source))
    except EnvironmentNameNotFound:
        return None


def check_environment(prefix: Path) -> None:
    """Refuse *prefix* as conda's own commands refuse a target that is not an environment.

    An environment is a directory with ``conda-meta`` (what the core reads), so that envs written
    by rattler, pixi or mamba count as well.

    Raises:
        EnvironmentLocationNotFound: *prefix* does not exist.
        DirectoryNotACondaEnvironmentError: It exists but has no ``conda-meta``.
    """
    from conda.exceptions import DirectoryNotACondaEnvironmentError, EnvironmentLocationNotFound

    if not prefix.is_dir():
        raise EnvironmentLocationNotFound(prefix)
    if not (prefix / "conda-meta").is_dir():
        raise DirectoryNotACondaEnvironmentError(prefix)


def conda_targets(*, all_envs: bool = False) -> list[Target]:
    """The environments a ``conda pipguard`` command acts on.

    ``-n/-p`` and the default (the active env, else base) are resolved by conda itself, so that
    ``conda pipguard status`` and ``conda install`` agree on what "this environment" is. With
    *all_envs*, every prefix conda knows: one that is not an environment is the caller's to skip.

    Raises:
        EnvironmentLocationNotFound: The one target does not exist.
        DirectoryNotACondaEnvironmentError: It exists but is not a conda environment.
    """
    from conda.base.context import context

    if all_envs:
        from conda.core.envs_manager import list_all_known_prefixes

        return [target_of(prefix) for prefix in sorted(list_all_known_prefixes())]
    target = target_of(context.target_prefix)
    check_environment(target.prefix)
    return [target]

"""The guard: conda's hooks around transactions, as thin adapters over the pure core.

* pre-command: one line when the target env holds non-conda distributions (from directory
  listings: :mod:`..core.model.glance`), or, for ``conda create --clone``, when the source
  env does: what the clone will get (:mod:`..core.rules.clone`);
* post-solve: what *this* plan does to them (names and versions), before "Proceed ([y]/n)?";
* pre-transaction ``verify``: exact file collisions, from the extracted packages' paths.json;
* post-transaction: keep the locks right (marker where the env's Python looks, soft-lock pins
  current) and auto-mark per settings.

The pre-command starts the command's :class:`~.session.GuardSession`; every other hook takes it
and passes it on. The first three share one look at the env, kept in it (:mod:`.envcache`),
post-solve and verify adding the records of the packages their plan names; the last reads only
what a lock of ours or auto-marking needs. Every hook is wrapped by :func:`never_break_conda`:
one warning line per command on failure, a refusal in ``block`` mode. The transaction
``Action`` classes live in :mod:`.actions` (they subclass conda's ``Action``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import envcache, session, settings
from .safety import never_break_conda, say

# The core is imported inside the hooks that use it, after the mode is read: with
# ``pipguard_mode: off`` a conda command imports only this module, settings and safety.
if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..core.disk.environment import Environment
    from ..core.disk.python import PythonLayout
    from ..core.rules.impact import Impact, PlannedPackage
    from .session import GuardSession

#: Commands that can run conda's own pip step (an environment file with a ``pip:`` section).
PIP_STEP_COMMANDS = frozenset({"create", "env_create", "env_update", "update", "install"})
_BREAK_VARS = ("PIP_BREAK_SYSTEM_PACKAGES", "UV_BREAK_SYSTEM_PACKAGES")


def _target_prefix() -> str:
    from conda.base.context import context

    return context.target_prefix


# -- pre-command ------------------------------------------------------------------------------


def pre_command(command: str) -> None:
    """Start of a conda command that changes an env: a new session, then the risk line."""
    _pre_command(session.start(command))


@never_break_conda("pre-command")
def _pre_command(current: GuardSession) -> None:
    """Warn once before conda starts solving for an env pip has touched."""
    _keep_pip_step_working(current)
    if settings.mode() == "off":
        return
    if current.command == "create" and (line := _clone_line(current)) is not None:
        say([line])
        return
    seen = envcache.glance_of(current, _target_prefix())
    line = seen.risk_line() if seen is not None else None
    if line:
        say([line])


def _clone_line(current: GuardSession) -> str | None:
    """What ``conda create --clone SRC`` gets of a pip-touched SRC; None without ``--clone``."""
    from .context import clone_source

    source = clone_source()
    if source is None:
        return None
    seen = envcache.glance_of(current, source[1])
    if seen is None:
        return None
    from ..core.rules.clone import clone_line

    return clone_line(seen, source[0])


def _keep_pip_step_working(current: GuardSession) -> None:
    """Let conda's own pip step (``pip:`` in an environment file) install into a locked env.

    The variables are set for this conda process only (conda passes its environment to the pip
    subprocess) and restored by the post-command hook.
    """
    from conda.base.context import context

    if current.command not in PIP_STEP_COMMANDS or not getattr(
        context._argparse_args, "file", None
    ):
        return
    from ..core.locks.marker import has_hard_marker

    prefix = Path(context.target_prefix)
    if not (has_hard_marker(prefix) or settings.auto_mark() != "none"):
        return
    for name in _BREAK_VARS:
        current.saved_environ.setdefault(name, os.environ.get(name))
        os.environ[name] = "1"


@never_break_conda("post-command", fail_closed=None)
def post_command(command: str) -> None:
    """Restore the variables :func:`_keep_pip_step_working` set."""
    saved = session.current().saved_environ
    while saved:
        name, value = saved.popitem()
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


# -- post-solve -------------------------------------------------------------------------------


def planned(
    records: Iterable[Any], paths: dict[str, tuple[str, ...]] | None = None
) -> list[PlannedPackage]:
    """Conda's package records as plain data."""
    from ..core.rules.impact import PlannedPackage

    return [
        PlannedPackage(rec.name, rec.version, rec.build, (paths or {}).get(rec.name))
        for rec in records
    ]


def render_impacts(impacts: list[Impact], *, header: str | None) -> list[str]:
    """A header (if any), then one line per impact with its fix."""
    from ..core.printable import printable

    lines = [header] if header else []
    for item in impacts:
        lines.append(printable(f"  - {item.message}"))
        lines.append(printable(f"    fix: {item.fix}"))
    return lines


def _blocked(impacts: list[Impact], env: Environment) -> Exception:
    from .errors import PipguardBlocked

    return PipguardBlocked(render_impacts(impacts, header=None), env.target_flag)


@never_break_conda("post-solve")
def post_solve(repodata_fn: str, unlink_precs: Iterable[Any], link_precs: Iterable[Any]) -> None:
    """Name what this plan does to non-conda packages; refuse it in block mode."""
    mode = settings.mode()
    if mode == "off":
        return
    current = session.current()
    unlink_precs, link_precs = list(unlink_precs), list(link_precs)
    names = [rec.name for rec in (*unlink_precs, *link_precs)]
    layer = envcache.layer_of(current, _target_prefix(), names)
    if layer is None:  # not an env, or nothing in it a plan could affect
        return
    from ..core.rules.impact import impact

    env = layer.env
    impacts = impact(env, planned(unlink_precs), planned(link_precs), layer=layer)
    if not impacts:
        return
    current.reported.update((item.distribution, item.conda_package) for item in impacts)
    if mode == "block":
        raise _blocked(impacts, env)
    say(render_impacts(impacts, header="conda-pipguard: this plan affects packages pip installed:"))


# -- transaction actions ----------------------------------------------------------------------


def _extracted_paths(precs: Iterable[Any], site_packages: str | None) -> dict[str, tuple[str, ...]]:
    from conda.core.package_cache_data import PackageCacheData
    from conda.gateways.disk.read import read_paths_json

    from ..core.disk.records import PathMapper

    mapper = PathMapper(site_packages)
    result = {}
    for prec in precs:
        entry = PackageCacheData.get_entry_to_link(prec)
        noarch = str(getattr(prec.noarch, "value", prec.noarch) or "") or None
        paths = read_paths_json(entry.extracted_package_dir).paths
        result[prec.name] = tuple(mapper(item.path, noarch) for item in paths)
    return result


def verify_transaction(action: Any) -> Exception | None:
    """File-level collisions of the packages this transaction links; a block is *returned*."""
    mode = settings.mode()
    if mode == "off":
        return None
    current = session.current()
    link_precs, unlink_precs = list(action.link_precs or ()), list(action.unlink_precs or ())
    names = [rec.name for rec in (*unlink_precs, *link_precs)]
    layer = envcache.layer_of(current, action.target_prefix, names)
    if layer is None:
        return None
    from ..core.rules.impact import impact

    env = layer.env
    unlink = planned(unlink_precs)
    site = (action.transaction_context or {}).get("target_site_packages_short_path")
    if site is None and env.python:
        site = env.python.site_packages
    link = planned(link_precs, _extracted_paths(link_precs, site))
    impacts = [
        item
        for item in impact(env, unlink, link, layer=layer)
        if item.kind == "overwrite" and item.paths
    ]
    if not impacts:
        return None
    if mode == "block":
        return _blocked(impacts, env)
    new = [i for i in impacts if (i.distribution, i.conda_package) not in current.reported]
    if new:
        say(render_impacts(new, header="conda-pipguard: files pip installed will be overwritten:"))
    return None


def _python_now(prefix: Path) -> PythonLayout | None:
    """The env's Python after the transaction, found as every reader finds it."""
    from ..core.disk.condameta import CondaMeta
    from ..core.disk.python import discover

    return discover(CondaMeta(prefix))


def keep_locks_right(action: Any) -> None:
    """After a transaction: marker where the env's Python looks, soft pins current, auto-mark.

    An env with no lock of ours and no auto-mark to do is not read at all. A frozen env (CEP
    22) is left as it is, in one line, unless conda's ``--override-frozen`` is in effect.
    """
    from conda.base.context import context

    from ..core.disk.places import may_hold_lock

    session.current().glances.clear()  # the transaction changed the env
    prefix = Path(os.path.abspath(action.target_prefix))
    if not (prefix / "conda-meta").is_dir():
        return
    wanted = settings.auto_mark()
    is_base = os.path.realpath(prefix) == os.path.realpath(context.root_prefix)
    auto = wanted == "all" or (wanted == "base" and is_base)
    if not (auto or may_hold_lock(prefix)):
        return  # no lock file of any kind here: the lock readers are not even imported
    from ..core.disk.frozen import OVERRIDE, read_freeze

    freeze = read_freeze(prefix) if context.protect_frozen_envs else None
    if freeze is not None:
        say(
            [
                f"conda-pipguard: {prefix} is {freeze.describe()}: its pip locks were left as "
                f"they were (with {OVERRIDE} they are kept right)"
            ]
        )
        return
    from ..core.locks.marker import has_hard_marker
    from ..core.locks.softfiles import is_soft_locked

    hard, soft = has_hard_marker(prefix), is_soft_locked(prefix)
    if not (hard or soft or auto):
        return
    from ..core.disk.environment import target_flag
    from ..core.locks.marker import sync_hard_marker, write_marker
    from ..core.locks.soft import refresh_soft_lock, write_soft_lock
    from .context import target_of

    python = _python_now(prefix)
    target = target_flag(prefix, target_of(prefix).name)
    actions = list(sync_hard_marker(prefix, python, target)) if hard else []
    refreshed = refresh_soft_lock(prefix) if soft else None
    if refreshed is not None:
        actions.append(refreshed)
    if python is not None and auto:
        if settings.auto_mark_soft():
            if not soft:
                actions.append(write_soft_lock(prefix, target))
        elif not has_hard_marker(prefix):
            actions.append(write_marker(prefix, python, target))
    changed = [a for a in actions if a.action in ("written", "removed")]
    if changed and context.verbose:
        say([f"conda-pipguard: {a.path}: {a.action} ({a.reason})" for a in changed])

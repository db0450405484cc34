"""The commands of a repair plan, spelled for ``subprocess`` and for people.

The order is what makes a repair safe:

1. ``check``: conda downloads every package it will reinstall into its package cache
   (``--download-only``), which proves that it can get them (channel or cache, ``--offline``
   honoured) while the environment is still untouched. A mere ``--dry-run`` solve is not enough:
   it succeeds from the channel index even when the package file itself is gone.
2. ``pip-uninstall``: one run per installed copy of each project (pip removes one copy per run
   and may pick any of them when there are several); pip itself last, so that it is still there
   for the others. Without pip in the env, ``remove-files`` removes exactly the files the
   distribution's RECORD lists inside the prefix, as pip would, and nothing reached through a
   link that leads out of it (:mod:`.removefiles`).
3. ``remove-files`` for stale metadata: the files of a distribution's RECORD that no conda
   package owns, and its metadata directory; conda's files are not touched.
4. ``conda-reinstall``: one ``conda install --force-reinstall`` of every package, after *all*
   removals, because pip removes every file its RECORD lists, including files of conda's that
   it overwrote: uninstalling after a reinstall would break conda's copy again.
5. ``remove-files`` for leftovers: files no record and no distribution lists, among a conda
   package's own. Last, after conda has put its own files back: until then another install's
   files may be what imports, and a failed reinstall must not leave the package with neither.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..plurals import count_of
from . import removefiles

#: What conda needs to be spelled as: ``("conda",)``, ``(sys.executable, "-m", "conda")``...
CondaLauncher = Sequence[str]

#: The module a ``remove-files`` step runs (``python -I -m MODULE PREFIX PATH...``).
REMOVE_MODULE = removefiles.__name__


@dataclass(frozen=True)
class Step:
    """One command of the plan.

    Attributes:
        action: ``check``, ``pip-uninstall``, ``remove-files`` or ``conda-reinstall``.
        argv: The command, ready for ``subprocess``.
        purpose: One line saying why.
        env: Variables set for this command only.
        summary: How the plan shows a command too long to read (``remove-files``); '' shows
            the command itself.
    """

    action: str
    argv: tuple[str, ...]
    purpose: str
    env: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def command(self) -> str:
        """The command as a shell would take it, variables first."""
        assignments = [f"{key}={shlex.quote(value)}" for key, value in sorted(self.env.items())]
        return " ".join([*assignments, shlex.join(self.argv)])

    @property
    def shown(self) -> str:
        """What a plan for people prints."""
        return self.summary or self.command

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "action": self.action,
            "command": self.command,
            "argv": list(self.argv),
            "env": dict(self.env),
            "purpose": self.purpose,
        }


def conda_steps(
    conda: CondaLauncher,
    prefix: str,
    specs: Sequence[str],
    channels: Sequence[str],
    names: str,
    *,
    offline: bool,
) -> tuple[Step, Step]:
    """The ``check`` and ``conda-reinstall`` steps around the removals."""
    options = [arg for channel in channels for arg in ("-c", channel)]
    if offline:
        options.append("--offline")
    base = (*conda, "install", "-p", prefix, "--force-reinstall")
    # Our own guard would warn about (or, in block mode, refuse) the very transactions that
    # repair the env: it is off for these two conda commands; the locks are still kept right.
    quiet_guard = {"CONDA_PLUGINS_PIPGUARD_MODE": "off"}
    verb = "reinstall" if len(specs) == 1 else "reinstall all of"
    check = Step(
        "check",
        (*base, "--download-only", "--json", "-y", *options, *specs),
        f"make sure conda can get {names} before anything is removed "
        "(fills conda's package cache, changes nothing in the environment)",
        dict(quiet_guard),
    )
    reinstall = Step(
        "conda-reinstall",
        (*base, "-y", *options, *specs),
        f"{verb} conda's own {names}",
        dict(quiet_guard),
    )
    return check, reinstall


def remove_files_step(
    python: str, prefix: str, paths: Sequence[str], purpose: str, what: str
) -> Step:
    """A ``remove-files`` step run by *python*, which must import conda-pipguard (this one's)."""
    return Step(
        "remove-files",
        (python, "-I", "-m", REMOVE_MODULE, prefix, *paths),
        purpose,
        summary=f"remove {what} ({count_of(len(paths), 'path')} under {prefix})",
    )

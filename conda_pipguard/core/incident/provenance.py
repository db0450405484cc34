"""Where and when a non-conda distribution came from: its metadata's source and time.

pip and uv keep no log. What is left is ``direct_url.json`` (a URL, a VCS commit, a local path,
an editable source; absent for an index install) and the time its metadata directory was
written. Times that were copied or touched are said to be doubtful or unknown, never trusted
silently.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..disk.distributions import Distribution
from ..disk.environment import Environment
from ..disk.history import parse_history_time

__all__ = ["Stamp", "describe_source", "format_time", "parse_history_time", "read_stamps"]

#: mtime and ctime of a metadata directory further apart than this: copied or touched later.
_STAMP_DISAGREE = 120.0
_HISTORY_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Stamp:
    """When a distribution's metadata was written, as far as the file system tells.

    Attributes:
        when: Seconds since the epoch, or None when it cannot be known.
        note: Why the time is unknown or doubtful ('' when it looks sound).
    """

    when: float | None
    note: str = ""


def format_time(when: float | None, *, seconds: bool = False) -> str | None:
    """Local time as conda's history writes it (minutes unless *seconds*); None when unknown."""
    if when is None:
        return None
    return time.strftime(_HISTORY_TIME if seconds else "%Y-%m-%d %H:%M", time.localtime(when))


def read_stamps(env: Environment, dists: Iterable[Distribution]) -> dict[str, Stamp]:
    """When each of *dists* was installed, from its metadata directory (keyed by path).

    The modification time of a dist-info directory is when its installer wrote its last file
    (``RECORD``, ``INSTALLER``). A change time far from it means the directory was copied with
    its times or touched later; a time before the env's first conda transaction cannot be an
    install into this env. Both are reported, never trusted silently.
    """
    first = next(
        (t for t in (parse_history_time(r.date) for r in env.history.revisions) if t), None
    )
    cloned = env.history.cloned()
    stamps: dict[str, Stamp] = {}
    for dist in dists:
        try:
            info = os.lstat(env.prefix / dist.path)
        except OSError as err:
            stamps[dist.path] = Stamp(None, f"its metadata cannot be read ({err.strerror})")
            continue
        if cloned is not None and cloned[1] is not None and info.st_mtime < cloned[1] + 1:
            stamps[dist.path] = _cloned_stamp(env, dist, cloned[0])
            continue
        if first is not None and info.st_mtime < first - 60:
            stamps[dist.path] = Stamp(
                None,
                f"its metadata is dated {format_time(info.st_mtime)}, before the env existed "
                "(copied with its times?)",
            )
        elif abs(info.st_ctime - info.st_mtime) > _STAMP_DISAGREE:
            stamps[dist.path] = Stamp(
                info.st_mtime,
                f"its metadata was changed again at {format_time(info.st_ctime)} "
                "(copied or touched?): the install time may be off",
            )
        else:
            stamps[dist.path] = Stamp(info.st_mtime)
    return stamps


def _cloned_stamp(env: Environment, dist: Distribution, source: str) -> Stamp:
    """A distribution ``conda create --clone`` copied: installed in *source*.

    Its time is its ``RECORD``'s, which conda copies with its times.
    """
    try:
        when: float | None = os.lstat(env.prefix / dist.path / "RECORD").st_mtime
    except OSError:
        when = None
    return Stamp(when, f"installed in {source}; `conda create --clone` copied it here")


def describe_source(dist: Distribution) -> str:
    """Where a distribution came from, from its ``direct_url.json`` (an index when absent)."""
    direct = dist.direct_url
    if not isinstance(direct, dict) or not isinstance(direct.get("url"), str):
        return "from an index" if dist.kind == "dist-info" else "from an unknown source"
    url: str = direct["url"]
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        return f"from {vcs.get('vcs', 'vcs')} {url}" + (f" at {str(commit)[:12]}" if commit else "")
    dir_info = direct.get("dir_info")
    if isinstance(dir_info, dict):
        path = url.removeprefix("file://")
        return f"editable from {path}" if dir_info.get("editable") else f"from the directory {path}"
    if url.startswith("file://"):
        return f"from the file {url.removeprefix('file://')}"
    return f"from {url}"

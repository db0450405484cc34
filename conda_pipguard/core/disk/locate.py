"""Find environments without conda: by name, and all of them (for ``--all``).

Inside conda, the glue asks conda itself (``context``); this is for the standalone command on
machines with micromamba, pixi or a CI image that have ``conda-meta`` but no conda.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import EnvironmentNotFound
from . import safeio


def _roots(environ: Mapping[str, str]) -> list[Path]:
    roots = []
    for var in ("CONDA_ROOT", "MAMBA_ROOT_PREFIX", "CONDA_PREFIX_1"):
        if environ.get(var):
            roots.append(Path(environ[var]))
    if environ.get("CONDA_EXE"):  # <root>/bin/conda or <root>/condabin/conda
        roots.append(Path(environ["CONDA_EXE"]).parent.parent)
    return roots


def _registry(environ: Mapping[str, str]) -> list[Path]:
    home = environ.get("HOME") or environ.get("USERPROFILE")
    if not home:
        return []
    try:  # bounded and non-blocking, as every read: a FIFO there must not hang `--all`
        text = safeio.read_text(
            Path(home) / ".conda" / "environments.txt", limit=safeio.SMALL_LIMIT, errors="replace"
        )
    except OSError:
        return []
    return [Path(line.strip()) for line in text.splitlines() if line.strip()]


def known_prefixes(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Every environment we can find: registered ones, and ``envs/`` of known roots."""
    environ = os.environ if environ is None else environ
    found: dict[str, Path] = {}
    candidates = list(_registry(environ))
    for root in _roots(environ):
        candidates.append(root)
        envs = root / "envs"
        if envs.is_dir():
            candidates.extend(sorted(envs.iterdir()))
    for path in environ.get("CONDA_ENVS_PATH", "").split(os.pathsep):
        if path and Path(path).is_dir():
            candidates.extend(sorted(Path(path).iterdir()))
    for candidate in candidates:
        if (candidate / "conda-meta").is_dir():
            found.setdefault(os.path.realpath(candidate), candidate)
    return list(found.values())


def prefix_of_name(name: str, environ: Mapping[str, str] | None = None) -> Path:
    """The prefix of the env called *name*.

    Raises:
        EnvironmentNotFound: No env of that name is known.
    """
    environ = os.environ if environ is None else environ
    if name == "base":
        for root in _roots(environ):
            if (root / "conda-meta").is_dir():
                return root
    for prefix in known_prefixes(environ):
        if prefix.name == name:
            return prefix
    raise EnvironmentNotFound(name)

"""Run what ``status`` prints as a user would: fix lines in a shell, imports in the env.

Every subprocess runs in the kit's isolated environment (no pip or uv configuration of the
machine); ``conda`` on ``PATH`` is this interpreter's conda, as a user's shell would have it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.support.envkit import env_python, isolated_env


def shell_env(home: Path, find_links: Iterable[Path] = ()) -> dict[str, str]:
    """The isolated environment, with a ``conda`` command first on ``PATH`` and no UV_* vars."""
    shims = home / "shims"
    shims.mkdir(parents=True, exist_ok=True)
    conda = shims / "conda"
    conda.write_text(f'#!/bin/sh\nexec {sys.executable} -m conda "$@"\n')
    conda.chmod(0o755)
    uv = Path(sys.executable).with_name("uv")
    if uv.exists() and not (shims / "uv").exists():
        (shims / "uv").symlink_to(uv)
    env = {k: v for k, v in isolated_env(home, find_links=list(find_links)).items()}
    env = {k: v for k, v in env.items() if not k.startswith("UV_")}
    # the conda the fix lines call is configured as this test configured conda (offline,
    # classic solver, its own package cache): the session has no machine CONDA_* left to leak
    env.update({k: v for k, v in os.environ.items() if k.startswith("CONDA_")})
    env.update(
        {
            "PATH": f"{shims}{os.pathsep}{env.get('PATH', '')}",
            "UV_NO_CONFIG": "1",
            "UV_CACHE_DIR": str(home / ".cache" / "uv"),
            "UV_NO_INDEX": "1",
            "UV_FIND_LINKS": ",".join(str(p) for p in find_links),
            "UV_PYTHON_DOWNLOADS": "never",
        }
    )
    return env


def run_line(
    line: str, home: Path, find_links: Iterable[Path] = (), answer: str = "y\n"
) -> subprocess.CompletedProcess[str]:
    """Run a printed fix line verbatim in ``sh``, answering *answer* to any prompt."""
    return subprocess.run(
        ["sh", "-c", line],
        input=answer,
        capture_output=True,
        text=True,
        env=shell_env(home, find_links),
        check=False,
    )


def importable(
    prefix: Path, names: Iterable[str], home: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """``{module: version or "" | None}``: what imports in the env's Python (None: it fails)."""
    result: dict[str, str | None] = {}
    env = isolated_env(home, env_extra=extra)
    for name in names:
        code = f"import {name}; print(getattr({name}, '__version__', ''))"
        proc = subprocess.run(
            [str(env_python(prefix)), "-c", code],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        result[name] = proc.stdout.strip() if proc.returncode == 0 else None
    return result


def never_worse(before: Mapping[str, str | None], after: Mapping[str, str | None]) -> list[str]:
    """Modules that imported before and do not now."""
    return [name for name, version in before.items() if version is not None and after[name] is None]

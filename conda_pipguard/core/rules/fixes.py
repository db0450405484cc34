"""How findings spell their fixes: commands a user can copy, each safe to run as printed.

A fix that changes the environment is ``conda pipguard fix`` for that environment (it checks that
conda can get every package before it removes anything, and removes exactly what it must) or a
single command that carries everything it needs (exact version, and for conda the channel and
build) and changes nothing when it fails.
"""

from __future__ import annotations

import shlex

from ..disk.distributions import Distribution
from ..disk.environment import Environment


class FixCommands:
    """Spell the commands that fix an environment, for the user to copy.

    Args:
        env: The environment the commands act on.
    """

    def __init__(self, env: Environment) -> None:
        self.target = env.target_flag
        executable = env.python.executable if env.python else "bin/python"
        self.python = shlex.quote(str(env.prefix / executable))
        self.has_pip = any(dist.key == "pip" for dist in env.distributions)

    def pip(self, *args: str) -> str:
        """``<env python> -m pip ARGS``."""
        return " ".join((self.python, "-m", "pip", *(shlex.quote(a) for a in args)))

    def reinstall_dist(self, dist: Distribution) -> str:
        """Reinstall exactly *dist* (no dependencies) with a tool that can act on this env.

        The env's own pip when it has one; else uv for a distribution uv installed; else the
        pip of whatever Python the user runs, pointed at the env (``pip --python``, pip >= 22.3).
        pip and uv download before they remove anything: a failure changes nothing.
        """
        pinned_raw = f"{dist.name}=={dist.version}"
        pinned = shlex.quote(pinned_raw)
        if self.has_pip:
            return self.pip("install", "--force-reinstall", "--no-deps", pinned_raw)
        if (dist.installer or "").startswith("uv"):
            return f"uv pip install --python {self.python} --reinstall --no-deps {pinned}"
        return f"python -m pip --python {self.python} install --force-reinstall --no-deps {pinned}"

    def conda(self, verb: str, *args: str) -> str:
        """``conda VERB <target> ARGS``."""
        return " ".join(("conda", verb, self.target, *(shlex.quote(a) for a in args)))

    def repair(self) -> str:
        """``conda pipguard fix <target>``: the safe repair of everything at once."""
        return f"conda pipguard fix {self.target}"

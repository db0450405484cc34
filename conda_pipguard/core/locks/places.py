"""Where the locks live in an environment, and the cheap look for whether it may carry one.

Imported by the post-transaction hook of every conda command, whatever ``pipguard_mode``
says: it imports nothing but :mod:`os`, so an environment without a lock costs that hook a few
``stat`` calls and no modules (the readers of the lock files come in only when one is there).
"""

from __future__ import annotations

import glob
import os

#: The PEP 668 marker, in a stdlib directory.
MARKER_NAME = "EXTERNALLY-MANAGED"
#: The soft lock's own files, prefix-relative.
STATE_DIR = "etc/conda-pipguard"


def config_basename() -> str:
    """The name of pip's configuration files on this platform."""
    return "pip.ini" if os.name == "nt" else "pip.conf"


def may_hold_lock(prefix: str | os.PathLike[str]) -> bool:
    """Whether *prefix* has any file a lock consists of: a marker, our state, a pip config.

    False means it carries neither lock; True means the lock readers must look.
    """
    root = os.fspath(prefix)
    return (
        os.path.isdir(os.path.join(root, STATE_DIR))
        or os.path.exists(os.path.join(root, config_basename()))
        or os.path.exists(os.path.join(root, "Lib", MARKER_NAME))
        or bool(glob.glob(os.path.join(glob.escape(root), "lib", "python3*", MARKER_NAME)))
    )

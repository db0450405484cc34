"""Where conda-pipguard keeps its files in an environment, and cheap looks for them.

Imported by the post-transaction hook of every conda command, whatever ``pipguard_mode``
says: it imports nothing but :mod:`os` and :mod:`glob`, so an environment without a lock or
kept records costs that hook a few ``stat`` calls and no modules (the readers come in only
when there is something to read).
"""

from __future__ import annotations

import glob
import os

#: The PEP 668 marker, in a stdlib directory.
MARKER_NAME = "EXTERNALLY-MANAGED"
#: The soft lock's own files, prefix-relative.
STATE_DIR = "etc/conda-pipguard"
#: Our copies of records ``conda list``/``export`` delete, inside ``conda-meta``.
EVIDENCE_DIR = ".pipguard-records"


def config_basename() -> str:
    """The name of pip's configuration files on this platform."""
    return "pip.ini" if os.name == "nt" else "pip.conf"


def has_kept_records(prefix: str | os.PathLike[str]) -> bool:
    """Whether *prefix* holds copies of records we kept (see :mod:`.kept_records`)."""
    return os.path.isdir(os.path.join(os.fspath(prefix), "conda-meta", EVIDENCE_DIR))


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

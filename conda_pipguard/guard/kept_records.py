"""Keep the conda records that ``conda list``/``conda export`` delete, and drop stale copies.

conda's PyPI loader deletes the ``conda-meta`` record of every package pip replaced; afterwards
only the history's name, version and build are left, not the file list and hashes that make the
diagnosis exact and the repair certain. Before those commands, the records at risk (found from
names and anchor files, see :mod:`conda_pipguard.core.disk.kept_records`) are copied into
``conda-meta/.pipguard-records/``, which conda does not read. After a transaction, copies of
packages conda has since unlinked or relinked are removed. Nothing is written when no record is
at risk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..core.disk import safeio
from ..core.disk.condameta import CondaMeta, split_record_name
from ..core.disk.kept_records import EVIDENCE_DIR, RecordAtRisk, records_at_risk
from .safety import never_break_conda, say


def _evidence_dir(prefix: Path) -> Path | None:
    """``conda-meta/.pipguard-records`` when it is (or can be) a real directory in the prefix."""
    meta = prefix / "conda-meta"
    folder = meta / EVIDENCE_DIR
    if meta.is_symlink() or folder.is_symlink():
        return None
    if folder.exists() and not folder.is_dir():
        return None
    return folder


def _write_copy(prefix: Path, source: Path, folder: Path) -> bool:
    """Copy *source* into *folder* atomically; False when an identical copy is already there.

    Both are read through the bounded reader: a FIFO or a link to ``/dev/zero`` in place of a
    copy neither blocks nor fills memory, and is replaced by the copy. A record that cannot be
    read is not copied.
    """
    try:
        data = safeio.read_bytes(source, limit=safeio.RECORD_JSON_LIMIT, root=str(prefix))
    except OSError:
        return False
    target = folder / source.name
    try:
        if safeio.read_bytes(target, limit=len(data), root=str(folder)) == data:
            return False
    except OSError:
        pass  # none, or not a copy we can read (a FIFO, a device, too large): replaced
    folder.mkdir(exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def keep_records(prefix: Path) -> list[RecordAtRisk]:
    """Copy the records conda's PyPI loader would delete; return those newly copied."""
    at_risk = records_at_risk(prefix)
    folder = _evidence_dir(prefix) if at_risk else None
    if folder is None:
        return []
    return [
        record
        for record in at_risk
        if _write_copy(prefix, prefix / "conda-meta" / record.file_name, folder)
    ]


def keep_line(command: str, copied: list[RecordAtRisk]) -> str:
    """The one line that says what was kept."""
    verb = command.replace("env_", "env ")
    names = ", ".join(f"{record.name} {record.version}" for record in copied)
    plural = "records" if len(copied) > 1 else "record"
    return (
        f"conda {verb} will drop conda's {plural} of {names}, which pip replaced; "
        f"{'copies are' if len(copied) > 1 else 'a copy is'} kept in "
        f"conda-meta/{EVIDENCE_DIR} for conda pipguard"
    )


@never_break_conda("pre-command")
def keep_evidence(command: str) -> None:
    """Pre-command of ``conda list``/``export``: keep what conda is about to delete."""
    from conda.base.context import context

    prefix = Path(context.target_prefix)
    if not (prefix / "conda-meta").is_dir():
        return
    copied = keep_records(prefix)
    if copied:
        say([keep_line(command, copied)])


def drop_stale_copies(prefix: Path) -> list[str]:
    """Remove copies of packages conda has since unlinked or relinked; return their names."""
    folder = _evidence_dir(prefix)
    if folder is None or not folder.is_dir():
        return []
    from ..core.disk.history import read_history

    live = set(CondaMeta(prefix).files)
    linked = read_history(prefix).current()
    dropped = []
    for path in sorted(folder.glob("*.json")):
        parts = split_record_name(path.name)
        current = linked.get(parts[0]) if parts else None
        if (
            parts is None
            or parts[0] in live
            or current is None
            or (current.version, current.build) != parts[1:]
        ):
            path.unlink(missing_ok=True)
            dropped.append(path.name)
    if not any(folder.iterdir()):
        folder.rmdir()
    return dropped


def after_transaction(action: object) -> None:
    """Post-transaction: drop the copies the transaction made stale."""
    prefix = Path(getattr(action, "target_prefix", ""))
    if (prefix / "conda-meta").is_dir():
        drop_stale_copies(prefix)

"""pip's own resolution, without writing: ``pip install --dry-run --report``, read.

pip (since 23.0) resolves exactly as it would install, with the user's configuration, and says
what it would install in a JSON report: each project's name and version, where its file comes
from, whether the user asked for it. With ``--report``, pip skips its PEP 668 check; in an env
whose marker is not ours, the dry run is first made without it, so that pip's own refusal is
what the user sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..disk import safeio
from ..disk.names import canonicalize_name
from ..errors import CannotCheck
from .arguments import PipArguments
from .child import ChildResult
from .pipenv import Pip

#: The most bytes of report read (a report is a few KiB per project).
REPORT_LIMIT = 64 * safeio.MiB


@dataclass(frozen=True)
class Planned:
    """One project pip would install.

    Attributes:
        name: Its name, as its metadata spells it.
        version: Its version.
        url: Where its file comes from (``download_info.url``).
        requested: The user asked for it (else it is a dependency).
        sha256: The file's hash, when pip gives one.
        archive: A file (a wheel or an sdist), not a directory or a VCS checkout.
        editable: An editable (development) install.
        vcs: ``vcs+url@commit`` of a VCS requirement, else ''.
        subdirectory: The project's subdirectory in a VCS checkout or an archive.
        requires: Its ``Requires-Dist``.
    """

    name: str
    version: str
    url: str
    requested: bool = False
    sha256: str | None = None
    archive: bool = True
    editable: bool = False
    vcs: str = ""
    subdirectory: str = ""
    requires: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The canonical project name."""
        return canonicalize_name(self.name)

    @property
    def local_path(self) -> str | None:
        """The file or directory of a ``file:`` URL, else None."""
        parts = urlsplit(self.url)
        return unquote(parts.path) if parts.scheme == "file" else None

    @property
    def is_wheel(self) -> bool:
        """Its file is a wheel."""
        return self.archive and urlsplit(self.url).path.endswith(".whl")

    @property
    def origin(self) -> str:
        """Where it comes from, for people: a local path, or the file name and its host."""
        local = self.local_path
        if local is not None:
            return local
        if self.vcs:
            return self.vcs
        parts = urlsplit(self.url)
        return f"{parts.path.rsplit('/', 1)[-1]} from {parts.hostname or parts.scheme}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the plan of ``pip install --json``)."""
        return {
            "name": self.name,
            "version": self.version,
            "url": self.url,
            "requested": self.requested,
            "sha256": self.sha256,
            "editable": self.editable,
        }


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _planned(item: object) -> Planned:
    """One ``install`` entry of pip's report.

    Raises:
        CannotCheck: It lacks what a checked install needs (a name, a version, a URL).
    """
    info = item if isinstance(item, dict) else {}
    metadata = info.get("metadata") if isinstance(info.get("metadata"), dict) else {}
    download = info.get("download_info") if isinstance(info.get("download_info"), dict) else {}
    name, version, url = (
        _text(metadata.get("name")),
        _text(metadata.get("version")),
        _text(download.get("url")),
    )
    if not (name and version and url):
        raise CannotCheck("pip's report names a project without a name, version or URL")
    archive = download.get("archive_info")
    directory = download.get("dir_info")
    vcs_info = download.get("vcs_info")
    hashes = archive.get("hashes") if isinstance(archive, dict) else None
    sha256 = _text(hashes.get("sha256")) if isinstance(hashes, dict) else ""
    vcs = ""
    if isinstance(vcs_info, dict) and _text(vcs_info.get("vcs")):
        commit = _text(vcs_info.get("commit_id"))
        vcs = f"{vcs_info['vcs']}+{url}" + (f"@{commit}" if commit else "")
    requires = metadata.get("requires_dist")
    return Planned(
        name=name,
        version=version,
        url=url,
        requested=info.get("requested") is True,
        sha256=sha256.lower() or None,
        archive=isinstance(archive, dict),
        editable=isinstance(directory, dict) and directory.get("editable") is True,
        vcs=vcs,
        subdirectory=_text(download.get("subdirectory")),
        requires=tuple(r for r in requires if isinstance(r, str))
        if isinstance(requires, list)
        else (),
    )


def read_report(path: Path, scratch: Path) -> tuple[Planned, ...]:
    """The projects of pip's report at *path*, in pip's order.

    Raises:
        CannotCheck: The report is missing, too large or not pip's.
    """
    try:
        data = safeio.load_json(path, limit=REPORT_LIMIT, root=str(scratch))
    except (OSError, ValueError) as err:
        raise CannotCheck(f"cannot read pip's report: {err}") from None
    items = data.get("install") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise CannotCheck("pip's report has no list of what it would install")
    return tuple(_planned(item) for item in items)


def resolve(
    pip: Pip, arguments: PipArguments, scratch: Path, *, foreign_marker: bool = False
) -> tuple[Planned, ...]:
    """What pip would install for *arguments*, decided by pip, nothing written.

    Args:
        pip: The pip to run.
        arguments: pip's ``install`` arguments.
        scratch: The check's directory (the report goes there).
        foreign_marker: The env carries a PEP 668 marker that is not ours: pip decides first
            whether it installs at all.

    Raises:
        CannotCheck: pip refused (its output is kept), or its report cannot be read.
    """
    if foreign_marker:
        refusal = pip.run("install", "--dry-run", *arguments.resolve)
        if not refusal.ok:
            raise _refused(refusal)
    report = scratch / "report.json"
    # not --quiet: when pip refuses, its explanation ("The conflict is caused by...") is kept
    done = pip.run("install", "--dry-run", "--report", str(report), *arguments.resolve)
    if not done.ok:
        raise _refused(done)
    return read_report(report, scratch)


def _refused(result: ChildResult) -> CannotCheck:
    if result.timed_out:
        return CannotCheck(
            "pip did not finish resolving in time and was stopped; nothing was installed",
            result.output(),
        )
    return CannotCheck(
        f"pip refused (exit code {result.returncode}); nothing was installed",
        result.output(),
        result.returncode,
    )

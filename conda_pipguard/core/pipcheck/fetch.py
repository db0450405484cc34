"""Every file pip resolved, as a wheel in the check's scratch directory.

The wheels checked are the wheels installed: the final install takes them from here, pinned
by hash, so a file changed on the index or on disk after the check cannot slip in.

* a local wheel is copied (its hash checked against pip's report as it is copied);
* a wheel on an index is downloaded by pip from the exact URL pip resolved, hash-pinned, with
  the user's index and network options (``pip download --no-deps``);
* anything else (an sdist, a local project, a VCS checkout) is built by pip into a wheel
  (``pip wheel --no-deps``) with the user's build options.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..disk import safeio
from ..errors import CannotCheck
from .arguments import PipArguments
from .pipenv import Pip
from .resolution import Planned
from .wheelfile import WHEEL_LIMIT, wheel_name_version


def _same_version(a: str, b: str) -> bool:
    if a == b:
        return True
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return False


def copy_wheel(source: str, target: Path, sha256: str | None) -> None:
    """Copy a local wheel, checking the hash pip's report gave for it.

    Raises:
        CannotCheck: It cannot be read, or it is not the file pip resolved.
    """
    digest = hashlib.sha256()
    try:
        with safeio.open_regular(source, limit=WHEEL_LIMIT) as reader, open(target, "xb") as out:
            while block := reader.read(1 << 20):
                digest.update(block)
                out.write(block)
    except OSError as err:
        raise CannotCheck(f"cannot copy {source}: {err.strerror or err}") from None
    if sha256 is not None and digest.hexdigest() != sha256:
        raise CannotCheck(f"{source} changed while it was being checked; nothing was installed")


def _pinned(url: str, sha256: str | None, subdirectory: str = "") -> str:
    """*url* with pip's hash and subdirectory fragment."""
    parts = urlsplit(url)
    fragment = "&".join(
        part
        for part in (
            f"sha256={sha256}" if sha256 else "",
            f"subdirectory={subdirectory}" if subdirectory else "",
        )
        if part
    )
    return urlunsplit(parts._replace(fragment=fragment))


def _build_requirement(item: Planned) -> str:
    """A PEP 508 direct reference to what pip resolved for *item*."""
    if item.vcs:
        reference = item.vcs + (f"#subdirectory={item.subdirectory}" if item.subdirectory else "")
    else:
        reference = _pinned(item.url, item.sha256, item.subdirectory)
    return f"{item.name} @ {reference}"


def _run(pip: Pip, what: str, *args: str) -> None:
    done = pip.run(*args)
    if done.timed_out:
        raise CannotCheck(f"pip did not finish {what} in time and was stopped", done.output())
    if not done.ok:
        raise CannotCheck(
            f"pip failed {what} (exit code {done.returncode}); nothing was installed",
            done.output(),
            done.returncode,
        )


def _match(planned: Sequence[Planned], wheels: Path) -> dict[str, Path]:
    """Each planned project's wheel in *wheels*.

    Raises:
        CannotCheck: A project has no wheel of its version there.
    """
    found: dict[str, list[tuple[str, Path]]] = {}
    with os.scandir(wheels) as listing:
        for entry in listing:
            spelled = wheel_name_version(entry.name)
            if spelled is not None:
                found.setdefault(spelled[0], []).append((spelled[1], Path(entry.path)))
    matched = {}
    for item in planned:
        candidates = [p for v, p in found.get(item.key, ()) if _same_version(v, item.version)]
        if len(candidates) != 1:
            raise CannotCheck(
                f"pip resolved {item.name} {item.version}, but no single wheel of it was fetched"
            )
        matched[item.key] = candidates[0]
    return matched


def fetch(
    pip: Pip, planned: Sequence[Planned], arguments: PipArguments, scratch: Path
) -> dict[str, Path]:
    """The wheel of every planned project, by canonical name, in ``scratch/wheels``.

    Raises:
        CannotCheck: A file cannot be fetched or built, or is not the one pip resolved.
    """
    wheels = scratch / "wheels"
    wheels.mkdir(exist_ok=True)
    remote: list[str] = []
    build: list[str] = []
    for item in planned:
        if item.editable:
            raise CannotCheck(
                f"{item.name} is an editable install (-e): its files are its source tree, "
                "which cannot be checked before pip writes; install its dependencies checked "
                "(conda pipguard pip install ...), then it with pip install --no-deps -e"
            )
        local = item.local_path
        if item.is_wheel and local is not None:
            copy_wheel(local, wheels / local.rsplit("/", 1)[-1], item.sha256)
        elif item.is_wheel:
            remote.append(_pinned(item.url, item.sha256))
        else:
            build.append(_build_requirement(item))
    if remote:
        _run(
            pip,
            "downloading",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--quiet",
            "--dest",
            str(wheels),
            *arguments.network,
            *remote,
        )
    if build:
        _run(
            pip,
            "building a wheel",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(wheels),
            *arguments.build,
            *build,
        )
    return _match(planned, wheels)

"""Index, solve, link and unlink environments with py-rattler; read what is in a prefix."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rattler import Config, PrefixRecord, RepoDataRecord

from tests.support.base_packages import _set_record_installer, cache_root
from tests.support.host import host_python
from tests.support.wheels import normalize_dist_name


def set_installer(prefix: Path, dist_name: str, installer: str) -> Path:
    """Rewrite INSTALLER (and its RECORD line) of an installed distribution in ``prefix``.

    Returns:
        The dist-info directory changed.
    """
    site = site_packages(prefix)
    wanted = normalize_dist_name(dist_name).lower()
    for dist_info in site.glob("*.dist-info"):
        if normalize_dist_name(dist_info.name.split("-")[0]).lower() == wanted:
            _set_record_installer(dist_info, installer)
            return dist_info
    raise FileNotFoundError(f"no dist-info for {dist_name} in {site}")


def index_channel(channel_dir: Path) -> None:
    """(Re)write ``repodata.json`` of every subdir of a local channel with py-rattler."""
    from rattler.index import index_fs

    (channel_dir / "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel_dir, write_zst=False, write_shards=False, force=True))


def _rattler_config() -> Config:
    """Copy, never hardlink: tests edit installed files, which must not reach the package cache.

    (``allow-symbolic-links = false`` would also turn the packages' own symlinks into copies.)
    """
    from rattler import Config

    return Config.from_toml("allow-hard-links = false\n")


def _installed_records(prefix: Path) -> list[PrefixRecord]:
    from rattler import PrefixRecord

    meta = prefix / "conda-meta"
    return [PrefixRecord.from_path(p) for p in sorted(meta.glob("*.json"))] if meta.is_dir() else []


def _solve(
    channel_dir: Path, specs: Sequence[str], locked: list[PrefixRecord], cache_dir: Path
) -> list[RepoDataRecord]:
    from rattler import Channel, Gateway, solve

    subdir = host_python().subdir
    gateway = Gateway(cache_dir=cache_dir / "repodata", show_progress=False)
    channel = Channel(channel_dir.resolve().as_uri())
    return asyncio.run(
        solve(
            [channel],
            list(specs),
            gateway=gateway,
            platforms=[subdir, "noarch"],
            locked_packages=locked,
            virtual_packages=[],
        )
    )


def _link(
    prefix: Path, records: Sequence[RepoDataRecord], specs: Sequence[str], cache_dir: Path
) -> None:
    from rattler import MatchSpec
    from rattler import install as rattler_install

    def run(requested: list) -> None:
        asyncio.run(
            rattler_install(
                list(records),
                target_prefix=prefix,
                cache_dir=cache_dir / "pkgs",
                show_progress=False,
                requested_specs=requested,
                config=_rattler_config(),
            )
        )

    match_specs = [MatchSpec(s) for s in specs]
    try:
        run(match_specs)
    except TypeError:
        # py-rattler 0.28 hands requested_specs to Rust unwrapped ("'MatchSpec' object is
        # not an instance of 'PyMatchSpec'"), before doing anything: pass the inner objects.
        run([spec._match_spec for spec in match_specs])


def default_rattler_cache() -> Path:
    """Package and repodata cache shared by a test session (inside :func:`cache_root`)."""
    return cache_root() / "rattler"


def install(
    prefix: Path, channel_dir: Path, specs: Sequence[str], *, cache_dir: Path | None = None
) -> Path:
    """Solve ``specs`` against the local channel only and link the result into ``prefix``.

    Packages already in ``prefix`` stay (they are locked and re-requested), like
    ``conda install``, and keep their requested specs. Files are copied from the
    package cache, never hardlinked.

    Args:
        prefix: Target prefix (created if missing).
        channel_dir: Indexed local channel (see :func:`index_channel`).
        specs: Match specs to add.
        cache_dir: rattler cache (default: :func:`default_rattler_cache`).

    Returns:
        ``prefix``.
    """
    cache_dir = cache_dir or default_rattler_cache()
    installed = _installed_records(prefix)
    new_names = _spec_names(specs)
    keep = [r.name.normalized for r in installed if r.name.normalized not in new_names]
    records = _solve(channel_dir, [*specs, *keep], installed, cache_dir)
    _link(prefix, records, [*specs, *_requested_specs(prefix, skip=new_names)], cache_dir)
    return prefix


def remove(prefix: Path, names: Iterable[str], *, cache_dir: Path | None = None) -> Path:
    """Unlink the named packages from ``prefix`` with rattler (no solve, no dependency check).

    rattler deletes what a record's ``paths_data`` lists, so on records in conda's
    dialect it leaves the files of noarch python packages behind; see :func:`unlink_records`.
    """
    cache_dir = cache_dir or default_rattler_cache()
    drop = set(names)
    keep = [r for r in _installed_records(prefix) if r.name.normalized not in drop]
    _link(prefix, keep, _requested_specs(prefix, skip=drop), cache_dir)
    return prefix


def unlink_records(prefix: Path, names: Iterable[str]) -> list[dict[str, object]]:
    """Remove packages as conda does: delete each record's ``files``, empty dirs, the record.

    Returns:
        The records removed.
    """
    drop = set(names)
    removed = []
    for file_name, record in read_records(prefix).items():
        if record.get("name") not in drop:
            continue
        for rel in record.get("files", []):  # type: ignore[union-attr]
            _unlink_with_empty_parents(prefix, prefix / str(rel))
        (prefix / "conda-meta" / file_name).unlink()
        removed.append(record)
    return removed


def _unlink_with_empty_parents(prefix: Path, path: Path) -> None:
    path.unlink(missing_ok=True)
    parent = path.parent
    while parent != prefix and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def _requested_specs(prefix: Path, skip: set[str]) -> list[str]:
    """Specs the records in ``prefix`` were requested with, except for packages in ``skip``."""
    records = read_records(prefix).values() if (prefix / "conda-meta").is_dir() else []
    return [s for r in records if r.get("name") not in skip for s in _requested(r)]


def _spec_names(specs: Iterable[str]) -> set[str]:
    from rattler import MatchSpec

    return {MatchSpec(s).name.normalized for s in specs}


def env_python(prefix: Path) -> Path:
    """``<prefix>/bin/python``."""
    return prefix / "bin" / "python"


def python_record(prefix: Path) -> dict[str, object] | None:
    """The ``python`` record of ``prefix``, or ``None``."""
    for record in read_records(prefix).values():
        if record.get("name") == "python":
            return record
    return None


def python_files(prefix: Path) -> list[str]:
    """Prefix-relative files of the ``python`` package outside site-packages (stdlib, binary)."""
    record = python_record(prefix) or {}
    files = [str(rel) for rel in record.get("files") or []]  # type: ignore[union-attr]
    return [rel for rel in files if "/site-packages/" not in rel]


def site_packages(prefix: Path) -> Path:
    """Site-packages of the env's python (from its conda record)."""
    record = python_record(prefix)
    if record is None:
        raise FileNotFoundError(f"no python record in {prefix}/conda-meta")
    major, minor = str(record["version"]).split(".")[:2]
    return prefix / "lib" / f"python{major}.{minor}" / "site-packages"


def stdlib_dir(prefix: Path) -> Path:
    """Standard library directory of the env's python (where EXTERNALLY-MANAGED goes)."""
    return site_packages(prefix).parent


def read_records(prefix: Path) -> dict[str, dict[str, object]]:
    """``conda-meta/*.json`` of ``prefix``, keyed by file name."""
    meta = prefix / "conda-meta"
    return {p.name: json.loads(p.read_text()) for p in sorted(meta.glob("*.json"))}


def _requested(record: Mapping[str, object]) -> list[str]:
    specs = record.get("requested_specs") or record.get("_requested_specs") or []
    if not specs and record.get("requested_spec") not in (None, "None"):
        specs = [record["requested_spec"]]
    return [str(s) for s in specs]  # type: ignore[union-attr]

"""Rewrite what rattler leaves into what conda writes: records, ``conda-meta/history``, ``.pyc``."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import marshal
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from tests.support.base_packages import cache_root
from tests.support.packages import _LINK_TYPE_HARDLINK, _write_json
from tests.support.rattler_env import (
    _requested,
    env_python,
    python_record,
    read_records,
    site_packages,
)
from tests.support.running import _clean_python_env
from tests.support.wheels import sha256_file

DEFAULT_CONDA_VERSION = "25.5.1"
"""The conda version :func:`to_conda_dialect` and :func:`append_history` imitate."""


def channel_canonical_name(record: Mapping[str, object]) -> str:
    """conda's canonical channel name of a record: the URL for a local ``file://`` channel."""
    channel = str(record.get("channel") or "").rstrip("/")
    subdir = str(record.get("subdir") or "")
    if subdir and channel.endswith("/" + subdir):
        channel = channel[: -len(subdir) - 1]
    return channel


def dist_str(record: Mapping[str, object]) -> str:
    """``<channel>/<subdir>::<name>-<version>-<build>`` as conda writes it in ``history``."""
    subdir = record.get("subdir")
    where = channel_canonical_name(record) + (f"/{subdir}" if subdir else "")
    return f"{where}::{record['name']}-{record['version']}-{record['build']}"


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


@dataclasses.dataclass(frozen=True)
class _CondaTarget:
    """What rewriting records into conda's dialect needs to know about one prefix."""

    prefix: Path
    site_rel: str
    cache_tag: str
    conda_version: tuple[int, ...]
    compile_pyc: bool

    @classmethod
    def of(cls, prefix: Path, conda_version: str, compile_pyc: bool) -> _CondaTarget:
        python = python_record(prefix)
        site_rel = site_packages(prefix).relative_to(prefix).as_posix() if python else ""
        cache_tag = ""
        if python:
            cache_tag = "cpython-" + "".join(str(python["version"]).split(".")[:2])
        return cls(prefix, site_rel, cache_tag, _version_tuple(conda_version), compile_pyc)

    @property
    def sizes_generated_files(self) -> bool:
        """conda >= 26.1 records ``size_in_bytes`` of pyc files and entry points."""
        return self.conda_version >= (26, 1)


_ENTRY_POINT_TYPES = frozenset({"unix_python_entry_point", "windows_python_entry_point_script"})


_RATTLER_ONLY_KEYS = ("indexed_timestamp", "arch", "platform", "requested_spec", "requested_specs")


def _noarch_source_path(target: str, site_rel: str) -> str:
    """Package-relative path conda keeps in ``paths_data`` for a linked noarch python file."""
    if target.startswith(site_rel + "/"):
        return "site-packages/" + target[len(site_rel) + 1 :]
    if target.startswith("bin/"):
        return "python-scripts/" + target[len("bin/") :]
    return target


def _linked_entry(ctx: _CondaTarget, entry: Mapping[str, object], noarch: bool) -> dict:
    """A linked file's entry: package-relative for noarch, with ``sha256_in_prefix`` for files."""
    target = str(entry["_path"])
    out = dict(entry)
    if noarch:
        out["_path"] = _noarch_source_path(target, ctx.site_rel)
    out.pop("sha256_in_prefix", None)  # rattler hashes a softlink's target string here
    if out.get("path_type") == "hardlink" and (ctx.prefix / target).is_file():
        out["sha256_in_prefix"] = sha256_file(ctx.prefix / target)
    return out


def _generated_entry(ctx: _CondaTarget, target: str, path_type: str) -> dict[str, object]:
    """Entry of a file conda creates at link time (pyc, entry point): no hashes."""
    out: dict[str, object] = {"_path": target, "path_type": path_type}
    if ctx.sizes_generated_files and (ctx.prefix / target).is_file():
        out["size_in_bytes"] = (ctx.prefix / target).stat().st_size
    return out


def _conda_paths(ctx: _CondaTarget, record: Mapping[str, object]) -> list[tuple[str, dict]]:
    """``(prefix-relative file, paths_data entry)`` pairs in the order conda writes them.

    conda lists the package's files (in paths.json order), then the pyc files it
    compiled, then the entry points it generated.
    """
    paths = list((record.get("paths_data") or {}).get("paths", []))  # type: ignore[union-attr]
    noarch = record.get("noarch") == "python"
    linked = [p for p in paths if p.get("path_type") not in _ENTRY_POINT_TYPES]
    pairs = [(str(p["_path"]), _linked_entry(ctx, p, noarch)) for p in linked]
    pairs.sort(key=lambda pair: str(pair[1]["_path"]))
    if noarch and ctx.compile_pyc:
        pycs = _compile_noarch(ctx.prefix, [target for target, _ in pairs], ctx.cache_tag)
        pairs += [(pyc, _generated_entry(ctx, pyc, "pyc_file")) for pyc in pycs]
    for entry in paths:
        if entry.get("path_type") in _ENTRY_POINT_TYPES:
            target = str(entry["_path"])
            pairs.append((target, _generated_entry(ctx, target, str(entry["path_type"]))))
    return pairs


def _requested_fields(requested: Sequence[str], conda_version: tuple[int, ...]) -> dict:
    """``requested_spec(s)`` as conda writes them: a string (``"None"``) before 26.3, then lists."""
    if conda_version < (26, 3):
        return {"requested_spec": requested[0] if requested else "None"}
    if not requested:
        return {"_requested_specs": []}
    return {"requested_spec": requested[0], "requested_specs": list(requested)}


def _conda_record(ctx: _CondaTarget, record: Mapping[str, object]) -> dict[str, object]:
    out = {k: v for k, v in record.items() if k not in _RATTLER_ONLY_KEYS}
    pairs = _conda_paths(ctx, record)
    out["files"] = [target for target, _ in pairs]
    out["paths_data"] = {"paths": [entry for _, entry in pairs], "paths_version": 1}
    out["channel"] = f"{channel_canonical_name(record)}/{record.get('subdir')}"
    out.setdefault("constrains", [])
    source = str(record.get("extracted_package_dir") or "")
    out["link"] = {"source": source, "type": _LINK_TYPE_HARDLINK}
    out["package_tarball_full_path"] = f"{source}.conda" if source else ""
    if record.get("noarch") == "python":
        out["package_type"] = "noarch_python"
    out.update(_requested_fields(_requested(record), ctx.conda_version))
    return out


def convert_records(
    prefix: Path,
    file_names: Iterable[str] | None = None,
    *,
    compile_pyc: bool = True,
    conda_version: str = DEFAULT_CONDA_VERSION,
) -> list[str]:
    """Rewrite rattler-written ``conda-meta/*.json`` records as conda writes them.

    See :func:`to_conda_dialect` for what changes. Records already converted must not be
    passed again.

    Args:
        prefix: The environment.
        file_names: Record file names to convert (default: all).
        compile_pyc: Byte-compile noarch python files and list the pyc files, like conda.
        conda_version: conda version to imitate.

    Returns:
        The converted records' file names.
    """
    ctx = _CondaTarget.of(prefix, conda_version, compile_pyc)
    records = read_records(prefix)
    names = list(records) if file_names is None else list(file_names)
    for name in names:
        _write_json(prefix / "conda-meta" / name, _conda_record(ctx, records[name]))
    return names


def to_conda_dialect(
    prefix: Path,
    *,
    history: bool = True,
    compile_pyc: bool = True,
    cmd: str | None = None,
    specs: Sequence[str] | None = None,
    conda_version: str = DEFAULT_CONDA_VERSION,
    when: time.struct_time | None = None,
) -> None:
    """Rewrite a fresh environment made by :func:`install` into what ``conda create`` leaves.

    Checked against conda 26.7.1 creating the same environment from the same channel:

    * noarch python records: ``paths_data.paths[]._path`` becomes package-relative
      (``site-packages/...``, ``python-scripts/...``) while ``files`` stays prefix-relative;
      with ``compile_pyc`` the ``.py`` files are byte-compiled and the ``.pyc`` files added
      to ``files`` and as ``pyc_file`` entries; entry points lose their ``sha256``;
    * ``hardlink`` entries get ``sha256_in_prefix`` computed from the file on disk
      (softlinks, pyc files and entry points get none, as with conda);
    * ``channel`` gets the subdir, ``link``/``constrains``/``package_tarball_full_path``/
      ``package_type`` are set, rattler's ``indexed_timestamp``/``arch``/``platform`` go,
      requested specs take the form of ``conda_version`` (string ``"None"`` before 26.3);
    * rattler's ``CACHEDIR.TAG`` in the prefix is removed; ``conda-meta/history`` (empty
      when rattler wrote it) gets one ``create`` entry, or is removed when ``history`` is
      false; ``conda-meta/created_at`` is written for conda >= 25.11.

    Args:
        prefix: Environment created by :func:`install`.
        history: Write ``conda-meta/history``; false leaves none at all.
        compile_pyc: Byte-compile noarch python files like conda.
        cmd: ``# cmd:`` line (default ``conda create -p <prefix> <specs>``).
        specs: ``# update specs:`` (default: the requested specs found in the records).
        conda_version: conda version to imitate in records and history.
        when: Timestamp of the history entry (default: now).
    """
    records = read_records(prefix)
    convert_records(prefix, compile_pyc=compile_pyc, conda_version=conda_version)
    (prefix / "CACHEDIR.TAG").unlink(missing_ok=True)
    if specs is None:
        specs = [spec for record in records.values() for spec in _requested(record)]
    to_conda_dialect_history(
        prefix,
        linked=[dist_str(r) for r in records.values()],
        specs=specs,
        history=history,
        cmd=cmd,
        conda_version=conda_version,
        when=when,
    )


def to_conda_dialect_history(
    prefix: Path,
    *,
    linked: Iterable[str],
    specs: Sequence[str],
    history: bool = True,
    cmd: str | None = None,
    conda_version: str = DEFAULT_CONDA_VERSION,
    when: time.struct_time | None = None,
) -> None:
    """The part of :func:`to_conda_dialect` that depends on the moment and the prefix.

    Replaces ``conda-meta/history`` by one ``create`` entry (none without ``history``) and
    writes ``conda-meta/created_at`` for conda >= 25.11; the arguments are those of
    :func:`to_conda_dialect`, with ``linked`` the dist strings of the records.
    """
    (prefix / "conda-meta" / "history").unlink(missing_ok=True)
    if _version_tuple(conda_version) >= (25, 11):
        (prefix / "conda-meta" / "created_at").write_text(f"{time.time():.3f}")
    if not history:
        return
    append_history(
        prefix,
        linked=linked,
        cmd=cmd or f"conda create -p {prefix} " + " ".join(specs),
        specs=specs,
        conda_version=conda_version,
        when=when,
    )


def append_history(
    prefix: Path,
    *,
    linked: Iterable[str] = (),
    unlinked: Iterable[str] = (),
    cmd: str = "conda install",
    specs: Sequence[str] = (),
    remove_specs: Sequence[str] = (),
    conda_version: str = DEFAULT_CONDA_VERSION,
    when: time.struct_time | None = None,
) -> Path:
    """Append one transaction to ``conda-meta/history`` the way conda writes it.

    Args:
        prefix: The environment.
        linked: Dist strings linked (``channel/subdir::name-version-build``, see :func:`dist_str`).
        unlinked: Dist strings unlinked.
        cmd: The command line for ``# cmd:``.
        specs: ``# update specs:`` entries.
        remove_specs: ``# remove specs:`` entries.
        conda_version: Version for ``# conda version:``.
        when: Timestamp (default: now).

    Returns:
        Path of the history file.
    """
    path = prefix / "conda-meta" / "history"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"==> {time.strftime('%Y-%m-%d %H:%M:%S', when or time.localtime())} <==",
        f"# cmd: {cmd}",
        f"# conda version: {'.'.join(conda_version.split('.')[:3])}",
    ]
    lines += [f"-{dist}" for dist in sorted(unlinked)]
    lines += [f"+{dist}" for dist in sorted(linked)]
    if remove_specs:
        lines.append(f"# remove specs: {list(remove_specs)}")
    if specs:
        lines.append(f"# update specs: {list(specs)}")
    with path.open("a", encoding="utf-8") as stream:
        stream.write("\n".join(lines) + "\n")
    return path


def _code_bytes(source: bytes, rel: str) -> bytes | None:
    """Marshalled code of ``source`` compiled here, cached on disk; ``None`` if it is invalid."""
    key = hashlib.sha256(rel.encode() + b"\0" + source).hexdigest()
    cached = cache_root() / "pyc" / sys.implementation.cache_tag / key[:2] / key
    if cached.is_file():
        return cached.read_bytes()
    try:
        code = compile(source, rel, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    data = marshal.dumps(code)
    cached.parent.mkdir(parents=True, exist_ok=True)
    scratch = cached.with_name(f"{key}.{os.getpid()}.tmp")
    scratch.write_bytes(data)
    scratch.replace(cached)
    return data


def _write_pyc(prefix: Path, rel: str) -> str | None:
    """Write the timestamp-based ``__pycache__`` file of ``<prefix>/<rel>``, as compileall does.

    Returns:
        The prefix-relative ``.pyc`` path, or ``None`` when the source does not compile.
    """
    source = prefix / rel
    code = _code_bytes(source.read_bytes(), rel)
    if code is None:
        return None
    stat = source.stat()
    header = importlib.util.MAGIC_NUMBER + b"\0\0\0\0"
    header += (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
    header += (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    pyc = Path(importlib.util.cache_from_source(rel)).as_posix()
    (prefix / pyc).parent.mkdir(exist_ok=True)
    (prefix / pyc).write_bytes(header + code)
    return pyc


def _compile_with_env_python(prefix: Path, sources: Sequence[str], cache_tag: str) -> list[str]:
    subprocess.run(
        [str(env_python(prefix)), "-Wi", "-m", "compileall", "-q", "-l", "-j0", *sources],
        cwd=prefix,
        check=False,
        capture_output=True,
        env=_clean_python_env(),
    )
    pycs = [Path(s).parent / "__pycache__" / f"{Path(s).stem}.{cache_tag}.pyc" for s in sources]
    return [pyc.as_posix() for pyc in pycs if (prefix / pyc).exists()]


def _compile_noarch(prefix: Path, files: Sequence[str], cache_tag: str) -> list[str]:
    """Byte-compile the ``.py`` files of a noarch record as conda does after linking.

    When the env's python is this interpreter's version (always so with the kit's own
    python package) the code is compiled in-process and cached by content: much faster
    than running compileall for every environment, and the same ``.pyc`` files apart
    from the embedded ``co_filename`` (prefix-relative here; Python fixes it at import).

    Returns:
        Prefix-relative paths of the ``.pyc`` files written.
    """
    sources = [f for f in files if f.endswith(".py") and "/site-packages/" in f]
    if not sources or not cache_tag:
        return []
    if cache_tag != sys.implementation.cache_tag:
        return _compile_with_env_python(prefix, sources, cache_tag)
    return [pyc for pyc in (_write_pyc(prefix, rel) for rel in sources) if pyc]

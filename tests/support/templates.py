"""Build each kind of environment once per session and give every test its own copy.

A *kind* is what decides an environment's content: the specs, how it is made (the kit's
rattler route in a dialect, or real ``conda create``) and the exact packages in the channel
(by content hash). The first test asking for a kind builds it, under the session's
:class:`TemplateStore`, from a copy of its channel; every test (the first too) then gets a
relocated copy at its own prefix:

* files naming the template's prefix, channel or package cache (entry-point shebangs,
  ``conda-meta/*.json``, ``conda-meta/history``) are copied with those strings rewritten, and
  the records' ``sha256``/``sha256_in_prefix``/``size_in_bytes`` of rewritten files are set
  again, as linking at the new prefix would have set them; compiled ``.pyc`` files keep the
  template path in ``co_filename`` (Python puts the real path there when it imports them);
* the python package's own files outside site-packages (the standard library, the
  interpreter, ``libpython``) are hard links into the template: no test or kit operation
  writes to them in place (they are only removed, which does not reach the template), and
  :meth:`TemplateStore.close` fails the session if one changed all the same;
* everything else (site-packages, ``conda-meta``) is a real copy.

Packages built by :func:`tests.support.packages.make_conda_package` are built once per
session too (:meth:`TemplateStore.package`), so that two tests asking for the same package
get the same bytes, and so the same kind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import filecmp
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

_ENTRY_POINT_TYPES = frozenset({"unix_python_entry_point", "windows_python_entry_point_script"})
#: Files linked from a package keep the package's size in their entry (generated files do not).
_LINKED_TYPES = frozenset({"hardlink", "softlink"})
#: Record formats that round-trip: what the kit writes, and what rattler writes.
_JSON_STYLES = {
    "kit": lambda data: json.dumps(data, indent=2, sort_keys=True) + "\n",
    "rattler": lambda data: json.dumps(data, indent=2, ensure_ascii=False),
}


#: Environment variables that may change what a tool makes of the same specs and channel.
SETTING_PREFIXES = ("CONDA_", "PIPGUARD", "PIP_", "UV_", "MAMBA_")


class TemplateUnusableError(RuntimeError):
    """A built environment cannot be relocated safely (the caller builds it in place)."""


@dataclasses.dataclass(frozen=True)
class Template:
    """One built environment kind, ready to be copied.

    Attributes:
        env: The template prefix.
        strings: Template-side paths that name this environment's places (prefix, channel,
            package cache), by role.
        rewrite: Prefix-relative files holding one of :attr:`strings` (copied rewritten).
        shared: Prefix-relative files hard-linked into every copy.
        styles: ``conda-meta`` record file name -> its JSON style (see ``_JSON_STYLES``).
        meta: What the builder wants to keep (e.g. history lines to write at copy time).
        entries: ``(prefix-relative path, how to copy it)``, parents first.
    """

    env: Path
    strings: Mapping[str, str]
    rewrite: frozenset[str]
    shared: Mapping[str, tuple[int, int]]
    styles: Mapping[str, str]
    meta: Mapping[str, object]
    entries: tuple[tuple[str, str], ...]


class TemplateStore:
    """The session's environment kinds and built packages, under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.root = self.root.resolve()
        self._templates: dict[str, Template | None] = {}
        #: Prefix-relative path -> the first template's file: equal files share its inode.
        self._canonical: dict[str, Path] = {}
        self._lock = threading.Lock()
        self.stats = {"built": 0, "copied": 0, "unusable": 0}
        #: Seconds spent building templates and copying them.
        self.seconds = {"build": 0.0, "copy": 0.0}

    # -- packages ----------------------------------------------------------------------------

    def package(self, key: str, subdir: str, build: Callable[[Path], Path]) -> Path:
        """The ``.conda`` file built by ``build(channel_dir)`` for *key*, built once."""
        where = self.root / "packages" / key
        found = sorted((where / subdir).glob("*.conda")) if where.is_dir() else []
        if found:
            return found[0]
        return build(where)

    # -- environments ------------------------------------------------------------------------

    def template(
        self,
        key: str,
        channel: Path,
        build: Callable[[Path, Path, Path], Mapping[str, object]],
        *,
        shared_roots: Callable[[Path], Sequence[str]] = lambda env: (),
    ) -> Template | None:
        """The template of *key*, built once by ``build(env, channel_copy, workdir)``.

        Args:
            key: Identity of the kind (see :func:`fingerprint`).
            channel: The asking test's channel, copied (hard links) for the build.
            build: Makes the environment at ``env`` from ``channel_copy``; returns metadata,
                whose ``strings`` entry names extra template paths to rewrite in copies.
            shared_roots: Prefix-relative files that may be hard-linked into copies.

        Returns:
            The template, or ``None`` if this kind cannot be relocated.
        """
        with self._lock:
            if key in self._templates:
                return self._templates[key]
            work = self.root / "envs" / key
            shutil.rmtree(work, ignore_errors=True)
            channel_copy = work / "channel"
            _link_tree(channel, channel_copy)
            env = work / "env"
            started = time.perf_counter()
            meta = dict(build(env, channel_copy, work))
            strings = {
                "prefix": str(env),
                "channel": str(channel_copy.resolve()),
                **meta.pop("strings", {}),
            }
            try:
                self._share(env, shared_roots(env))
                template = _scan(env, strings, shared_roots(env), meta)
                self.stats["built"] += 1
                self.seconds["build"] += time.perf_counter() - started
            except TemplateUnusableError:
                template = None
                self.stats["unusable"] += 1
            self._templates[key] = template
            return template

    def _share(self, env: Path, rels: Sequence[str]) -> None:
        """Hard-link *env*'s copies of the host's Python to the equal files of earlier kinds.

        Every kind holds the same interpreter and standard library: on disk, once.
        """
        for rel in rels:
            path = env / rel
            if path.is_symlink() or not path.is_file():
                continue
            first = self._canonical.setdefault(rel, path)
            if first == path or os.path.samefile(first, path):
                continue
            if first.stat().st_size == path.stat().st_size and filecmp.cmp(first, path, False):
                scratch = path.with_name(f".{path.name}.share")
                os.link(first, scratch)
                os.replace(scratch, path)

    def copy(self, template: Template, target: Path, places: Mapping[str, str]) -> Path:
        """Copy *template* to *target*, its strings replaced by *places* (same roles)."""
        pairs = [
            (template.strings[role], str(places[role]))
            for role in sorted(template.strings, key=lambda r: -len(template.strings[r]))
        ]
        pairs = [(old, new) for old, new in pairs if old != new]
        started = time.perf_counter()
        _copy_tree(template, target, _replacer(pairs))
        _fix_records(template, target)
        self.stats["copied"] += 1
        self.seconds["copy"] += time.perf_counter() - started
        return target

    def summary(self) -> str:
        """One line for the end of the session: kinds built, copies made, time in each."""
        built, copied = self.stats["built"], self.stats["copied"]
        return (
            f"env templates: {built} kinds built in {self.seconds['build']:.0f}s, {copied} "
            f"copies in {self.seconds['copy']:.0f}s, {self.stats['unusable']} not relocatable"
        )

    def close(self) -> None:
        """Fail if a hard-linked template file was changed in place; then delete the store."""
        try:
            changed = [
                f"{t.env}/{rel}"
                for t in self._templates.values()
                if t is not None
                for rel, stamp in t.shared.items()
                if _stamp(t.env / rel) != stamp
            ]
            if changed:
                raise AssertionError(
                    "files hard-linked into test environments were written in place (write a "
                    f"new file instead): {changed[:5]}"
                )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


_ACTIVE: list[TemplateStore | None] = [None]


def active() -> TemplateStore | None:
    """The store in use (the session's, see ``tests/conftest.py``), or ``None``."""
    return _ACTIVE[-1]


@contextlib.contextmanager
def using(store: TemplateStore | None) -> Iterator[TemplateStore | None]:
    """Use *store* (``None``: build everything in place) inside the block."""
    _ACTIVE.append(store)
    try:
        yield store
    finally:
        _ACTIVE.pop()


_HASHES: dict[tuple[int, int, int, int], str] = {}


def fingerprint(*parts: object, channel: Path | None = None) -> str:
    """A key of *parts* and the content of every package in *channel*."""
    digest = hashlib.sha256(repr(parts).encode())
    if channel is not None:
        for package in sorted(channel.glob("*/*.conda")) + sorted(channel.glob("*/*.tar.bz2")):
            digest.update(
                f"{package.relative_to(channel).as_posix()}={_file_hash(package)};".encode()
            )
    return digest.hexdigest()[:20]


def _file_hash(path: Path) -> str:
    stat = path.stat()
    key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _HASHES[key]


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.lstat()
    return stat.st_size, stat.st_mtime_ns


def _link_tree(source: Path, dest: Path) -> None:
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, dest, symlinks=True, copy_function=link)


def _scan(
    env: Path, strings: Mapping[str, str], shared_roots: Sequence[str], meta: Mapping[str, object]
) -> Template:
    """Find the files naming *strings*; refuse what cannot be rewritten as text."""
    needles = [s.encode() for s in strings.values()]
    rewrite, shared, entries = set(), {}, []
    roots = frozenset(shared_roots)
    for directory, dirs, files in os.walk(env):
        here = Path(directory)
        for name in sorted(dirs):
            rel = (here / name).relative_to(env).as_posix()
            entries.append((rel, "symlink" if (here / name).is_symlink() else "dir"))
        for name in sorted(files):
            path = here / name
            rel = path.relative_to(env).as_posix()
            entries.append((rel, "copy"))
            if path.is_symlink():
                entries[-1] = (rel, "symlink")
                if any(s in os.readlink(path) for s in strings.values()):
                    raise TemplateUnusableError(f"symlink {rel} names the template")
            elif rel in roots:
                shared[rel] = _stamp(path)  # the host's Python: it cannot name the template
                entries[-1] = (rel, "shared")
            elif any(needle in (data := path.read_bytes()) for needle in needles):
                if name.endswith(".pyc"):
                    continue  # co_filename only: Python fixes it on import
                if b"\0" in data:
                    raise TemplateUnusableError(f"binary {rel} names the template")
                rewrite.add(rel)
                entries[-1] = (rel, "rewrite")
    styles = {}
    for record in sorted((env / "conda-meta").glob("*.json")):
        text = record.read_text()
        data = json.loads(text)
        style = next((s for s, dump in _JSON_STYLES.items() if dump(data) == text), None)
        if style is None:
            raise TemplateUnusableError(f"{record.name} is in no JSON style the kit can rewrite")
        styles[record.name] = style
    return Template(
        env, dict(strings), frozenset(rewrite), shared, styles, dict(meta), tuple(entries)
    )


def _replacer(pairs: Sequence[tuple[str, str]]) -> Callable[[bytes], bytes]:
    encoded = [(old.encode(), new.encode()) for old, new in pairs]

    def replace(data: bytes) -> bytes:
        for old, new in encoded:
            data = data.replace(old, new)
        return data

    return replace


def _copy_tree(template: Template, target: Path, replace: Callable[[bytes], bytes]) -> None:
    """Copy the template prefix: rewritten, hard-linked or copied file by file."""
    if target.exists():
        raise FileExistsError(target)
    source, dest = str(template.env), str(target)
    os.makedirs(dest)
    for rel, kind in template.entries:
        src, dst = os.path.join(source, rel), os.path.join(dest, rel)
        if kind == "dir":
            os.mkdir(dst)
        elif kind == "symlink":
            os.symlink(os.readlink(src), dst)
        elif kind == "shared":
            os.link(src, dst)
        elif kind == "rewrite":
            with open(src, "rb") as stream:
                data = replace(stream.read())
            with open(dst, "wb") as stream:
                stream.write(data)
            shutil.copystat(src, dst)
        else:
            shutil.copy2(src, dst)
    for rel, kind in reversed(template.entries):
        if kind == "dir":
            shutil.copystat(os.path.join(source, rel), os.path.join(dest, rel))
    shutil.copystat(source, dest)


def _fix_records(template: Template, target: Path) -> None:
    """Set the hashes and sizes conda/rattler recorded for files whose bytes changed."""
    facts = {}
    for rel in template.rewrite:
        if rel.startswith("conda-meta/"):
            continue
        data = (target / rel).read_bytes()
        facts[rel] = (hashlib.sha256(data).hexdigest(), len(data))
    if not facts:
        return
    for record_file, style in template.styles.items():
        path = target / "conda-meta" / record_file
        data = json.loads(path.read_text())
        entries = (data.get("paths_data") or {}).get("paths") or []
        touched = False
        for entry in entries:
            fact = facts.get(str(entry.get("_path")))
            if fact is None:
                continue
            sha, size = fact
            if "sha256_in_prefix" in entry:
                entry["sha256_in_prefix"] = sha
            if "sha256" in entry and entry.get("path_type") in _ENTRY_POINT_TYPES:
                entry["sha256"] = sha
            if "size_in_bytes" in entry and entry.get("path_type") not in _LINKED_TYPES:
                entry["size_in_bytes"] = size
            touched = True
        if touched:
            stat = path.stat()
            path.write_text(_JSON_STYLES[style](data))
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

"""Hashes, ``.dist-info`` metadata and wheels, as pip and conda write them."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

FileContent = str | bytes


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _record_hash(data: bytes) -> str:
    """Hash in the form wheel RECORD files use: ``sha256=<urlsafe b64, no padding>``."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _as_bytes(content: FileContent) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def normalize_dist_name(name: str) -> str:
    """Distribution name as used in wheel and dist-info file names (``foo_bar``)."""
    return re.sub(r"[-_.]+", "_", name)


def _metadata_text(
    name: str,
    version: str,
    requires_dist: Iterable[str] = (),
    extra_metadata: Iterable[tuple[str, str]] = (),
) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {req}" for req in requires_dist]
    lines += [f"{key}: {value}" for key, value in extra_metadata]
    return "\n".join(lines) + "\n\n"


def _entry_points_text(entry_points: Mapping[str, Mapping[str, str]]) -> str:
    sections = []
    for group, entries in entry_points.items():
        body = "".join(f"{key} = {value}\n" for key, value in entries.items())
        sections.append(f"[{group}]\n{body}")
    return "\n".join(sections)


_WHEEL_TEXT = (
    b"Wheel-Version: 1.0\nGenerator: pipguard-envkit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
)


def _record_text(files: Mapping[str, bytes], record_path: str) -> str:
    """RECORD content listing ``files`` (paths relative to site-packages) and itself."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, data in files.items():
        writer.writerow([path, _record_hash(data), len(data)])
    writer.writerow([record_path, "", ""])
    return out.getvalue()


def _extra_items(extra: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(extra.items()) if isinstance(extra, Mapping) else list(extra)


def make_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    modules: Mapping[str, FileContent],
    requires_dist: Iterable[str] = (),
    extra_metadata: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write a minimal, valid ``py3-none-any`` wheel.

    Args:
        dest_dir: Directory to write the wheel into (created if missing).
        name: Distribution name, e.g. ``my-pkg``.
        version: Distribution version.
        modules: Files relative to site-packages, e.g. ``{"my_pkg/__init__.py": "x = 1"}``.
        requires_dist: ``Requires-Dist`` entries.
        extra_metadata: Further METADATA headers (mapping or ``(key, value)`` pairs).
        entry_points: ``{"console_scripts": {"cmd": "mod:func"}}`` style groups.

    Returns:
        Path of the ``.whl`` file.
    """
    dist = f"{normalize_dist_name(name)}-{version}"
    info = f"{dist}.dist-info"
    files = {path: _as_bytes(data) for path, data in modules.items()}
    files[f"{info}/METADATA"] = _metadata_text(
        name, version, requires_dist, _extra_items(extra_metadata)
    ).encode()
    files[f"{info}/WHEEL"] = _WHEEL_TEXT
    if entry_points:
        files[f"{info}/entry_points.txt"] = _entry_points_text(entry_points).encode()
    files[f"{info}/RECORD"] = _record_text(files, f"{info}/RECORD").encode()
    dest_dir.mkdir(parents=True, exist_ok=True)
    wheel = dest_dir / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel

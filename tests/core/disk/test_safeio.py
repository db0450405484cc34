"""The bounded, non-blocking readers refuse what would hang, exhaust memory or leave the prefix."""

from __future__ import annotations

import os
import threading

import pytest

from conda_pipguard.core.disk import safeio
from conda_pipguard.core.disk.safeio import UnreadableFile


def test_reads_a_regular_file(tmp_path):
    path = tmp_path / "RECORD"
    path.write_bytes(b"a,b,c\n")
    assert safeio.read_bytes(path, limit=6) == b"a,b,c\n"
    assert safeio.read_text(path, limit=6, root=str(tmp_path)) == "a,b,c\n"


def test_refuses_a_file_over_its_cap(tmp_path):
    path = tmp_path / "METADATA"
    path.write_bytes(b"x" * 11)
    with pytest.raises(UnreadableFile, match="larger than 10 bytes"):
        safeio.read_bytes(path, limit=10)


def test_dev_zero_behind_a_symlink_is_not_read(tmp_path):
    link = tmp_path / "numpy-1.0.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(UnreadableFile, match="not a regular file"):
        safeio.read_bytes(link, limit=safeio.RECORD_JSON_LIMIT)
    with pytest.raises(UnreadableFile, match="out of the environment"):
        safeio.read_bytes(link, limit=safeio.RECORD_JSON_LIMIT, root=str(tmp_path))


def test_a_fifo_never_blocks(tmp_path):
    fifo = tmp_path / "INSTALLER"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            safeio.read_bytes(fifo, limit=safeio.SMALL_LIMIT)
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            outcome.append(err)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock the thread before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert isinstance(outcome[0], UnreadableFile)


def test_a_symlink_inside_the_prefix_is_followed(tmp_path):
    (tmp_path / "real").write_text("pip\n")
    (tmp_path / "INSTALLER").symlink_to("real")
    assert safeio.read_text(tmp_path / "INSTALLER", limit=10, root=str(tmp_path)) == "pip\n"


def test_a_symlink_out_of_the_prefix_is_refused(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    prefix = tmp_path / "env"
    prefix.mkdir()
    (prefix / "METADATA").symlink_to(outside)
    with pytest.raises(UnreadableFile):
        safeio.read_text(prefix / "METADATA", limit=100, root=str(prefix))
    assert safeio.is_within(str(prefix), str(prefix / "a" / "b"))
    assert not safeio.is_within(str(prefix), str(prefix / "METADATA"))


def test_non_utf8_optional_metadata_decodes_with_replacement(tmp_path):
    path = tmp_path / "INSTALLER"
    path.write_bytes(b"pip\xff\n")
    with pytest.raises(UnicodeDecodeError):
        safeio.read_text(path, limit=100)
    assert safeio.read_text(path, limit=100, errors="replace") == "pip\ufffd\n"


def test_deeply_nested_json_is_a_value_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(ValueError, match="nested too deeply"):
        safeio.load_json(path)
    assert safeio.loads_json('{"files": []}') == {"files": []}


def test_lines_are_read_a_block_at_a_time_and_cut_when_too_long(tmp_path):
    path = tmp_path / "history"
    long = "x" * (3 << 20)
    path.write_bytes(f"a\r\nb\n\n{long}\nc\xe9\n{long}".encode() + b"\xff\n" + b"d")
    lines = list(safeio.read_lines(path, limit=16 << 20, max_line=10))
    assert lines == ["a", "b", "", "x" * 10, "c\xe9", "x" * 10, "d"]
    assert (
        list(safeio.read_lines(path, limit=16 << 20, max_line=4 << 20))
        == path.read_bytes().decode("utf-8", "replace").splitlines()
    )
    with pytest.raises(UnreadableFile, match="larger than"):
        list(safeio.read_lines(path, limit=1 << 20))


def test_reading_lines_of_a_fifo_never_blocks(tmp_path):
    os.mkfifo(tmp_path / "history")
    with pytest.raises(UnreadableFile, match="not a regular file"):
        next(safeio.read_lines(tmp_path / "history", limit=100))

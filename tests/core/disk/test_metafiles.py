"""METADATA headers and RECORD read without email or importlib.metadata, as they would read."""

from __future__ import annotations

import email.parser

import pytest

from conda_pipguard.core.disk.metafiles import RecordListing, first, parse_headers

SAMPLES = {
    "plain": "Metadata-Version: 2.1\nName: numpy\nVersion: 1.26.4\n",
    "requires and a body": (
        "Metadata-Version: 2.1\nName: pandas\nVersion: 2.2.2\n"
        "Requires-Dist: numpy>=1.23.2; python_version == '3.11'\n"
        "Requires-Dist: python-dateutil>=2.8.2\n"
        "Provides-Extra: test\n"
        "Requires-Dist: pytest>=7.3.2; extra == 'test'\n"
        "\n"
        "Name: not-a-header (the description)\nRequires-Dist: nope\n"
    ),
    "folded": "Name: odd\nSummary: first line\n  continued here\n\tand here\nVersion: 1\n",
    "crlf": "Name: win\r\nVersion: 2.0\r\n\r\nbody\r\n",
    "case and spacing": "name:   spaced\nVERSION:1.0\nrequires-dist: a\n",
    "a line that is not a field ends the headers": "Name: cut\nthis is not a header\nVersion: 9\n",
    "no name": "Version: 1.0\n",
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_headers_read_as_the_email_parser_reads_them(name):
    text = SAMPLES[name]
    message = email.parser.Parser().parsestr(text, headersonly=True)
    fields = parse_headers(text)
    for header in ("Name", "Version", "Summary"):
        assert first(fields, header.lower()) == message.get(header), header
    assert fields.get("requires-dist", []) == (message.get_all("Requires-Dist") or [])


def test_record_is_parsed_on_first_use_and_keeps_paths_inside_the_prefix():
    text = (
        "six.py,sha256=AAAA,12\n"
        '"odd, name.py",sha256=BBBB,3\n'
        "six-1.16.0.dist-info/RECORD,,\n"
        "../../../bin/tool,sha256=CCCC,40\n"
        "../../../../outside,sha256=DDDD,1\n"
        "/abs/path,sha256=EEEE,1\n"
        "bad\x00line,sha256=FFFF,1\n"
    )
    listing = RecordListing("lib/python3.11/site-packages", text)
    entries = {entry.path: entry for entry in listing.entries()}
    site = "lib/python3.11/site-packages"
    assert entries[f"{site}/six.py"].size == 12
    assert entries[f"{site}/six.py"].digest == "AAAA"
    assert f"{site}/odd, name.py" in entries
    assert entries[f"{site}/six-1.16.0.dist-info/RECORD"].digest is None
    assert entries["bin/tool"].size == 40
    assert not any(path.startswith(("..", "/")) or "outside" in path for path in entries)


def test_a_field_is_kept_at_most_max_values_times():
    text = "Name: big\n" + "".join(f"Requires-Dist: dep{i}\n  folded\n" for i in range(30))
    fields = parse_headers(text, max_values=10)
    assert fields["name"] == ["big"]
    assert fields["requires-dist"] == [f"dep{i}\n  folded" for i in range(10)]

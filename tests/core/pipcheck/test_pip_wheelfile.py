"""A wheel read without extracting it: every member placed as pip places it, or refused."""

from __future__ import annotations

import hashlib
import os

import pytest

from conda_pipguard.core.disk.python import PythonLayout
from conda_pipguard.core.errors import CannotCheck
from conda_pipguard.core.pipcheck.wheelfile import read_wheel, wheel_name_version
from tests.conftest import PY
from tests.support.wheels import make_wheel

LAYOUT = PythonLayout.build(PY)
SITE = LAYOUT.site_packages
RUN_SCRIPT = b"#!python\nimport demo\n"
SH_SCRIPT = b"#!/bin/sh\necho demo\n"


@pytest.fixture
def demo(tmp_path):
    return make_wheel(
        tmp_path,
        "Demo.Pkg",
        "1.0",
        {
            "demo/__init__.py": "VALUE = 1\n",
            "demo/_ext.so": b"\x7fELF demo",
            "Demo_Pkg-1.0.data/scripts/run": RUN_SCRIPT,
            "Demo_Pkg-1.0.data/scripts/run.sh": SH_SCRIPT,
            "Demo_Pkg-1.0.data/data/share/demo/demo.txt": "shared\n",
            "Demo_Pkg-1.0.data/headers/demo.h": "int demo;\n",
            "Demo_Pkg-1.0.data/platlib/demo_plat.py": "",
        },
        requires_dist=["numpy>=2"],
        entry_points={"console_scripts": {"demo-cli": "demo:main"}},
    )


def test_every_member_lands_where_pip_writes_it(demo):
    wheel = read_wheel(demo, LAYOUT)
    assert (wheel.name, wheel.version, wheel.key) == ("Demo.Pkg", "1.0", "demo-pkg")
    assert wheel.dist_info == f"{SITE}/Demo_Pkg-1.0.dist-info"
    assert wheel.requires == ("numpy>=2",)
    placed = {member.path: member for member in wheel.members}
    assert set(placed) == {
        f"{SITE}/demo/__init__.py",
        f"{SITE}/demo/_ext.so",
        f"{SITE}/demo_plat.py",
        "bin/run",
        "bin/run.sh",
        "bin/demo-cli",
        "share/demo/demo.txt",
        f"include/python{PY}/Demo.Pkg/demo.h",
        *(f"{SITE}/Demo_Pkg-1.0.dist-info/{n}" for n in ("METADATA", "WHEEL", "RECORD")),
        f"{SITE}/Demo_Pkg-1.0.dist-info/entry_points.txt",
    }
    # bytes pip writes as they are: the archive's size, RECORD's hash
    extension = placed[f"{SITE}/demo/_ext.so"]
    assert extension.size == len(b"\x7fELF demo") and extension.digest
    assert placed["bin/run.sh"].size == len(SH_SCRIPT)
    # bytes pip writes itself: a #!python script gets the env's interpreter, console scripts
    # are generated; nobody knows them in advance
    assert placed["bin/run"].size is None and placed["bin/run"].digest is None
    assert placed["bin/demo-cli"] == type(placed["bin/run"])("", "bin/demo-cli", None)


def test_a_member_is_hashed_from_the_archive_and_nothing_is_extracted(demo):
    wheel = read_wheel(demo, LAYOUT)
    assert wheel.member_sha256("demo/_ext.so") == hashlib.sha256(b"\x7fELF demo").hexdigest()
    assert wheel.member_sha256("no/such/member") is None
    assert sorted(os.listdir(demo.parent)) == [demo.name]


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("../../../../outside.py", "outside the env"),
        ("evil-1.0.data/data/../../outside", "outside the env"),
        ("evil-1.0.data/data/conda-meta/numpy-9-0.json", "into conda-meta"),
        ("/etc/passwd", "absolute path"),
        ("evil-1.0.data/nonsense/x", "unknown scheme"),
    ],
)
def test_a_wheel_that_would_write_outside_the_env_is_refused_whole(tmp_path, member, why):
    wheel = make_wheel(tmp_path, "evil", "1.0", {"evil.py": "", member: "x"})
    with pytest.raises(CannotCheck, match=why) as refused:
        read_wheel(wheel, LAYOUT)
    assert refused.value.exit_code == 2
    assert "pip would not be asked to install it" in str(refused.value)


def test_what_is_not_a_wheel_is_refused(tmp_path):
    fifo = tmp_path / "stuck-1.0-py3-none-any.whl"
    os.mkfifo(fifo)
    with pytest.raises(CannotCheck, match="not a regular file"):
        read_wheel(fifo, LAYOUT)  # and does not block
    broken = tmp_path / "broken-1.0-py3-none-any.whl"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(CannotCheck, match="cannot be read"):
        read_wheel(broken, LAYOUT)


def test_wheel_file_names():
    assert wheel_name_version("Demo_Pkg-1.0-py3-none-any.whl") == ("demo-pkg", "1.0")
    assert wheel_name_version("numpy-2.1.3-1-cp313-cp313-manylinux_2_17_x86_64.whl") == (
        "numpy",
        "2.1.3",
    )
    assert wheel_name_version("numpy-2.1.3.tar.gz") is None

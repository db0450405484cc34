from __future__ import annotations

from conda_pipguard.core.disk.python import PythonLayout, layout_from_records
from conda_pipguard.core.disk.records import CondaRecord, RecordFile


def _python(version="3.11.7", build="h0_0_cpython", subdir="linux-64", **kw):
    return CondaRecord(name="python", version=version, build=build, subdir=subdir, **kw)


def test_posix_layout():
    layout = layout_from_records({"python": _python()})
    assert (layout.version, layout.stdlib, layout.site_packages, layout.scripts) == (
        "3.11",
        "lib/python3.11",
        "lib/python3.11/site-packages",
        "bin",
    )
    assert layout.executable == "bin/python3.11"


def test_free_threaded_from_build_or_abi_record():
    by_build = layout_from_records({"python": _python("3.13.1", "h0_0_cp313t")})
    assert by_build.stdlib == "lib/python3.13t"
    by_abi = layout_from_records(
        {
            "python": _python("3.13.1", "h0_0"),
            "python_abi": CondaRecord(name="python_abi", version="3.13", build="5_cp313t"),
        }
    )
    assert by_abi.site_packages == "lib/python3.13t/site-packages"
    regular = layout_from_records(
        {
            "python": _python("3.13.1", "h0_0"),
            "python_abi": CondaRecord(name="python_abi", version="3.13", build="5_cp313"),
        }
    )
    assert regular.stdlib == "lib/python3.13"


def test_python_site_packages_path_wins():
    layout = layout_from_records(
        {"python": _python(python_site_packages_path="lib/python3.11/site-packages/custom")}
    )
    assert layout.site_packages == "lib/python3.11/site-packages/custom"
    assert layout.stdlib == "lib/python3.11"


def test_windows_layout():
    by_subdir = layout_from_records({"python": _python(subdir="win-64")})
    assert (by_subdir.stdlib, by_subdir.site_packages, by_subdir.scripts) == (
        "Lib",
        "Lib/site-packages",
        "Scripts",
    )
    by_files = layout_from_records(
        {"python": _python(subdir="", files=(RecordFile("python.exe"),))}
    )
    assert by_files.windows and by_files.executable == "python.exe"


def test_markers_are_those_of_the_env_python_not_ours():
    layout = PythonLayout.build("3.8", full_version="3.8.19")
    markers = layout.marker_environment()
    assert markers["python_version"] == "3.8"
    assert markers["python_full_version"] == "3.8.19"


def test_no_python_record():
    assert layout_from_records({}) is None


def test_python_site_packages_path_leading_out_of_the_prefix_is_ignored(tmp_path):
    for value in ("/usr/lib/python3/dist-packages", "../../lib/site", "lib/../../x", "C:/Py/Lib"):
        layout = layout_from_records({"python": _python(python_site_packages_path=value)})
        assert (layout.site_packages, layout.ignored_site_packages) == (
            "lib/python3.11/site-packages",
            value,
        )
        assert layout.to_dict()["ignored_site_packages"] == value
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "out").symlink_to("/usr/lib")
    record = {"python": _python(python_site_packages_path="lib/out/site-packages")}
    assert layout_from_records(record).site_packages == "lib/out/site-packages"  # lexically fine
    assert layout_from_records(record, tmp_path).ignored_site_packages == "lib/out/site-packages"
    assert "ignored_site_packages" not in layout_from_records({"python": _python()}).to_dict()

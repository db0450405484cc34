"""environment.yml rendering from real environments, and the YAML scalars it writes."""

from __future__ import annotations

import json

import pytest

from conda_pipguard.core.repair.export import (
    EnvironmentSpec,
    export_spec,
    render_yaml,
    yaml_scalar,
)
from tests.core.repair.test_repair import make_editable
from tests.support.envkit import append_history


@pytest.fixture
def touched(numpy_channel, tmp_path):
    """The user story, plus a requested PyPI-only app with a PyPI-only helper, plus an editable."""
    kit = numpy_channel
    prefix = kit.create("story", ["python", "pip", "numpy", "scipy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    kit.wheel("app", "1.0", {"app.py": ""}, requires_dist=["helper"])
    kit.wheel("helper", "1.0", {"helper.py": ""})
    kit.pip(prefix, "install", "app")
    project = make_editable(kit, prefix, tmp_path)
    return prefix, project


def test_default_export_requested_specs_and_requested_pip_only(touched, scan, numpy_channel):
    prefix, project = touched
    result = export_spec(scan(prefix))
    spec = result.spec
    assert spec.name == "story"
    assert spec.channels == (numpy_channel.channel_url,)
    assert spec.dependencies == ("numpy", "pip", "python", "scipy")
    assert spec.pip == ("app==1.0",)  # helper is only app's dependency; numpy is conda's
    assert spec.pip_comments == (f"editable: proj 0.1 from {project} (pip install -e {project})",)
    shadow, editable = result.notes
    assert shadow.startswith("numpy 2.1.0 (pip) is not exported: numpy belongs to conda")
    assert "conda's numpy 1.26.4" in shadow
    assert editable.startswith(f"proj is a development install from {project}")

    text = render_yaml(spec)
    assert text.splitlines()[3:] == [
        "name: story",
        "channels:",
        f"  - {numpy_channel.channel_url}",
        "dependencies:",
        "  - numpy",
        "  - pip",
        "  - python",
        "  - scipy",
        "  - pip:",
        f"      # editable: proj 0.1 from {project} (pip install -e {project})",
        "      - app==1.0",
    ]
    assert text.startswith("# exported by `conda pipguard export` from ")


def test_a_force_reinstall_does_not_replace_the_request(touched, scan):
    prefix, _ = touched
    # What `conda pipguard fix` leaves in the history: conda records the exact spec it reinstalled.
    append_history(
        prefix,
        cmd=f"conda install -p {prefix} --force-reinstall -y numpy=1.26.4=0",
        specs=["numpy==1.26.4=0"],
    )
    append_history(prefix, cmd=f"conda install -p {prefix} scipy=1.11", specs=["scipy=1.11"])
    dependencies = export_spec(scan(prefix)).spec.dependencies
    assert dependencies == ("numpy", "pip", "python", "scipy=1.11")


def test_pinned_and_all_pip(touched, scan):
    prefix, _ = touched
    spec = export_spec(scan(prefix), pinned=True, all_pip=True).spec
    python = next(d for d in spec.dependencies if d.startswith("python="))
    assert python.count("=") == 2
    assert [d.split("=")[0] for d in spec.dependencies] == ["numpy", "pip", "python", "scipy"]
    assert "numpy=1.26.4=0" in spec.dependencies and "scipy=1.11.4=0" in spec.dependencies
    assert spec.pip == ("app==1.0", "helper==1.0")


def test_pinned_export_takes_a_deleted_record_from_history(touched, scan):
    prefix, _ = touched
    (record,) = (prefix / "conda-meta").glob("numpy-1.26.4-*.json")
    record.unlink()  # what `conda list` does to it
    spec = export_spec(scan(prefix), pinned=True).spec
    assert "numpy=1.26.4=0" in spec.dependencies
    assert "numpy==2.1.0" not in spec.pip


def test_pip_section_brings_pip_and_variables_are_kept(kit, scan):
    prefix = kit.create("env", ["python"], dialect="conda")
    (prefix / "conda-meta" / "state").write_text(json.dumps({"env_vars": {"MY_FLAG": "on"}}))
    spec = export_spec(scan(prefix)).spec
    assert spec.dependencies == ("python",)
    assert spec.variables == {"MY_FLAG": "on"}
    assert render_yaml(spec).endswith('variables:\n  MY_FLAG: "on"\n')


def test_no_history_pins_everything(kit, scan):
    prefix = kit.create("env", ["python", "pip"], dialect="rattler")  # rattler writes none
    result = export_spec(scan(prefix))
    assert all(dep.count("=") == 2 for dep in result.spec.dependencies)
    assert any("history names no requested package" in note for note in result.notes)


def test_render_adds_a_quoted_scalar_where_yaml_would_misread_it():
    spec = EnvironmentSpec(
        name="no",
        channels=(),
        dependencies=("numpy >=1.23,<2", "1.0", "a: b", "#x"),
        pip=("--find-links /w",),
    )
    assert render_yaml(spec) == (
        'name: "no"\n'
        "channels: []\n"
        "dependencies:\n"
        "  - numpy >=1.23,<2\n"
        '  - "1.0"\n'
        '  - "a: b"\n'
        '  - "#x"\n'
        "  - pip:\n"
        '      - "--find-links /w"\n'
    )


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("conda-forge::numpy=1.26.4=0", True),
        ("file:///srv/chan", True),
        ("python >=3.11,<3.12", True),
        ("pkg[build=py_0]", True),
        ("yes", False),
        ("Off", False),
        ("3.11", False),
        ("1:20", False),
        ("trailing:", False),
        ("*star", False),
        ("", False),
    ],
)
def test_yaml_scalar(text, plain):
    rendered = yaml_scalar(text)
    assert (rendered == text) is plain
    if not plain:
        assert json.loads(rendered) == text

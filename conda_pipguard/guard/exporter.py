"""``conda export --format pipguard``: our environment.yml as a conda environment exporter.

conda (>= 25.7) builds its ``Environment`` model of the prefix and hands it to the exporter. When
the model names a prefix on this machine, the export is made from the prefix itself, exactly as
``conda pipguard export`` makes it (requested specs from conda-meta/history, pip only for what no
conda package provides); otherwise from the model's requested specs and PyPI packages.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

NAME = "pipguard-yaml"
ALIASES = ("pipguard",)
DESCRIPTION = "environment.yml without the packages pip put over conda's (conda-pipguard)"


def _name(env: Any) -> str | None:
    name = getattr(env, "name", None)
    if not isinstance(name, str) or not name or os.sep in name:
        return None  # conda names an env outside its envs directories by its path
    return name


def export(env: Any) -> str:
    """Render conda's ``Environment`` model as conda-pipguard's environment.yml."""
    from ..core.diagnosis import diagnose
    from ..core.printable import printable
    from ..core.repair.export import EnvironmentSpec, export_spec, render_yaml

    prefix = getattr(env, "prefix", None)
    if prefix and (Path(prefix) / "conda-meta").is_dir():
        result = export_spec(diagnose(prefix, _name(env)))
        for note in result.notes:
            sys.stderr.write(printable(f"note: {note}") + "\n")
        return render_yaml(result.spec)
    config = getattr(env, "config", None)
    spec = EnvironmentSpec(
        name=_name(env),
        channels=tuple(getattr(config, "channels", None) or ()),
        dependencies=tuple(spec.conda_env_form() for spec in env.requested_packages),
        pip=tuple((env.external_packages or {}).get("pip", ())),
        variables=dict(getattr(env, "variables", None) or {}),
    )
    return render_yaml(spec)


def environment_exporters() -> Iterator[Any]:
    """The ``CondaEnvironmentExporter`` of this module; nothing on conda < 25.7."""
    try:
        from conda.plugins.types import CondaEnvironmentExporter
    except ImportError:
        return
    fields = getattr(CondaEnvironmentExporter, "__dataclass_fields__", {})
    extra = {"description": DESCRIPTION} if "description" in fields else {}
    yield CondaEnvironmentExporter(
        name=NAME, aliases=ALIASES, default_filenames=(), export=export, **extra
    )

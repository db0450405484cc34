"""``conda pipguard status --all`` through conda: a root without conda-meta is skipped."""

from __future__ import annotations

import json
from pathlib import Path

from tests.guard.conftest import requires_conda

pytestmark = requires_conda


def test_a_root_without_conda_meta_is_skipped_not_fatal(conda_envs):
    from conda.base.context import context
    from conda.core.envs_manager import list_all_known_prefixes

    root = Path(context.root_prefix)
    assert not (
        root / "conda-meta"
    ).is_dir()  # conda runs from a venv here, as with pip-installed conda
    assert str(root) in list_all_known_prefixes()
    out, _, code = conda_envs.cli("pipguard", "status", "--all", "--json")
    data = json.loads(out)
    assert code == 0
    assert {
        "prefix": str(root),
        "reason": f"{root} is not a conda environment (no conda-meta directory)",
    } in data["skipped"]
    assert str(root) not in [e["prefix"] for e in data["environments"]]
    out, _, code = conda_envs.cli("pipguard", "status", "--all")
    assert code == 0
    assert out.startswith(f"base ({root}): skipped: ")
    assert out.rstrip().endswith("1 environment: 1 skipped")

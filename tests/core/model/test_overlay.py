"""How each non-conda distribution lies over conda's packages (core/model/overlay.py).

Every state is reached as a user reaches it, on real environments from the kit
(tests/support/envkit.py): real pip over real conda packages, then the kit's conda transactions
(in conda's dialect, with conda's history) or the hand edit a user makes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conda_pipguard.core.disk.environment import load_environment
from conda_pipguard.core.model.ledger import Content, Ledger
from conda_pipguard.core.model.overlay import Layer, Overlay, build_overlay, layer_of
from conda_pipguard.core.model.ownership import Ownership
from tests.conftest import NUMPY_1, NUMPY_2
from tests.support.envkit import site_packages


def overlay_of(prefix: Path) -> Overlay:
    env = load_environment(prefix, include_user_site=False)
    return build_overlay(env, Ownership.of(env.records), Ledger(prefix))


def only_layer(overlay: Overlay) -> Layer:
    (layer,) = overlay.layers
    return layer


def states(layer: Layer) -> dict[str, dict[str, Content]]:
    """Record name -> file name -> whose content it holds, for each overlap."""
    return {
        overlap.record.name: {
            path.rsplit("/", 1)[1]: state for path, state in overlap.states.items()
        }
        for overlap in layer.overlaps
    }


@pytest.fixture
def numpy_env(kit) -> Path:
    """conda's numpy 1.26.4, over which pip force-reinstalled numpy 2.1.0."""
    kit.add_package("numpy", "1.26.4", modules=NUMPY_1, noarch=False)
    kit.wheel("numpy", "2.1.0", NUMPY_2)
    prefix = kit.create("env", ["python", "pip", "numpy"], dialect="conda")
    kit.pip(prefix, "install", "--force-reinstall", "--no-deps", "numpy==2.1.0")
    return prefix


def test_a_live_layer_over_conda_numpy(numpy_env):
    sp = site_packages(numpy_env).relative_to(numpy_env).as_posix()
    overlay = overlay_of(numpy_env)
    layer = only_layer(overlay)
    numpy = overlay.env.records_by_name["numpy"]
    assert layer.dist.path == f"{sp}/numpy-2.1.0.dist-info"
    assert layer.counterparts == (numpy,)
    assert states(layer) == {
        "numpy": {
            "__init__.py": Content.DIST,
            "_multiarray.so": Content.DIST,
            "linalg.py": Content.BOTH,  # byte-identical in both builds
        }
    }
    (overlap,) = layer.overlaps
    assert overlap.overwritten == 2  # DIST or ALTERED: not the identical linalg.py
    assert (overlap.count(Content.BOTH), overlap.count(Content.CONDA)) == (1, 0)
    assert (layer.listed, layer.missing) == (4, 0)  # byte code and its own metadata left out
    assert layer.leftovers == (f"{sp}/numpy/_new_api.py",)
    assert layer.live and not layer.stale and layer.replaces_conda and layer.history is None
    assert overlay.involved == frozenset({"numpy"})
    assert overlay.replaced == {"numpy": layer.dist}
    assert [d.name for d in overlay.conda_dists] == ["pip"]  # pip removed conda's dist-info
    # the guard's reading of one distribution is the same layer
    env = overlay.env
    assert layer_of(env, Ownership.of(env.records), Ledger(numpy_env), layer.dist) == layer


def test_a_stale_layer_after_conda_put_its_files_back(numpy_env, kit):
    sp = site_packages(numpy_env).relative_to(numpy_env).as_posix()
    kit.remove(numpy_env, ["numpy"], dialect="conda")
    kit.install(numpy_env, ["numpy"], dialect="conda")
    assert (site_packages(numpy_env) / "numpy-2.1.0.dist-info").is_dir()  # pip's, left behind
    overlay = overlay_of(numpy_env)
    layer = only_layer(overlay)
    assert states(layer) == {
        "numpy": {
            "__init__.py": Content.CONDA,
            "_multiarray.so": Content.CONDA,
            "linalg.py": Content.BOTH,
        }
    }
    assert layer.stale and not layer.live
    assert layer.replaces_conda  # still another copy of conda's project, in name only
    assert layer.leftovers == (f"{sp}/numpy/_new_api.py",)  # the one file conda has not
    assert layer.missing == 0
    assert overlay.involved == frozenset()
    assert overlay.replaced == {}
    assert sorted(d.name for d in overlay.conda_dists) == ["numpy", "pip"]


def test_an_incomplete_layer_after_conda_removed_what_pip_replaced(numpy_env, kit):
    sp = site_packages(numpy_env).relative_to(numpy_env).as_posix()
    kit.remove(numpy_env, ["numpy"], dialect="conda")  # conda deletes the files it listed
    overlay = overlay_of(numpy_env)
    layer = only_layer(overlay)
    assert (layer.listed, layer.missing) == (4, 3)  # __init__.py, linalg.py, _multiarray.so
    assert layer.leftovers == (f"{sp}/numpy/_new_api.py",)
    assert layer.counterparts == () and layer.overlaps == ()
    assert layer.history is None  # the history says conda removed numpy: nothing replaced
    assert not layer.replaces_conda
    assert layer.live  # what is left of it is what imports
    assert overlay.involved == frozenset() and overlay.replaced == {}


def test_history_names_the_package_whose_record_is_gone(numpy_env):
    """``conda list`` deletes the record of a package pip replaced; the history remembers it."""
    sp = site_packages(numpy_env).relative_to(numpy_env).as_posix()
    (record,) = numpy_env.glob("conda-meta/numpy-1.26.4-*.json")
    record.unlink()
    overlay = overlay_of(numpy_env)
    layer = only_layer(overlay)
    assert layer.counterparts == ()
    assert layer.history is not None
    assert (layer.history.name, layer.history.version) == ("numpy", "1.26.4")
    assert layer.replaces_conda
    assert overlay.replaced == {"numpy": layer.dist}
    assert overlay.involved == frozenset()  # no record left to name
    # no record owns numpy's files any more: every one of them is the layer's own
    assert sorted(layer.leftovers) == [
        f"{sp}/numpy/{name}"
        for name in ("__init__.py", "_multiarray.so", "_new_api.py", "linalg.py")
    ]


def test_overlaps_are_counted_per_record_and_only_a_counterpart_makes_a_layer_stale(kit):
    """A pip-only project that writes into two conda packages, one of them byte for byte."""
    kit.add_package("alpha", "1.0", modules={"alpha/__init__.py": "# alpha from conda\n"})
    kit.add_package("beta", "1.0", modules={"beta/__init__.py": "# beta, the same bytes\n"})
    kit.wheel(
        "bundle",
        "1.0",
        {
            "alpha/__init__.py": "# alpha as the bundle ships it, longer\n",
            "beta/__init__.py": "# beta, the same bytes\n",
            "bundle.py": "",
        },
    )
    prefix = kit.create("env", ["python", "pip", "alpha", "beta"], dialect="conda")
    kit.pip(prefix, "install", "bundle")
    sp = site_packages(prefix).relative_to(prefix).as_posix()
    overlay = overlay_of(prefix)
    layer = only_layer(overlay)
    assert layer.dist.name == "bundle"
    assert states(layer) == {
        "alpha": {"__init__.py": Content.DIST},
        "beta": {"__init__.py": Content.BOTH},
    }
    overwritten = {o.record.name: o.overwritten for o in layer.overlaps}
    assert overwritten == {"alpha": 1, "beta": 0}
    assert layer.counterparts == () and not layer.replaces_conda
    assert (layer.listed, layer.missing, layer.leftovers) == (3, 0, (f"{sp}/bundle.py",))
    assert overlay.involved == frozenset({"alpha"})  # beta's bytes are its own still
    assert overlay.replaced == {}

    # conda puts alpha's file back: the bundle is not a copy of alpha, so it is not stale
    kit.remove(prefix, ["alpha"], dialect="conda")
    kit.install(prefix, ["alpha"], dialect="conda")
    layer = only_layer(overlay_of(prefix))
    assert states(layer)["alpha"] == {"__init__.py": Content.CONDA}
    assert not layer.stale and layer.live

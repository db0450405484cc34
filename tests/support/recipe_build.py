"""Build ``recipe/`` with rattler-build (PyPI's ``py-rattler-build``), offline, as a user would.

The recipe is rendered with its own ``variants.yaml`` and no experimental feature, then built
against a local channel only (``file://``), and its own ``tests:`` section runs in that build
(``test_strategy="native"``). rattler-build reports through a callback: every log line is kept,
so that a failed build says why and a test can see which of the recipe's tests ran.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path


class RecipeBuildError(RuntimeError):
    """rattler-build failed; the message ends with the tail of its log."""


@dataclasses.dataclass(frozen=True)
class BuiltPackage:
    """One rattler-build run.

    Attributes:
        package: The ``.conda`` file.
        variant: The variant it was built for (``python_min``, ``target_platform``).
        log: rattler-build's log lines, in order.
        seconds: Wall time of render, build and the recipe's tests.
    """

    package: Path
    variant: dict[str, str]
    log: tuple[str, ...]
    seconds: float


class _Log:
    """A rattler-build progress callback that keeps the log lines and build steps."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def on_download_start(self, event) -> None:
        self.lines.append(f"download: {event.url}")

    def on_download_progress(self, event) -> None:
        pass

    def on_download_complete(self, event) -> None:
        pass

    def on_build_step(self, event) -> None:
        self.lines.append(f"step {event.step_name}: {event.message}")

    def on_log(self, event) -> None:
        self.lines.append(event.message)


def build_recipe(
    recipe: Path,
    channel: Path,
    output: Path,
    *,
    variant_overrides: dict[str, str] | None = None,
) -> BuiltPackage:
    """Render and build *recipe* (a ``recipe.yaml``) against *channel* alone, tests included.

    Args:
        recipe: The recipe file; its directory's ``variants.yaml`` is the variant file.
        channel: An indexed local channel holding every build, host and test dependency.
        output: rattler-build's output directory (its own channel of the result).
        variant_overrides: Variant keys to set over ``variants.yaml`` (one value each).

    Raises:
        RecipeBuildError: Rendering, building or the recipe's tests failed.
    """
    from rattler_build import Stage0Recipe, ToolConfiguration, VariantConfig

    started = time.perf_counter()
    variants = VariantConfig.from_files([recipe.parent / "variants.yaml"])
    if variant_overrides:
        extra = "".join(f'{key}:\n  - "{value}"\n' for key, value in variant_overrides.items())
        variants = variants.merge(VariantConfig.from_yaml(extra))
    log = _Log()
    try:
        (rendered,) = Stage0Recipe.from_file(recipe).render(variants)
        result = rendered.run_build(
            tool_config=ToolConfiguration(test_strategy="native", compression_threads=1),
            output_dir=output,
            channels=[channel.resolve().as_uri()],
            no_build_id=True,
            progress_callback=log,
        )
    except Exception as err:  # rattler-build raises its own exception types, all to be reported
        tail = "\n".join(log.lines[-60:])
        raise RecipeBuildError(f"rattler-build failed: {err}\n--- log (tail)\n{tail}") from err
    (package,) = result.packages
    return BuiltPackage(
        package=Path(package),
        variant={str(k): str(v) for k, v in rendered.variant.items()},
        log=tuple(log.lines),
        seconds=time.perf_counter() - started,
    )

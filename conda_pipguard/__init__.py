"""conda-pipguard: stop pip from silently breaking conda environments."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata only when asked for.

    The version is written once, in ``pyproject.toml``; conda imports this package on every
    command, so the metadata lookup waits until someone asks (``conda-pipguard --version``).
    """
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("conda-pipguard")
        except PackageNotFoundError:  # a bare checkout on sys.path, not installed
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

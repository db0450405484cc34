"""Tests on real PyPI wheels converted into conda packages (they download once, then cache)."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "pypi: downloads real wheels from PyPI once (cached); slow, and run in CI all the same",
    )

"""Command line: one module per verb, written once against the host seam of ``host.py``."""

"""Reading the disk: conda-meta records and history, Python's layout, installed distributions."""

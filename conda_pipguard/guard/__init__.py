"""The only code that imports conda: adapters from conda's objects to plain data, and hooks.

Kept empty: conda imports ``conda_pipguard.guard.settings`` on every command.
"""

"""Test support: real conda environments, conda packages and wheels built on disk."""

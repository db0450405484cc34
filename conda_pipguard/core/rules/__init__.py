"""Findings: the vocabulary, one pure rule per kind, and the impact of a planned change."""

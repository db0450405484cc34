"""The incident told whole: the timeline, its text, and ``status --verify``."""

"""conda transaction actions: verify file collisions before linking, keep locks right after.

conda instantiates these with the transaction's context, target prefix and package records;
``verify`` must *return* (not raise) an exception to abort cleanly before any file changes.
"""

from __future__ import annotations

from conda.core.path_actions import Action

from ..core.disk.places import has_kept_records
from .hooks import keep_locks_right, verify_transaction
from .safety import never_break_conda


class PipguardVerify(Action):
    """Exact file collisions with non-conda packages, after extraction, before linking."""

    def verify(self) -> Exception | None:
        """Return a block in ``block`` mode; warn in ``warn`` mode."""
        self._verified = True
        return never_break_conda("pre-transaction", fail_closed="return")(verify_transaction)(self)

    def execute(self) -> None:
        """Nothing to do: this action only verifies."""

    def reverse(self) -> None:
        """Nothing to undo."""

    def cleanup(self) -> None:
        """Nothing to clean up."""


class PipguardLocks(Action):
    """Keeps the pip locks right after the transaction changed the environment."""

    def verify(self) -> None:
        """Nothing to verify."""
        self._verified = True

    def execute(self) -> None:
        """Move or refresh the locks; never raises (a raise here would roll conda back)."""
        never_break_conda("post-transaction", fail_closed=None)(keep_locks_right)(self)
        if has_kept_records(self.target_prefix):
            from .kept_records import after_transaction  # drop copies of records conda relinked

            never_break_conda("post-transaction", fail_closed=None)(after_transaction)(self)

    def reverse(self) -> None:
        """Nothing to undo: :meth:`execute` never raises."""

    def cleanup(self) -> None:
        """Nothing to clean up."""

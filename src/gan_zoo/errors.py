"""User-facing errors: one line naming the key or file and the fix, never a bare traceback.

Entry points catch :class:`GanZooError` (and a few library errors they translate into it) and print
``error: <message>`` on one line, exiting with status 2.
"""

from __future__ import annotations


class GanZooError(Exception):
    """A problem the user can fix: a bad config value, a missing file, an incompatible composition."""


class ConfigError(GanZooError):
    """A config key holds a value that cannot work; the message names the key and the fix."""


class DataError(GanZooError):
    """A dataset file is missing, truncated or not in the expected format; the message names the file."""


class DivergenceError(GanZooError):
    """Training produced a non-finite loss; the message names the loss, the kimg and the last good checkpoint."""


def exit_code_of(action) -> int:
    """Run a console script's action: 0 when it succeeds, 2 after printing ``error: <one line>`` for a
    :class:`GanZooError` (the shared tail of gan-zoo-prepare, -eval, -report and -train-classifier)."""
    import sys

    try:
        action()
    except GanZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

"""The one exception type for user mistakes.

Anything the user can fix (a missing file, a malformed CSV, an unknown config key) raises
`KitError` with a message that names the file, row, column or value. The CLI prints the message
on one line and exits non-zero; it never shows a traceback for these.
"""


class KitError(Exception):
    """A user-facing error: bad input, bad config, missing data. Printed without a traceback."""


class TrainingDiverged(KitError):
    """The loss became NaN or infinite: a bad configuration, not a bug (tuning fails the trial)."""

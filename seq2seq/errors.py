"""The one exception type for mistakes a user can fix (bad config, missing file, bad input).

The CLI prints a `UserError` as a single line on stderr and exits non-zero; any other exception is a bug and
keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input, config or files; the message says what and where."""

"""What a user is told: `UserError` for mistakes they can fix, `warn` for input that is legal but odd.

The CLI prints a `UserError` as a single line on stderr and exits non-zero; any other exception is a bug and
keeps its traceback. Warnings are `InputWarning`s (Python's `warnings` machinery, so library users can filter or
escalate them); the CLI prints each as one `seq2seq: warning: ...` line.
"""

import warnings


class UserError(Exception):
    """A problem with the user's input, config or files; the message says what and where."""


class InputWarning(UserWarning):
    """Input that is legal but probably not what the user meant (CRLF line endings, dropped pairs, ...)."""


def warn(message: str) -> None:
    warnings.warn(message, InputWarning, stacklevel=2)

"""The one exception type that commands turn into a one-line message and exit code 2."""

import re

#: characters that would break the one line (newlines, other controls): shown escaped instead
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with control characters (newlines included) written as escapes, so that a file
    name or a key read from a damaged file cannot break a message over several lines."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class GenkitError(Exception):
    """Bad input or a bad request: the user can fix it, so no traceback is shown.

    ``source`` names the file (or ``-``) the problem came from, if any; commands print
    ``gk-NAME: SOURCE: message``, always on one line.
    """

    def __init__(self, message: str, source: str | None = None):
        super().__init__(message)
        self.source = source

    def __str__(self) -> str:
        msg = super().__str__()
        return one_line(f"{self.source}: {msg}" if self.source else msg)

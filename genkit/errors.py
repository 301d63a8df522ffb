"""The one exception type that commands turn into a one-line message and exit code 2."""


class GenkitError(Exception):
    """Bad input or a bad request: the user can fix it, so no traceback is shown.

    ``source`` names the file (or ``-``) the problem came from, if any; commands print
    ``gk-NAME: SOURCE: message``.
    """

    def __init__(self, message: str, source: str | None = None):
        super().__init__(message)
        self.source = source

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{self.source}: {msg}" if self.source else msg

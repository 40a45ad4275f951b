"""The user-input error, in a module without numerics so the command line and the
registry can raise it without importing numpy."""
from __future__ import annotations


class InputError(Exception):
    """A problem with the user's input (file or parameter), worded for a chemist.

    The CLI prints it as one line and exits 2; the web app shows it as the run's error.
    `path` names the file the problem is in, when there is one.
    """

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

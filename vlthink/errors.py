"""The one base of every user-facing error.

A :class:`VLThinkError` is bad input or a state the user can fix: its message is one line that
names the problem and the fix, and every CLI prints it and exits 2 without a traceback. Any
other exception is a bug and keeps its traceback. Errors keep their older bases too
(``ValueError``, ``KeyError``, ``RuntimeError``) so code that caught those still works.
"""

from __future__ import annotations


class VLThinkError(Exception):
    """A user-facing problem; the message names the problem and the fix (exit code 2)."""


class UnknownNameError(VLThinkError, KeyError):
    """A name (env id, domain, asset, look ...) that is not in its catalogue; the message lists
    the known ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingFileError(VLThinkError, FileNotFoundError):
    """A file the command needs is not there; the message says how to make or get it."""

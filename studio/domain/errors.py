"""Errors that carry a message meant for the author, not a traceback."""

from __future__ import annotations


class StudioError(Exception):
    """Base of every error whose message is fit to show to the user as it is."""


class ValidationError(StudioError):
    """Data that does not fit its schema: names the field (as a path) and the reason."""

    def __init__(self, where: str, path: list[str | int], reason: str):
        self.where = where
        self.path = list(path)
        self.reason = reason
        shown = "/".join(str(p) for p in self.path) or "(top level)"
        super().__init__(f"{where}: field “{shown}” — {reason}")


class NotFoundError(StudioError):
    pass


class ImportFormatError(StudioError):
    """A file to import is not what it claims to be; nothing was created from it."""

"""Exceptions a user sees: each names the file, line or field at fault and what was expected.

The command line prints ``str(error)`` on one line of stderr and exits non-zero; every other
exception is a bug in decide.
"""

from __future__ import annotations

from pathlib import Path


class DecideError(Exception):
    """Base class of every error caused by the user's input rather than by decide itself."""


class FormatError(DecideError):
    """A file that does not follow its format; ``path`` and ``line`` locate the fault."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        where = self.path or "<text>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class ModelError(DecideError):
    """A model whose arrays or parameters are invalid; ``field`` names the offender."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class ImpossibleObservation(DecideError):  # noqa: N818 - reads as what happened
    """An observation with probability zero under the current belief and action."""


class SchemaError(DecideError):
    """A Dataset that does not follow docs/output_schema.md."""


class UsageError(DecideError):
    """A command-line or API argument that cannot be used."""


class MatrixError(DecideError):
    """A matrix that cannot be used: names what is wrong, e.g. the row with a zero diagonal.

    ``row`` is the offending row when there is one.
    """

    def __init__(self, message: str, *, row: int | None = None):
        self.message = message
        self.row = row
        super().__init__(message if row is None else f"row {row}: {message}")

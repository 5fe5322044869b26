"""The package's own errors and warning: what a user did that the package refuses, told in one
line. They subclass the built-in error a caller would expect (``ValueError``, ``TypeError``,
``KeyError``), so ``except ValueError`` still catches them; the command line prints these (and a
missing file) as one line with exit status 2, and shows any other error's traceback, since
that is a bug.

>>> try:
...     raise InputError("threshold must be between -1 and 1, got 3")
... except ValueError as exc:
...     print(exc)
threshold must be between -1 and 1, got 3
"""

from __future__ import annotations


class SimwidgetsError(Exception):
    """Base of every error the package raises on purpose about its input."""


class InputError(SimwidgetsError, ValueError):
    """A value the package cannot use: an empty table, a label that is not a number, a bad rule."""


class OptionError(SimwidgetsError, TypeError):
    """An option a function or model does not take, or one of the wrong type."""


class NotFoundError(SimwidgetsError, KeyError):
    """A named thing that is not there: a column, a word, a model in a stacked file."""

    def __str__(self) -> str:  # the message, not KeyError's quoted repr of it
        return str(self.args[0]) if self.args else ""


class UntrustedFileError(InputError):
    """A file that would run code when loaded (a pickle, a stacked model holding an unknown
    type) was given without ``trust=True``."""


class NoVectorsError(OptionError):
    """Something that needs vectors (a matrix, neighbours, a map) was given a pair scorer."""


class SimwidgetsWarning(UserWarning):
    """A problem reported and recovered from (a truncated text, a dropped label) or a result
    that may mislead (few labels, a model judged on its own training pairs)."""

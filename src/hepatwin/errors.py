"""One family of errors for mistakes in the user's input.

Every mistake a user can make (a file, a command-line option, an object built or edited in Python) raises an
:class:`InputError` whose message names the field, the value and what was expected. The command line prints
it as one `error:` line and exits 2; the Python API lets it propagate. Failures that are not the user's (a
solver that fails, a bug) are other exceptions and never this family.
"""

from __future__ import annotations


class InputError(ValueError):
    """A mistake in the user's input; the message is meant for the user."""


class InputFileError(InputError):
    """An input file that cannot be read or used (a subclass names its kind)."""


__all__ = ["InputError", "InputFileError"]

"""The exceptions diffcheck raises for its callers' mistakes.

Every error the project means to show a user derives from :class:`DiffcheckError`;
the command line prints those in one line and exits with status 2.  Anything else
that escapes is a bug in diffcheck and keeps its traceback.
"""

from __future__ import annotations


class DiffcheckError(Exception):
    """Base class: a problem with the input or the request, explained in one line."""


class ExpressionError(DiffcheckError):
    """Expression text that is not in diffcheck's language, or is too large.

    ``where`` names the source (a file and case, or ``"expression"``) and
    ``column`` is 1-based, counted in the expression text.
    """

    def __init__(self, message: str, *, text: str = "", column: int | None = None,
                 where: str = "expression"):
        self.reason = message
        self.text = text
        self.column = column
        self.where = where
        super().__init__(self._render())

    def _render(self) -> str:
        place = self.where if self.column is None else f"{self.where}, column {self.column}"
        return f"{place}: {self.reason}"

    def located(self, where: str) -> "ExpressionError":
        """The same error, naming a more precise source (such as a file and case)."""
        return type(self)(self.reason, text=self.text, column=self.column, where=where)


class ShapeError(ExpressionError):
    """Operands whose shapes an op cannot combine."""


class PointError(DiffcheckError):
    """A point (variable values) that is malformed or does not fit the expression."""


class CaseFileError(DiffcheckError):
    """A case file that cannot be read, names an unknown field, or misses one."""


class CallableError(DiffcheckError):
    """A callable, its inputs or its options that diffcheck cannot check as given."""


class GradientMismatch(AssertionError):
    """A gradient that disagrees with diffcheck's independent methods.

    Raised by the assertion helpers (``assert_gradients_agree`` for expressions,
    ``assert_gradients`` for callables) so that pytest and unittest report it as a
    test failure.  It is an ``AssertionError``, not a :class:`DiffcheckError`: the
    input was fine, the derivative was wrong.  ``result`` is the check result that
    the one-paragraph message was written from.
    """

    def __init__(self, message: str, result=None):
        super().__init__(message)
        self.result = result

"""Claimed numbers are checked at the precision they are written with.

A document that prints ``0.3333`` claims four decimals: any true value that
rounds to it is right.  ``22`` claims the nearest integer, ``1.2e-3`` two
significant digits, and a list claims each entry at its own precision.
"""

from __future__ import annotations

import re

import numpy as np

from diffcheck.checking.diagnosis import SLACK, matches
from diffcheck.errors import ExpressionError

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def half_unit(text: str) -> float:
    """Half a unit in the last written place of one number: ``'0.3333'`` -> 5e-05."""
    match = _NUMBER.fullmatch(text.strip())
    if not match:
        raise ExpressionError(f"{text!r} is not a number")
    mantissa, exponent = match.group(1), match.group(2)
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    power = int(exponent[1:]) if exponent else 0
    # Capped so that "0e400" is a (meaningless but finite) unit, not an OverflowError.
    return 0.5 * 10.0 ** min(power - decimals, 308)


_TENSOR = re.compile(r"^\s*tensor\((?P<body>[^=]*?)\s*(,[^,=\[\]]*=.*)?\)\s*$", re.S)
_TOKEN = re.compile(r"\[|\]|" + _NUMBER.pattern)
MAX_CLAIMED_ENTRIES = 1_000_000


def _nested(text: str, where: str):
    """Numbers in nested brackets, separated by commas or (as NumPy prints) spaces."""
    stack: list[list] = [[]]
    end = 0
    for match in _TOKEN.finditer(text):
        gap = text[end:match.start()]
        if gap.strip(" \t\r\n,"):
            raise ExpressionError(f"unexpected {gap.strip()!r} in a claimed value",
                                  column=end + 1, where=where)
        end = match.end()
        token = match.group(0)
        if token == "[":
            stack.append([])
        elif token == "]":
            if len(stack) == 1:
                raise ExpressionError("unbalanced ']'", column=match.start() + 1, where=where)
            inner = stack.pop()
            stack[-1].append(inner)
        else:
            stack[-1].append(token)
    if text[end:].strip(" \t\r\n,"):
        raise ExpressionError(f"unexpected {text[end:].strip()!r} in a claimed value",
                              column=end + 1, where=where)
    if len(stack) != 1 or len(stack[0]) != 1:
        raise ExpressionError("a claimed value is one number or one bracketed list", where=where)
    return stack[0][0]


def claimed(text: str, *, where: str = "claim") -> tuple[np.ndarray, np.ndarray]:
    """The value a claim writes, and for each entry half a unit of its last place.

    Accepts a number, a nested list with commas or NumPy's spaces, or a whole
    torch printout (``tensor([ -4., -12.], grad_fn=<...>)``).  Nothing is evaluated.
    """
    match = _TENSOR.match(text)
    body = match.group("body") if match else text
    if len(body) > 20 * MAX_CLAIMED_ENTRIES:
        raise ExpressionError("claimed value too long", where=where)
    tokens = _nested(body, where)
    try:
        strings = np.array(tokens, dtype=object)
        if strings.dtype != object or any(isinstance(t, list) for t in strings.ravel()):
            raise ValueError
    except ValueError:
        raise ExpressionError("the claimed lists are not rectangular", where=where) from None
    value = np.array([float(t) for t in strings.ravel()]).reshape(strings.shape)
    if not np.all(np.isfinite(value)):
        raise ExpressionError("a claimed number is beyond float64's range", where=where)
    tolerance = np.array([half_unit(t) for t in strings.ravel()]).reshape(strings.shape)
    return value, tolerance


def shows_as(true, value: np.ndarray, tolerance: np.ndarray, slack: float = SLACK) -> bool:
    """Whether ``true`` rounds to the claimed ``value`` at the claimed precision.

    ``slack`` (relative) keeps a true value that sits exactly on a rounding
    boundary, up to float rounding, from flipping the verdict.  One number in
    brackets ("grad = [1]" for a scalar) is notation, not a wrong value; any
    other difference in shape is a wrong claim.  The diagnoses use the same test
    (:func:`diffcheck.checking.diagnosis.matches`), so an explanation holds exactly
    when its value would have made the claim right.
    """
    return matches(value, true, tolerance, slack)

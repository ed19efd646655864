"""Claimed numbers are checked at the precision they are written with.

A document that prints ``0.3333`` claims four decimals: any true value that
rounds to it is right.  ``22`` claims the nearest integer, ``1.2e-3`` two
significant digits, and a list claims each entry at its own precision.
"""

from __future__ import annotations

import re

import numpy as np

from .errors import ExpressionError
from .parser import parse_value

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def half_unit(text: str) -> float:
    """Half a unit in the last written place of one number: ``'0.3333'`` -> 5e-05."""
    match = _NUMBER.fullmatch(text.strip())
    if not match:
        raise ExpressionError(f"{text!r} is not a number")
    mantissa, exponent = match.group(1), match.group(2)
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    power = int(exponent[1:]) if exponent else 0
    return 0.5 * 10.0 ** (power - decimals)


def claimed(text: str, *, where: str = "claim") -> tuple[np.ndarray, np.ndarray]:
    """The value a claim writes, and for each entry half a unit of its last place."""
    value = np.asarray(parse_value(text, where=where), dtype=float)
    tokens = [m.group(0) for m in _NUMBER.finditer(text)]
    if len(tokens) != value.size:
        raise ExpressionError(f"cannot match the numbers in {text!r} to its entries", where=where)
    tolerance = np.array([half_unit(t) for t in tokens]).reshape(value.shape)
    return value, tolerance


def shows_as(true, value: np.ndarray, tolerance: np.ndarray, slack: float = 1e-9) -> bool:
    """Whether ``true`` rounds to the claimed ``value`` at the claimed precision.

    ``slack`` (relative) keeps a true value that sits exactly on a rounding
    boundary, up to float rounding, from flipping the verdict.
    """
    true = np.asarray(true, dtype=float)
    if true.shape != value.shape:
        return False
    bound = tolerance * (1 + slack) + slack * np.abs(value)
    return bool(np.all(np.abs(true - value) <= bound))

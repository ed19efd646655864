"""Where each op's result lies, given where its arguments lie: interval bounds.

The property-based strategies (:mod:`diffcheck.testing.strategies`) give every variable a
box (all its entries lie in ``[lo, hi]``) and build an expression bottom-up,
choosing an op for some arguments only when the arguments' bounds lie inside the
op's derivative domain with a margin (``log`` of an argument bounded below by
0.05, ``arcsin`` of one inside [-0.95, 0.95]) and the result stays moderate.
Every point drawn from the boxes is then inside every op's domain by
construction, not by filtering, and every value is finite.

Each op's rule sits on its record (``Op.interval``; ``Op.bound(args, params)``
applies it): given one :class:`Interval` per argument it returns the result's
:class:`Interval`, or None when the op may not be applied to arguments bounded
so (outside its domain, or a result too large to keep the expression
well-scaled).  Bounds are conservative: the true range is inside them.  This
module holds the interval arithmetic the rules are written with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

#: No bound may exceed this in magnitude: larger values make finite differences
#: and float64 rounding the subject of the test instead of the derivative rules.
LIMIT = 1e3
#: Distance kept from the edge of a domain (log, sqrt, division, arcsin, tan).
MARGIN = 0.05
#: Largest argument of exp, sinh and cosh (e**8 is about 3000).
EXP_LIMIT = 6.0


@dataclass(frozen=True)
class Interval:
    """The entries of a value lie in [lo, hi]; ``shape`` is its NumPy shape."""

    lo: float
    hi: float
    shape: tuple = ()
    exact: bool = False   # a literal: its one value is known exactly


    def contains_zero(self) -> bool:
        return self.lo <= 0.0 <= self.hi

    @property
    def magnitude(self) -> float:
        return max(abs(self.lo), abs(self.hi))


def span(values, shape) -> Optional[Interval]:
    values = [float(v) for v in values]
    if not all(math.isfinite(v) for v in values):
        return None
    out = Interval(min(values), max(values), shape)
    return out if out.magnitude <= LIMIT else None


def increasing(f: Callable) -> Callable:
    return lambda a, **_: span((f(a.lo), f(a.hi)), a.shape)


def decreasing(f: Callable) -> Callable:
    return lambda a, **_: span((f(a.hi), f(a.lo)), a.shape)


def even(f: Callable) -> Callable:
    # f symmetric about 0 and increasing in |x|: smallest at the point nearest 0.
    def rule(a, **_):
        nearest = 0.0 if a.contains_zero() else min(abs(a.lo), abs(a.hi))
        return span((f(nearest), f(a.magnitude)), a.shape)
    return rule


def within(lo: float, hi: float, rule: Callable) -> Callable:
    """``rule``, allowed only for arguments bounded inside [lo, hi]."""
    return lambda a, **params: rule(a, **params) if lo <= a.lo and a.hi <= hi else None


def broadcast(*shapes) -> Optional[tuple]:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def binary(combine: Callable) -> Callable:
    """Elementwise binary op whose extremes are at the corners of the box."""
    def rule(a, b, **_):
        shape = broadcast(a.shape, b.shape)
        if shape is None:
            return None
        return span([combine(x, y) for x in (a.lo, a.hi) for y in (b.lo, b.hi)], shape)
    return rule


def extreme(pick: Callable) -> Callable:
    """Elementwise binary op increasing in both arguments (max, min)."""
    def rule(a, b, **_):
        shape = broadcast(a.shape, b.shape)
        return None if shape is None else span((pick(a.lo, b.lo), pick(a.hi, b.hi)), shape)
    return rule


def reduced_shape(shape: tuple, axis) -> tuple:
    """The shape left after reducing ``shape`` along ``axis`` (None: every axis)."""
    if axis is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i != axis % len(shape))


def count(shape: tuple, axis) -> int:
    """How many entries a reduction along ``axis`` adds up."""
    return math.prod(shape) if axis is None else shape[axis % len(shape)]


def same(a: Interval, **_) -> Interval:
    """The argument's own bounds (an identity in value)."""
    return Interval(a.lo, a.hi, a.shape)


def integer_power(a: Interval, k: int) -> Optional[Interval]:
    """Bounds of ``x ** k`` for a non-negative integer ``k``."""
    corners = [a.lo ** k, a.hi ** k]
    if k % 2 == 0 and a.contains_zero():
        corners.append(0.0)
    return span(corners, a.shape)

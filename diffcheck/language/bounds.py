"""Where each op's result lies, given where its arguments lie: interval bounds.

The property-based strategies (:mod:`diffcheck.testing.strategies`) give every variable a
box (all its entries lie in ``[lo, hi]``) and build an expression bottom-up,
choosing an op for some arguments only when the arguments' bounds lie inside the
op's derivative domain with a margin (``log`` of an argument bounded below by
0.05, ``arcsin`` of one inside [-0.95, 0.95]) and the result stays moderate.
Every point drawn from the boxes is then inside every op's domain by
construction, not by filtering, and every value is finite.

:func:`bound` is the one entry: ``bound(op_name, args, params)`` with each
argument an :class:`Interval` returns the result's :class:`Interval`, or None
when the op may not be applied to arguments bounded so (outside its domain, or a
result too large to keep the expression well-scaled).  Bounds are conservative:
the true range is inside them.
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


def _span(values, shape) -> Optional[Interval]:
    values = [float(v) for v in values]
    if not all(math.isfinite(v) for v in values):
        return None
    out = Interval(min(values), max(values), shape)
    return out if out.magnitude <= LIMIT else None


def _increasing(f: Callable) -> Callable:
    return lambda a, **_: _span((f(a.lo), f(a.hi)), a.shape)


def _decreasing(f: Callable) -> Callable:
    return lambda a, **_: _span((f(a.hi), f(a.lo)), a.shape)


def _even(f: Callable) -> Callable:
    # f symmetric about 0 and increasing in |x|: smallest at the point nearest 0.
    def rule(a, **_):
        nearest = 0.0 if a.contains_zero() else min(abs(a.lo), abs(a.hi))
        return _span((f(nearest), f(a.magnitude)), a.shape)
    return rule


def _within(lo: float, hi: float, rule: Callable) -> Callable:
    """``rule``, allowed only for arguments bounded inside [lo, hi]."""
    return lambda a, **params: rule(a, **params) if lo <= a.lo and a.hi <= hi else None


def _broadcast(*shapes) -> Optional[tuple]:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def _binary(combine: Callable) -> Callable:
    """Elementwise binary op whose extremes are at the corners of the box."""
    def rule(a, b, **_):
        shape = _broadcast(a.shape, b.shape)
        if shape is None:
            return None
        return _span([combine(x, y) for x in (a.lo, a.hi) for y in (b.lo, b.hi)], shape)
    return rule


def _div(a, b, **_):
    if not (b.lo >= MARGIN or b.hi <= -MARGIN):
        return None   # the divisor could come near zero
    return _binary(lambda x, y: x / y)(a, b)


def _integer_power(a: Interval, k: int) -> Optional[Interval]:
    corners = [a.lo ** k, a.hi ** k]
    if k % 2 == 0 and a.contains_zero():
        corners.append(0.0)
    return _span(corners, a.shape)


def _pow(a, b, **_):
    shape = _broadcast(a.shape, b.shape)
    if shape is None:
        return None
    if b.exact and float(b.lo).is_integer() and 0 <= b.lo <= 4:
        # A constant integer exponent: any base (x**2 at x = 0 is in the domain).
        power = _integer_power(a, int(b.lo))
        return None if power is None else Interval(power.lo, power.hi, shape)
    if a.lo < 4 * MARGIN:
        return None   # a non-integer exponent needs a base bounded away from 0
    logs = [y * math.log(x) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
    if max(logs) > math.log(LIMIT):
        return None
    return _span([math.exp(v) for v in logs], shape)


def _relu_like(slope_below: Callable) -> Callable:
    return lambda a, **params: _span((slope_below(a.lo, **params), slope_below(a.hi, **params)), a.shape)


def _leaky(x, alpha):
    return x if x > 0 else alpha * x


def _elu(x, alpha):
    return x if x > 0 else alpha * math.expm1(x)


def _sigmoid(x):
    return 0.5 * (1.0 + math.tanh(0.5 * x))


def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _extreme(pick: Callable) -> Callable:
    def rule(a, b, **_):
        shape = _broadcast(a.shape, b.shape)
        return None if shape is None else _span((pick(a.lo, b.lo), pick(a.hi, b.hi)), shape)
    return rule


def _reduced_shape(shape: tuple, axis) -> tuple:
    if axis is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i != axis % len(shape))


def _count(shape: tuple, axis) -> int:
    return math.prod(shape) if axis is None else shape[axis % len(shape)]


def _sum(a, axis=None):
    if axis is not None and not a.shape:
        return None
    n = _count(a.shape, axis)
    return _span((n * a.lo, n * a.hi), _reduced_shape(a.shape, axis))


def _mean(a, axis=None):
    if axis is not None and not a.shape:
        return None
    return Interval(a.lo, a.hi, _reduced_shape(a.shape, axis))


def _matmul(a, b, **_):
    if len(a.shape) not in (1, 2) or len(b.shape) not in (1, 2):
        return None
    inner_a = a.shape[-1]
    inner_b = b.shape[0]
    if inner_a != inner_b:
        return None
    shape = a.shape[:-1] + b.shape[1:]
    products = [x * y for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
    return _span((inner_a * min(products), inner_a * max(products)), shape)


def _transpose(a, **_):
    return Interval(a.lo, a.hi, tuple(reversed(a.shape)))


def _identity(a, **_):
    return Interval(a.lo, a.hi, a.shape)


RULES: dict[str, Callable] = {
    "add": _binary(lambda x, y: x + y),
    "sub": _binary(lambda x, y: x - y),
    "mul": _binary(lambda x, y: x * y),
    "div": _div,
    "pow": _pow,
    "neg": _decreasing(lambda x: -x),
    "square": _even(lambda x: x * x),
    "exp": _within(-LIMIT, EXP_LIMIT, _increasing(math.exp)),
    "log": _within(MARGIN, LIMIT, _increasing(math.log)),
    "sqrt": _within(MARGIN, LIMIT, _increasing(math.sqrt)),
    "sin": lambda a, **_: Interval(-1.0, 1.0, a.shape),
    "cos": lambda a, **_: Interval(-1.0, 1.0, a.shape),
    "tan": _within(-math.pi / 2 + 0.2, math.pi / 2 - 0.2, _increasing(math.tan)),
    "arcsin": _within(-1 + MARGIN, 1 - MARGIN, _increasing(math.asin)),
    "arccos": _within(-1 + MARGIN, 1 - MARGIN, _decreasing(math.acos)),
    "arctan": _increasing(math.atan),
    "sinh": _within(-EXP_LIMIT, EXP_LIMIT, _increasing(math.sinh)),
    "cosh": _within(-EXP_LIMIT, EXP_LIMIT, _even(math.cosh)),
    "tanh": _increasing(math.tanh),
    "sigmoid": _increasing(_sigmoid),
    "softplus": _increasing(_softplus),
    "relu": _increasing(lambda x: max(x, 0.0)),
    "leaky_relu": _relu_like(_leaky),
    "elu": _relu_like(_elu),
    "abs": _even(abs),
    "maximum": _extreme(max),
    "minimum": _extreme(min),
    "sum": _sum,
    "mean": _mean,
    "matmul": _matmul,
    "transpose": lambda a, **_: _transpose(a) if len(a.shape) == 2 else None,
    "detach": _identity,
}


def bound(op_name: str, args: list[Interval], params: dict) -> Optional[Interval]:
    """The bounds of ``op_name`` applied to arguments within ``args``, or None when
    the op may not be applied to them (see the module notes)."""
    return RULES[op_name](*args, **params)

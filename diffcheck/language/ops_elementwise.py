"""The ops applied entry by entry: arithmetic, exponentials and logarithms,
trigonometric and hyperbolic functions, activations.

One :func:`~diffcheck.language.op.elementwise` call per op: name, formula, NumPy
forward, scalar SymPy form, one partial derivative per argument (the engine's
rule), torch form, then domain, kinks and the interval rule the strategies
draw with.  See :mod:`diffcheck.language.op` for the contract of each field.
"""

from __future__ import annotations

import math

import numpy as np

from diffcheck.language.bounds import (
    EXP_LIMIT,
    LIMIT,
    MARGIN,
    Interval,
    binary,
    broadcast,
    decreasing,
    even,
    extreme,
    increasing,
    integer_power,
    span,
    within,
)
from diffcheck.language.op import elementwise as ew


def _sigmoid(x):
    # tanh form: no overflow warning for large |x| and accurate in both tails.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _kink_at_zero(x, **params):
    return x


def _pow_base_domain(x, y):
    # y = 0: x**0 is 1 for every x (0**0 = 1 in NumPy, torch and SymPy alike), so
    # its derivative in x is 0 even at x = 0.
    integral = y == np.round(y)
    return (x > 0) | (integral & ((x != 0) | (y >= 1) | (y == 0)))


def _pow_base_partial(ans, x, y):
    return np.where(y == 0, 0.0, y * np.power(x, y - 1))


def _tie_split(x, y):
    # At a tie torch.maximum sends half the gradient to each side; the engine does
    # the same so that ties show as agreeing subgradients, not as noise.
    return np.where(x > y, 1.0, np.where(x == y, 0.5, 0.0))


# --- interval rules that are more than one helper -------------------------------

def _div_interval(a, b, **_):
    if not (b.lo >= MARGIN or b.hi <= -MARGIN):
        return None   # the divisor could come near zero
    return binary(lambda x, y: x / y)(a, b)


def _pow_interval(a, b, **_):
    shape = broadcast(a.shape, b.shape)
    if shape is None:
        return None
    if b.exact and float(b.lo).is_integer() and 0 <= b.lo <= 4:
        # A constant integer exponent: any base (x**2 at x = 0 is in the domain).
        power = integer_power(a, int(b.lo))
        return None if power is None else Interval(power.lo, power.hi, shape)
    if a.lo < 4 * MARGIN:
        return None   # a non-integer exponent needs a base bounded away from 0
    logs = [y * math.log(x) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
    if max(logs) > math.log(LIMIT):
        return None
    return span([math.exp(v) for v in logs], shape)


def _increasing_with(f):
    # f(x, **params) increasing in x for the params the op allows (leaky_relu
    # and elu with alpha >= 0).
    return lambda a, **params: span((f(a.lo, **params), f(a.hi, **params)), a.shape)


def _scalar_sigmoid(x):
    return 0.5 * (1.0 + math.tanh(0.5 * x))


def _scalar_softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _unit(a, **_):
    return Interval(-1.0, 1.0, a.shape)


ARITHMETIC = [
    ew("add", "x + y", np.add, lambda sp, x, y: x + y,
       (lambda ans, x, y: 1.0, lambda ans, x, y: 1.0), lambda t, x, y: x + y,
       interval=binary(lambda x, y: x + y)),
    ew("sub", "x - y", np.subtract, lambda sp, x, y: x - y,
       (lambda ans, x, y: 1.0, lambda ans, x, y: -1.0), lambda t, x, y: x - y,
       interval=binary(lambda x, y: x - y)),
    ew("mul", "x * y", np.multiply, lambda sp, x, y: x * y,
       (lambda ans, x, y: y, lambda ans, x, y: x), lambda t, x, y: x * y,
       interval=binary(lambda x, y: x * y)),
    ew("div", "x / y", np.divide, lambda sp, x, y: x / y,
       (lambda ans, x, y: 1.0 / y, lambda ans, x, y: -ans / y), lambda t, x, y: x / y,
       domain=(lambda x, y: y != 0, lambda x, y: y != 0), domain_text="y != 0",
       interval=_div_interval),
    ew("pow", "x ** y", np.power, lambda sp, x, y: x ** y,
       (_pow_base_partial, lambda ans, x, y: np.log(x) * ans),
       lambda t, x, y: t.pow(x, y),
       domain=(_pow_base_domain, lambda x, y: x > 0),
       domain_text="x > 0, or y an integer (and y >= 1 or y = 0 when x = 0)",
       interval=_pow_interval),
    ew("neg", "-x", np.negative, lambda sp, x: -x,
       (lambda ans, x: -1.0,), lambda t, x: -x,
       interval=decreasing(lambda x: -x)),
    ew("square", "x ** 2", np.square, lambda sp, x: x ** 2,
       (lambda ans, x: 2.0 * x,), lambda t, x: t.square(x),
       interval=even(lambda x: x * x)),
]

EXPONENTIAL = [
    ew("exp", "e ** x", np.exp, lambda sp, x: sp.exp(x),
       (lambda ans, x: ans,), lambda t, x: t.exp(x),
       interval=within(-LIMIT, EXP_LIMIT, increasing(math.exp))),
    ew("log", "ln x", np.log, lambda sp, x: sp.log(x),
       (lambda ans, x: 1.0 / x,), lambda t, x: t.log(x),
       domain=(lambda x: x > 0,), domain_text="x > 0", aliases=("ln",),
       interval=within(MARGIN, LIMIT, increasing(math.log))),
    ew("sqrt", "x ** (1/2)", np.sqrt, lambda sp, x: sp.sqrt(x),
       (lambda ans, x: 0.5 / ans,), lambda t, x: t.sqrt(x),
       domain=(lambda x: x > 0,), domain_text="x > 0",
       interval=within(MARGIN, LIMIT, increasing(math.sqrt))),
]

TRIGONOMETRIC = [
    ew("sin", "sin x", np.sin, lambda sp, x: sp.sin(x),
       (lambda ans, x: np.cos(x),), lambda t, x: t.sin(x), interval=_unit),
    ew("cos", "cos x", np.cos, lambda sp, x: sp.cos(x),
       (lambda ans, x: -np.sin(x),), lambda t, x: t.cos(x), interval=_unit),
    ew("tan", "sin x / cos x", np.tan, lambda sp, x: sp.tan(x),
       (lambda ans, x: 1.0 + ans * ans,), lambda t, x: t.tan(x),
       domain=(lambda x: np.cos(x) != 0,), domain_text="cos x != 0",
       interval=within(-math.pi / 2 + 0.2, math.pi / 2 - 0.2, increasing(math.tan))),
    ew("arcsin", "inverse of sin on [-pi/2, pi/2]", np.arcsin, lambda sp, x: sp.asin(x),
       (lambda ans, x: 1.0 / np.sqrt(1.0 - x * x),), lambda t, x: t.asin(x),
       domain=(lambda x: np.abs(x) < 1,), domain_text="-1 < x < 1", aliases=("asin",),
       interval=within(-1 + MARGIN, 1 - MARGIN, increasing(math.asin))),
    ew("arccos", "inverse of cos on [0, pi]", np.arccos, lambda sp, x: sp.acos(x),
       (lambda ans, x: -1.0 / np.sqrt(1.0 - x * x),), lambda t, x: t.acos(x),
       domain=(lambda x: np.abs(x) < 1,), domain_text="-1 < x < 1", aliases=("acos",),
       interval=within(-1 + MARGIN, 1 - MARGIN, decreasing(math.acos))),
    ew("arctan", "inverse of tan", np.arctan, lambda sp, x: sp.atan(x),
       (lambda ans, x: 1.0 / (1.0 + x * x),), lambda t, x: t.atan(x), aliases=("atan",),
       interval=increasing(math.atan)),
    ew("sinh", "(e**x - e**-x) / 2", np.sinh, lambda sp, x: sp.sinh(x),
       (lambda ans, x: np.cosh(x),), lambda t, x: t.sinh(x),
       interval=within(-EXP_LIMIT, EXP_LIMIT, increasing(math.sinh))),
    ew("cosh", "(e**x + e**-x) / 2", np.cosh, lambda sp, x: sp.cosh(x),
       (lambda ans, x: np.sinh(x),), lambda t, x: t.cosh(x),
       interval=within(-EXP_LIMIT, EXP_LIMIT, even(math.cosh))),
    ew("tanh", "sinh x / cosh x", np.tanh, lambda sp, x: sp.tanh(x),
       (lambda ans, x: 1.0 - ans * ans,), lambda t, x: t.tanh(x),
       interval=increasing(math.tanh)),
]

ACTIVATIONS = [
    ew("sigmoid", "1 / (1 + e**-x)", _sigmoid, lambda sp, x: 1 / (1 + sp.exp(-x)),
       (lambda ans, x: ans * (1.0 - ans),), lambda t, x: t.sigmoid(x),
       interval=increasing(_scalar_sigmoid)),
    ew("softplus", "ln(1 + e**x)", lambda x: np.logaddexp(0.0, x),
       lambda sp, x: sp.log(1 + sp.exp(x)),
       (lambda ans, x: _sigmoid(x),),
       # logaddexp, not F.softplus: the latter returns x itself above x = 20.
       lambda t, x: t.logaddexp(x, t.zeros_like(x)),
       interval=increasing(_scalar_softplus)),
    ew("relu", "max(x, 0)", lambda x: np.maximum(x, 0.0),
       lambda sp, x: sp.Piecewise((x, x > 0), (0, True)),
       (lambda ans, x: (x > 0).astype(float),), lambda t, x: t.relu(x),
       kink=_kink_at_zero, kink_text="x = 0",
       interval=increasing(lambda x: max(x, 0.0))),
    ew("leaky_relu", "x if x > 0 else alpha * x",
       lambda x, alpha: np.where(x > 0, x, alpha * x),
       lambda sp, x, alpha: sp.Piecewise((x, x > 0), (alpha * x, True)),
       (lambda ans, x, alpha: np.where(x > 0, 1.0, alpha),),
       lambda t, x, alpha: t.nn.functional.leaky_relu(x, alpha),
       kink=_kink_at_zero, kink_text="x = 0", params={"alpha": 0.01},
       interval=_increasing_with(lambda x, alpha: x if x > 0 else alpha * x)),
    ew("elu", "x if x > 0 else alpha * (e**x - 1)",
       lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))),
       lambda sp, x, alpha: sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True)),
       (lambda ans, x, alpha: np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0))),),
       lambda t, x, alpha: t.nn.functional.elu(x, alpha),
       kink=_kink_at_zero, kink_text="x = 0", params={"alpha": 1.0},
       interval=_increasing_with(lambda x, alpha: x if x > 0 else alpha * math.expm1(x))),
    ew("abs", "|x|", np.abs, lambda sp, x: sp.Abs(x),
       (lambda ans, x: np.sign(x),), lambda t, x: t.abs(x),
       kink=_kink_at_zero, kink_text="x = 0", interval=even(abs)),
    ew("maximum", "x if x >= y else y", np.maximum,
       lambda sp, x, y: sp.Piecewise((x, x > y), ((x + y) / 2, sp.Eq(x, y)), (y, True)),
       (lambda ans, x, y: _tie_split(x, y), lambda ans, x, y: _tie_split(y, x)),
       lambda t, x, y: t.maximum(x, y),
       kink=np.subtract, kink_text="x = y", aliases=("max",), interval=extreme(max)),
    ew("minimum", "x if x <= y else y", np.minimum,
       lambda sp, x, y: sp.Piecewise((x, x < y), ((x + y) / 2, sp.Eq(x, y)), (y, True)),
       (lambda ans, x, y: _tie_split(y, x), lambda ans, x, y: _tie_split(x, y)),
       lambda t, x, y: t.minimum(x, y),
       kink=np.subtract, kink_text="x = y", aliases=("min",), interval=extreme(min)),
]

#: Every elementwise op, in the order the registry lists them.
ELEMENTWISE = ARITHMETIC + EXPONENTIAL + TRIGONOMETRIC + ACTIVATIONS

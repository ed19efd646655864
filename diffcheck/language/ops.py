"""The op registry: one record per op, holding every lowering of it.

Each :class:`Op` says, side by side, how the op is computed in NumPy, how it reads
in SymPy, its vector-Jacobian rule for diffcheck's own engine, its torch form, the
domain where its derivative exists and its non-differentiable points.  Only the
engine uses the hand-written rule: SymPy, finite differences and torch each find
the derivative their own way, so every rule here is checked by methods it did not
come from.

Conventions, so each record stays one line per lowering:

* ``numpy(*args, **params)`` takes and returns NumPy arrays;
* ``sympy(sp, *args, **params)`` takes object arrays of SymPy expressions
  (elementwise ops give a scalar form and :func:`elementwise` maps it);
* ``vjp[i](g, ans, *args, **params)`` is the gradient for argument ``i`` given the
  output gradient ``g``, already summed back to the argument's shape;
* ``torch(t, *args, **params)`` receives the ``torch`` module first, so torch is
  imported only by the backend that needs it;
* ``batched(*args, **params)`` is the NumPy forward over many points at once:
  every argument carries a leading batch axis (of length 1 when it is the same at
  every point).  Elementwise ops need none: :func:`align_batch` lines their
  arguments up and the plain forward broadcasts.  Ops that name axes (reductions,
  products, transposes) give one, with every axis shifted past the batch axis;
* ``domain[i](*args, **params)`` is a mask of where the derivative for argument
  ``i`` exists (``None``: everywhere); ``kink(*args, **params)`` a signed
  quantity that is zero exactly where the op is continuous but not
  differentiable, and whose sign tells which smooth branch a point is on (``x``
  for relu, ``x - y`` for max).  Finite differences use the sign to keep their
  samples on one branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    formula: str
    numpy: Callable
    sympy: Callable
    vjp: tuple
    torch: Callable
    domain: tuple = ()
    domain_text: str = ""
    kink: Optional[Callable] = None
    kink_text: str = ""
    params: dict = field(default_factory=dict)
    aliases: tuple = ()
    elementwise: bool = True
    differentiable: bool = True  # False only for detach, whose gradient is zero by definition
    batched: Optional[Callable] = None  # required when elementwise is False

    def __reduce__(self):
        # An op holds lambdas, which do not pickle; another process has the same
        # registry, so an op travels by name (a case sent to a worker, a Dask task).
        return (op_named, (self.name,))

    def domain_mask(self, position: int, args, params) -> Optional[np.ndarray]:
        """Where the derivative for argument ``position`` exists, or None for everywhere."""
        if position < len(self.domain) and self.domain[position] is not None:
            return np.asarray(self.domain[position](*args, **params), dtype=bool)
        return None

    def kink_mask(self, args, params) -> Optional[np.ndarray]:
        """Where the arguments sit exactly on a non-differentiable point."""
        if self.kink is None:
            return None
        return np.asarray(self.kink(*args, **params)) == 0

    def branch(self, args, params) -> Optional[np.ndarray]:
        """Which side of its kinks each entry is on (True: the positive side)."""
        if self.kink is None:
            return None
        return np.asarray(self.kink(*args, **params)) > 0


def align_batch(args) -> list:
    """Batched arguments of an elementwise op, reshaped so NumPy broadcasts them as
    it would the unbatched ones: each one's own axes are right-aligned after the
    batch axis (a batched scalar of shape ``(B,)`` meeting a batched vector of
    shape ``(B, n)`` becomes ``(B, 1)``)."""
    rank = max(np.ndim(a) for a in args) - 1
    return [a if np.ndim(a) - 1 == rank else
            np.reshape(a, (np.shape(a)[0],) + (1,) * (rank - np.ndim(a) + 1) + np.shape(a)[1:])
            for a in args]


def apply_batched(op: "Op", args, params):
    """``op`` over a batch of points (see the module notes on ``batched``)."""
    if op.batched is not None:
        return op.batched(*args, **params)
    return op.numpy(*align_batch(args), **params)


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added to an argument of ``shape``."""
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, length in enumerate(shape):
        if length == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def as_object_array(value) -> np.ndarray:
    out = np.empty(np.shape(value), dtype=object)
    out[...] = value
    return out


def elementwise_rule(position: int, partial: Callable) -> Callable:
    """The vector-Jacobian rule for argument ``position`` of an elementwise op whose
    partial derivative is ``partial(ans, *args, **params)``: the output gradient
    times the partial, summed back over the axes broadcasting added."""
    def vjp(g, ans, *args, **params):
        return unbroadcast(g * partial(ans, *args, **params), np.shape(args[position]))
    return vjp


def elementwise(name: str, formula: str, numpy: Callable, sympy: Callable,
                partials: tuple, torch: Callable, **extra) -> Op:
    """An op applied entry by entry, with NumPy broadcasting between its arguments.

    ``partials[i](ans, *args, **params)`` is the elementwise partial derivative for
    argument ``i``; the rule multiplies it by the output gradient and undoes the
    broadcast.
    """

    vjps = tuple(elementwise_rule(i, p) for i, p in enumerate(partials))

    def sympy_map(sp, *args, **params):
        mapped = np.frompyfunc(lambda *xs: sympy(sp, *xs, **params), len(args), 1)(*args)
        return as_object_array(mapped)

    return Op(name=name, arity=len(partials), formula=formula, numpy=numpy, sympy=sympy_map,
              vjp=vjps, torch=torch, **extra)


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


def _matmul_grads(g, a, b):
    a2 = a if a.ndim == 2 else a[None, :]
    b2 = b if b.ndim == 2 else b[:, None]
    g2 = np.reshape(g, (a2.shape[0], b2.shape[1]))
    return (g2 @ b2.T).reshape(a.shape), (a2.T @ g2).reshape(b.shape)


def _check_matmul(a, b):
    if a.ndim not in (1, 2) or b.ndim not in (1, 2):
        raise ValueError(f"matmul needs vectors or matrices, got shapes {a.shape} and {b.shape}")
    return np.matmul(a, b)


def _reduce_vjp(g, x, axis, scale):
    g = np.asarray(g) * scale
    if axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, x.shape).copy()


def _batch_axes(x, axis):
    # The batch axis is axis 0: every axis of the point's own value moves up one.
    if axis is None:
        return tuple(range(1, np.ndim(x)))
    return axis + 1 if axis >= 0 else axis


_BATCHED_MATMUL = {(1, 1): "...i,...i->...", (2, 1): "...ij,...j->...i",
                   (1, 2): "...i,...ij->...j", (2, 2): "...ij,...jk->...ik"}


def _batched_matmul(a, b):
    ranks = (np.ndim(a) - 1, np.ndim(b) - 1)
    if ranks not in _BATCHED_MATMUL:
        raise ValueError(f"matmul needs vectors or matrices, got {ranks[0]} and {ranks[1]} axes")
    return np.einsum(_BATCHED_MATMUL[ranks], a, b)


def _batched_transpose(x):
    return np.swapaxes(x, -1, -2) if np.ndim(x) == 3 else x


def _count(x, axis):
    return x.size if axis is None else x.shape[axis]


def _sympy_sum(sp, x, axis):
    # One n-ary Add per result entry: NumPy's sum of an object array adds one
    # term at a time, and SymPy rebuilds the growing sum at each (quadratic).
    x = as_object_array(x)
    if axis is None:
        return as_object_array(sp.Add(*x.ravel()))
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape[:-1], dtype=object)
    for index in np.ndindex(*out.shape):
        out[index] = sp.Add(*moved[index])
    return out


def _sympy_matmul(sp, a, b):
    a2 = a if a.ndim == 2 else a[None, :]
    b2 = b if b.ndim == 2 else b[:, None]
    out = np.empty((a2.shape[0], b2.shape[1]), dtype=object)
    for i, j in np.ndindex(*out.shape):
        out[i, j] = sp.Add(*[a2[i, k] * b2[k, j] for k in range(a2.shape[1])])
    return out.reshape(a.shape[:-1] + b.shape[1:])


def _torch_transpose(t, x):
    return t.transpose(x, 0, 1) if x.ndim == 2 else x


def _build_registry() -> dict[str, Op]:
    ew = elementwise
    ops = [
        # --- arithmetic -----------------------------------------------------------
        ew("add", "x + y", np.add, lambda sp, x, y: x + y,
           (lambda ans, x, y: 1.0, lambda ans, x, y: 1.0), lambda t, x, y: x + y),
        ew("sub", "x - y", np.subtract, lambda sp, x, y: x - y,
           (lambda ans, x, y: 1.0, lambda ans, x, y: -1.0), lambda t, x, y: x - y),
        ew("mul", "x * y", np.multiply, lambda sp, x, y: x * y,
           (lambda ans, x, y: y, lambda ans, x, y: x), lambda t, x, y: x * y),
        ew("div", "x / y", np.divide, lambda sp, x, y: x / y,
           (lambda ans, x, y: 1.0 / y, lambda ans, x, y: -ans / y), lambda t, x, y: x / y,
           domain=(lambda x, y: y != 0, lambda x, y: y != 0), domain_text="y != 0"),
        ew("pow", "x ** y", np.power, lambda sp, x, y: x ** y,
           (_pow_base_partial, lambda ans, x, y: np.log(x) * ans),
           lambda t, x, y: t.pow(x, y),
           domain=(_pow_base_domain, lambda x, y: x > 0),
           domain_text="x > 0, or y an integer (and y >= 1 or y = 0 when x = 0)"),
        ew("neg", "-x", np.negative, lambda sp, x: -x,
           (lambda ans, x: -1.0,), lambda t, x: -x),
        ew("square", "x ** 2", np.square, lambda sp, x: x ** 2,
           (lambda ans, x: 2.0 * x,), lambda t, x: t.square(x)),
        # --- exponentials and logarithms ----------------------------------------
        ew("exp", "e ** x", np.exp, lambda sp, x: sp.exp(x),
           (lambda ans, x: ans,), lambda t, x: t.exp(x)),
        ew("log", "ln x", np.log, lambda sp, x: sp.log(x),
           (lambda ans, x: 1.0 / x,), lambda t, x: t.log(x),
           domain=(lambda x: x > 0,), domain_text="x > 0", aliases=("ln",)),
        ew("sqrt", "x ** (1/2)", np.sqrt, lambda sp, x: sp.sqrt(x),
           (lambda ans, x: 0.5 / ans,), lambda t, x: t.sqrt(x),
           domain=(lambda x: x > 0,), domain_text="x > 0"),
        # --- trigonometric and hyperbolic -----------------------------------------
        ew("sin", "sin x", np.sin, lambda sp, x: sp.sin(x),
           (lambda ans, x: np.cos(x),), lambda t, x: t.sin(x)),
        ew("cos", "cos x", np.cos, lambda sp, x: sp.cos(x),
           (lambda ans, x: -np.sin(x),), lambda t, x: t.cos(x)),
        ew("tan", "sin x / cos x", np.tan, lambda sp, x: sp.tan(x),
           (lambda ans, x: 1.0 + ans * ans,), lambda t, x: t.tan(x),
           domain=(lambda x: np.cos(x) != 0,), domain_text="cos x != 0"),
        ew("arcsin", "inverse of sin on [-pi/2, pi/2]", np.arcsin, lambda sp, x: sp.asin(x),
           (lambda ans, x: 1.0 / np.sqrt(1.0 - x * x),), lambda t, x: t.asin(x),
           domain=(lambda x: np.abs(x) < 1,), domain_text="-1 < x < 1", aliases=("asin",)),
        ew("arccos", "inverse of cos on [0, pi]", np.arccos, lambda sp, x: sp.acos(x),
           (lambda ans, x: -1.0 / np.sqrt(1.0 - x * x),), lambda t, x: t.acos(x),
           domain=(lambda x: np.abs(x) < 1,), domain_text="-1 < x < 1", aliases=("acos",)),
        ew("arctan", "inverse of tan", np.arctan, lambda sp, x: sp.atan(x),
           (lambda ans, x: 1.0 / (1.0 + x * x),), lambda t, x: t.atan(x), aliases=("atan",)),
        ew("sinh", "(e**x - e**-x) / 2", np.sinh, lambda sp, x: sp.sinh(x),
           (lambda ans, x: np.cosh(x),), lambda t, x: t.sinh(x)),
        ew("cosh", "(e**x + e**-x) / 2", np.cosh, lambda sp, x: sp.cosh(x),
           (lambda ans, x: np.sinh(x),), lambda t, x: t.cosh(x)),
        ew("tanh", "sinh x / cosh x", np.tanh, lambda sp, x: sp.tanh(x),
           (lambda ans, x: 1.0 - ans * ans,), lambda t, x: t.tanh(x)),
        # --- activations -----------------------------------------------------------
        ew("sigmoid", "1 / (1 + e**-x)", _sigmoid, lambda sp, x: 1 / (1 + sp.exp(-x)),
           (lambda ans, x: ans * (1.0 - ans),), lambda t, x: t.sigmoid(x)),
        ew("softplus", "ln(1 + e**x)", lambda x: np.logaddexp(0.0, x),
           lambda sp, x: sp.log(1 + sp.exp(x)),
           (lambda ans, x: _sigmoid(x),),
           # logaddexp, not F.softplus: the latter returns x itself above x = 20.
           lambda t, x: t.logaddexp(x, t.zeros_like(x))),
        ew("relu", "max(x, 0)", lambda x: np.maximum(x, 0.0),
           lambda sp, x: sp.Piecewise((x, x > 0), (0, True)),
           (lambda ans, x: (x > 0).astype(float),), lambda t, x: t.relu(x),
           kink=_kink_at_zero, kink_text="x = 0"),
        ew("leaky_relu", "x if x > 0 else alpha * x",
           lambda x, alpha: np.where(x > 0, x, alpha * x),
           lambda sp, x, alpha: sp.Piecewise((x, x > 0), (alpha * x, True)),
           (lambda ans, x, alpha: np.where(x > 0, 1.0, alpha),),
           lambda t, x, alpha: t.nn.functional.leaky_relu(x, alpha),
           kink=_kink_at_zero, kink_text="x = 0", params={"alpha": 0.01}),
        ew("elu", "x if x > 0 else alpha * (e**x - 1)",
           lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))),
           lambda sp, x, alpha: sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True)),
           (lambda ans, x, alpha: np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0))),),
           lambda t, x, alpha: t.nn.functional.elu(x, alpha),
           kink=_kink_at_zero, kink_text="x = 0", params={"alpha": 1.0}),
        ew("abs", "|x|", np.abs, lambda sp, x: sp.Abs(x),
           (lambda ans, x: np.sign(x),), lambda t, x: t.abs(x),
           kink=_kink_at_zero, kink_text="x = 0"),
        ew("maximum", "x if x >= y else y", np.maximum,
           lambda sp, x, y: sp.Piecewise((x, x > y), ((x + y) / 2, sp.Eq(x, y)), (y, True)),
           (lambda ans, x, y: _tie_split(x, y), lambda ans, x, y: _tie_split(y, x)),
           lambda t, x, y: t.maximum(x, y),
           kink=np.subtract, kink_text="x = y", aliases=("max",)),
        ew("minimum", "x if x <= y else y", np.minimum,
           lambda sp, x, y: sp.Piecewise((x, x < y), ((x + y) / 2, sp.Eq(x, y)), (y, True)),
           (lambda ans, x, y: _tie_split(y, x), lambda ans, x, y: _tie_split(x, y)),
           lambda t, x, y: t.minimum(x, y),
           kink=np.subtract, kink_text="x = y", aliases=("min",)),
        # --- structure: reductions, products, transposes ---------------------------
        Op("sum", 1, "sum of the entries (along axis)",
           numpy=lambda x, axis: np.sum(x, axis=axis),
           sympy=lambda sp, x, axis: _sympy_sum(sp, x, axis),
           vjp=(lambda g, ans, x, axis: _reduce_vjp(g, x, axis, 1.0),),
           torch=lambda t, x, axis: t.sum(x) if axis is None else t.sum(x, dim=axis),
           batched=lambda x, axis: np.sum(x, axis=_batch_axes(x, axis)),
           params={"axis": None}, elementwise=False),
        Op("mean", 1, "mean of the entries (along axis)",
           numpy=lambda x, axis: np.mean(x, axis=axis),
           sympy=lambda sp, x, axis: _sympy_sum(sp, x, axis) * sp.Rational(1, _count(x, axis)),
           vjp=(lambda g, ans, x, axis: _reduce_vjp(g, x, axis, 1.0 / _count(x, axis)),),
           torch=lambda t, x, axis: t.mean(x) if axis is None else t.mean(x, dim=axis),
           batched=lambda x, axis: np.mean(x, axis=_batch_axes(x, axis)),
           params={"axis": None}, elementwise=False),
        Op("matmul", 2, "matrix product; for two vectors, their dot product",
           numpy=_check_matmul,
           sympy=_sympy_matmul,
           vjp=(lambda g, ans, a, b: _matmul_grads(g, a, b)[0],
                lambda g, ans, a, b: _matmul_grads(g, a, b)[1]),
           torch=lambda t, a, b: t.matmul(a, b), batched=_batched_matmul,
           aliases=("dot",), elementwise=False),
        Op("transpose", 1, "x with its two axes swapped",
           numpy=lambda x: np.transpose(x),
           sympy=lambda sp, x: as_object_array(np.transpose(x)),
           vjp=(lambda g, ans, x: np.transpose(g),),
           torch=_torch_transpose, batched=_batched_transpose, elementwise=False),
        Op("detach", 1, "x, with its gradient stopped",
           numpy=lambda x: np.array(x, copy=True),
           sympy=lambda sp, x: as_object_array(np.frompyfunc(stop_gradient(sp), 1, 1)(x)),
           vjp=(lambda g, ans, x: np.zeros(np.shape(x)),),
           torch=lambda t, x: x.detach(), batched=lambda x: np.array(x, copy=True),
           elementwise=False, differentiable=False),
    ]
    registry = {}
    for op in ops:
        assert op.elementwise or op.batched is not None, op.name
        for name in (op.name, *op.aliases):
            assert name not in registry, name
            registry[name] = op
    return registry


_STOP_GRADIENT = None


def stop_gradient(sp):
    """SymPy function that is the identity in value and has derivative zero."""
    global _STOP_GRADIENT
    if _STOP_GRADIENT is None:
        class StopGradient(sp.Function):
            nargs = 1

            def fdiff(self, argindex=1):
                return sp.S.Zero

        _STOP_GRADIENT = StopGradient
    return _STOP_GRADIENT


#: Every op by name and alias.
OPS: dict[str, Op] = _build_registry()


def op_named(name: str) -> Op:
    return OPS[name]

#: Each op once, in registry order: what tests parametrise over.
UNIQUE_OPS: list[Op] = list({id(op): op for op in OPS.values()}.values())

#: Names the language gives to constants; a declared variable of the same name wins.
CONSTANTS = {"pi": np.pi, "e": np.e}

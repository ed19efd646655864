"""The op record, and the helpers every record is written with.

One :class:`Op` holds everything diffcheck knows about one op, side by side: its
NumPy forward, its SymPy form, its vector-Jacobian rule for diffcheck's own
engine, its torch form, the domain where its derivative exists, its kinks, its
interval rule (where its result lies, for the property-based strategies), the
float dtypes its forward preserves, and a one-line formula.  Only the engine
uses the hand-written rule: SymPy, finite differences and torch each find the
derivative their own way, so every rule is checked by methods it did not come
from.

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
  samples on one branch;
* ``interval(*intervals, **params)`` takes one
  :class:`~diffcheck.language.bounds.Interval` per argument and returns the
  result's, or None where the op may not be applied to arguments bounded so
  (outside its domain with a margin, or a result too large); build it from the
  helpers in :mod:`diffcheck.language.bounds`.  An op without one is never drawn
  by the strategies;
* ``param_choices(*shapes)`` lists the parameter dicts the strategies may draw
  for arguments of these shapes (default: only ``params``, the defaults);
* ``dtypes`` names the float dtypes whose forward returns the same dtype
  (``float32``, ``float64``, ``longdouble``); an op that cannot keep one (a
  forward from ``scipy.special`` that computes in float64 only) leaves it out
  and says why in ``dtype_text``.  ``tests/test_op_record.py`` holds every
  record to its claim.

How to add an op: write one record in the family module it belongs to
(:mod:`~diffcheck.language.ops_elementwise` for ops applied entry by entry,
:mod:`~diffcheck.language.ops_structural` for reductions, products and
reshapes; a new family gets a new module listed in
:mod:`diffcheck.language.ops`).  An elementwise op is one :func:`elementwise`
call: the partial derivative of each argument is enough, broadcasting is undone
for it.  An op with several arguments gives one partial (or VJP) per argument;
an op along an axis takes ``axis`` (and any other static parameter) as a
keyword with its default in ``params`` and gives a ``batched`` forward; an op
whose forward comes from ``scipy.special`` or ``torch.special`` imports that
library inside the lambda (torch is passed in as ``t``).  The parser, the four
backends and the strategies read everything from the record, so nothing else
changes; ``tests/test_ops.py`` covers the new op on every method at once.  To
try an op without editing diffcheck (a test, a plug-in), build a registry with
:func:`diffcheck.language.ops.extended` and give it to the parser (``ops=``)
and the strategies (``expressions(ops=[record, ...])``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

#: The float dtypes a forward is expected to preserve.
FLOAT_DTYPES = ("float32", "float64", "longdouble")


@dataclass(frozen=True, eq=False)
class Op:
    """Everything about one op (see the module notes for each field's contract).

    Records compare and hash by identity: two records are the same op only if
    they are one object (a registry may hold a corrected copy of another's op)."""

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
    interval: Optional[Callable] = None
    param_choices: Optional[Callable] = None
    dtypes: tuple = FLOAT_DTYPES
    dtype_text: str = ""

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

    def bound(self, args, params):
        """The :class:`~diffcheck.language.bounds.Interval` of the result for
        arguments within the intervals ``args``, or None when the op may not be
        applied to them (or has no interval rule)."""
        if self.interval is None:
            return None
        return self.interval(*args, **params)

    def parameter_choices(self, shapes) -> list[dict]:
        """The parameter dicts the strategies may draw for arguments of ``shapes``."""
        if self.param_choices is None:
            return [dict(self.params)]
        return list(self.param_choices(*shapes)) or [dict(self.params)]


def registry(ops) -> dict[str, Op]:
    """Every op of ``ops`` by its name and each alias; a name given twice is a mistake."""
    found: dict[str, Op] = {}
    for op in ops:
        if not (op.elementwise or op.batched is not None):
            raise ValueError(f"op {op.name}: an op that is not elementwise needs a batched forward")
        if len(op.vjp) != op.arity:
            raise ValueError(f"op {op.name}: {op.arity} arguments but {len(op.vjp)} VJP rules")
        for name in (op.name, *op.aliases):
            if name in found:
                raise ValueError(f"op name {name!r} is given twice")
            found[name] = op
    return found


def unique(ops: dict[str, Op]) -> list[Op]:
    """Each op of a registry once, in registry order."""
    return list({id(op): op for op in ops.values()}.values())


def align_batch(args) -> list:
    """Batched arguments of an elementwise op, reshaped so NumPy broadcasts them as
    it would the unbatched ones: each one's own axes are right-aligned after the
    batch axis (a batched scalar of shape ``(B,)`` meeting a batched vector of
    shape ``(B, n)`` becomes ``(B, 1)``)."""
    rank = max(np.ndim(a) for a in args) - 1
    return [a if np.ndim(a) - 1 == rank else
            np.reshape(a, (np.shape(a)[0],) + (1,) * (rank - np.ndim(a) + 1) + np.shape(a)[1:])
            for a in args]


def apply_batched(op: Op, args, params):
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
    broadcast.  ``sympy(sp, *scalars, **params)`` is the scalar SymPy form, mapped
    over the entries.
    """

    vjps = tuple(elementwise_rule(i, p) for i, p in enumerate(partials))

    def sympy_map(sp, *args, **params):
        mapped = np.frompyfunc(lambda *xs: sympy(sp, *xs, **params), len(args), 1)(*args)
        return as_object_array(mapped)

    return Op(name=name, arity=len(partials), formula=formula, numpy=numpy, sympy=sympy_map,
              vjp=vjps, torch=torch, **extra)


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

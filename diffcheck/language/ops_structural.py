"""The ops that are not applied entry by entry: reductions, products,
transposes, and the gradient stop.

Each record gives its whole VJP (not a partial) and a ``batched`` forward with
every axis shifted past the batch axis.  Ops along an axis take ``axis`` as a
parameter (default in ``params``) and list the axes the strategies may draw in
``param_choices``.  See :mod:`diffcheck.language.op` for every field's contract.
"""

from __future__ import annotations

import numpy as np

from diffcheck.language.bounds import Interval, count, reduced_shape, same, span
from diffcheck.language.op import Op, as_object_array, stop_gradient


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


def _axis_choices(shape):
    # A matrix may be reduced along either axis; anything else as a whole.
    if len(shape) == 2:
        return [{"axis": None}, {"axis": 0}, {"axis": 1}]
    return [{"axis": None}]


def _sum_interval(a, axis=None):
    if axis is not None and not a.shape:
        return None
    n = count(a.shape, axis)
    return span((n * a.lo, n * a.hi), reduced_shape(a.shape, axis))


def _mean_interval(a, axis=None):
    if axis is not None and not a.shape:
        return None
    return Interval(a.lo, a.hi, reduced_shape(a.shape, axis))


def _matmul_grads(g, a, b):
    a2 = a if a.ndim == 2 else a[None, :]
    b2 = b if b.ndim == 2 else b[:, None]
    g2 = np.reshape(g, (a2.shape[0], b2.shape[1]))
    return (g2 @ b2.T).reshape(a.shape), (a2.T @ g2).reshape(b.shape)


def _check_matmul(a, b):
    if a.ndim not in (1, 2) or b.ndim not in (1, 2):
        raise ValueError(f"matmul needs vectors or matrices, got shapes {a.shape} and {b.shape}")
    return np.matmul(a, b)


_BATCHED_MATMUL = {(1, 1): "...i,...i->...", (2, 1): "...ij,...j->...i",
                   (1, 2): "...i,...ij->...j", (2, 2): "...ij,...jk->...ik"}


def _batched_matmul(a, b):
    ranks = (np.ndim(a) - 1, np.ndim(b) - 1)
    if ranks not in _BATCHED_MATMUL:
        raise ValueError(f"matmul needs vectors or matrices, got {ranks[0]} and {ranks[1]} axes")
    return np.einsum(_BATCHED_MATMUL[ranks], a, b)


def _sympy_matmul(sp, a, b):
    a2 = a if a.ndim == 2 else a[None, :]
    b2 = b if b.ndim == 2 else b[:, None]
    out = np.empty((a2.shape[0], b2.shape[1]), dtype=object)
    for i, j in np.ndindex(*out.shape):
        out[i, j] = sp.Add(*[a2[i, k] * b2[k, j] for k in range(a2.shape[1])])
    return out.reshape(a.shape[:-1] + b.shape[1:])


def _matmul_interval(a, b, **_):
    if len(a.shape) not in (1, 2) or len(b.shape) not in (1, 2):
        return None
    inner = a.shape[-1]
    if inner != b.shape[0]:
        return None
    products = [x * y for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
    return span((inner * min(products), inner * max(products)), a.shape[:-1] + b.shape[1:])


def _batched_transpose(x):
    return np.swapaxes(x, -1, -2) if np.ndim(x) == 3 else x


def _torch_transpose(t, x):
    return t.transpose(x, 0, 1) if x.ndim == 2 else x


def _transpose_interval(a, **_):
    return Interval(a.lo, a.hi, tuple(reversed(a.shape))) if len(a.shape) == 2 else None


STRUCTURAL = [
    Op("sum", 1, "sum of the entries (along axis)",
       numpy=lambda x, axis: np.sum(x, axis=axis),
       sympy=lambda sp, x, axis: _sympy_sum(sp, x, axis),
       vjp=(lambda g, ans, x, axis: _reduce_vjp(g, x, axis, 1.0),),
       torch=lambda t, x, axis: t.sum(x) if axis is None else t.sum(x, dim=axis),
       batched=lambda x, axis: np.sum(x, axis=_batch_axes(x, axis)),
       params={"axis": None}, elementwise=False,
       interval=_sum_interval, param_choices=_axis_choices),
    Op("mean", 1, "mean of the entries (along axis)",
       numpy=lambda x, axis: np.mean(x, axis=axis),
       sympy=lambda sp, x, axis: _sympy_sum(sp, x, axis) * sp.Rational(1, _count(x, axis)),
       vjp=(lambda g, ans, x, axis: _reduce_vjp(g, x, axis, 1.0 / _count(x, axis)),),
       torch=lambda t, x, axis: t.mean(x) if axis is None else t.mean(x, dim=axis),
       batched=lambda x, axis: np.mean(x, axis=_batch_axes(x, axis)),
       params={"axis": None}, elementwise=False,
       interval=_mean_interval, param_choices=_axis_choices),
    Op("matmul", 2, "matrix product; for two vectors, their dot product",
       numpy=_check_matmul,
       sympy=_sympy_matmul,
       vjp=(lambda g, ans, a, b: _matmul_grads(g, a, b)[0],
            lambda g, ans, a, b: _matmul_grads(g, a, b)[1]),
       torch=lambda t, a, b: t.matmul(a, b), batched=_batched_matmul,
       aliases=("dot",), elementwise=False, interval=_matmul_interval),
    Op("transpose", 1, "x with its two axes swapped",
       numpy=lambda x: np.transpose(x),
       sympy=lambda sp, x: as_object_array(np.transpose(x)),
       vjp=(lambda g, ans, x: np.transpose(g),),
       torch=_torch_transpose, batched=_batched_transpose, elementwise=False,
       interval=_transpose_interval),
    Op("detach", 1, "x, with its gradient stopped",
       numpy=lambda x: np.array(x, copy=True),
       sympy=lambda sp, x: as_object_array(np.frompyfunc(stop_gradient(sp), 1, 1)(x)),
       vjp=(lambda g, ans, x: np.zeros(np.shape(x)),),
       torch=lambda t, x: x.detach(), batched=lambda x: np.array(x, copy=True),
       elementwise=False, differentiable=False, interval=same),
]

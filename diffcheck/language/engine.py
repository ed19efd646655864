"""diffcheck's own reverse-mode automatic differentiation over NumPy arrays.

The forward pass is a :func:`~diffcheck.language.expr.fold` over the tree that
keeps every node's value; the reverse pass walks the same post-order backwards
once, applying each op's vector-Jacobian rule from its record
(:mod:`diffcheck.language.op`).  Both are iterative, so a chain of 100,000 ops
needs no recursion.

One reverse walk serves one point (:func:`value_and_grad`) and many
(:func:`values_and_grads`): the two differ only in how one op's rule is applied
(:class:`_OnePoint`, :class:`_Batch`).  The engine works in any NumPy float
dtype: the harness reruns it in ``longdouble`` to measure how much of a float64
result is rounding.
"""

from __future__ import annotations

import numpy as np

from diffcheck.language.expr import Apply, Expr, Var, apply_numpy, fold, perturb_result, postorder
from diffcheck.language.op import align_batch


class _OnePoint:
    """Values without a batch axis: an op's rule is applied as written."""

    batch = False

    def __init__(self, dtype, perturb=None):
        self.dtype = dtype
        self.perturb = perturb

    def constant(self, node):
        return np.asarray(node.value, dtype=self.dtype)

    def result(self, value):
        # As the op computed it: an op that does not keep the dtype shows here.
        return np.asarray(value)

    def contribution(self, node: Apply, position: int, g, ans, args):
        """The gradient ``node`` sends its argument ``position`` (moved by
        ``perturb`` before it is broadcast, when there is one)."""
        out = np.asarray(node.op.vjp[position](g, ans, *args, **node.params), dtype=ans.dtype)
        if self.perturb is not None:
            out = self.perturb(out)
        shape = np.shape(args[position])
        return out if out.shape == shape else np.broadcast_to(out, shape)


class _Batch(_OnePoint):
    """Values with a leading axis of ``count`` points (length one for constants).

    Elementwise ops run their rule on the whole batch, arguments aligned as
    :func:`~diffcheck.language.op.align_batch` aligns them, so the rules broadcast
    and undo broadcasts exactly as for one point.  The rules of structural ops
    (sums, products, transposes) are written for one point; they run once per
    point on its slice, so that every op keeps one rule."""

    batch = True

    def __init__(self, dtype, count: int):
        super().__init__(dtype)
        self.count = count

    def constant(self, node):
        return np.asarray(node.value, dtype=self.dtype)[None]

    def result(self, value):
        return np.asarray(value, dtype=self.dtype)

    def contribution(self, node: Apply, position: int, g, ans, args):
        if not node.op.elementwise:
            return self._per_point(node, position, g, ans, args)
        aligned = align_batch(args)
        out = np.asarray(node.op.vjp[position](g, ans, *aligned, **node.params), dtype=self.dtype)
        return np.broadcast_to(out, aligned[position].shape).reshape(args[position].shape)

    def _per_point(self, node: Apply, position: int, g, ans, args) -> np.ndarray:
        # A constant argument has a batch axis of length one, shared by every point.
        one = _OnePoint(self.dtype)
        out = np.empty_like(args[position])
        for i in range(self.count):
            own = [a[i] if len(a) == self.count else a[0] for a in args]
            out[i] = one.contribution(node, position, g[i], ans[i], own)
        return out


def _forward(expr: Expr, leaves: dict, wrt, mode):
    """Every node's value by id, and the ids of the nodes a gradient flows through
    (a variable in ``wrt``, or a differentiable op of one)."""
    needs: set[int] = set()

    def leaf(node):
        if isinstance(node, Var):
            if node.name in wrt:
                needs.add(id(node))
            return leaves[node.name]
        return mode.constant(node)

    def apply(node, args):
        value = mode.result(apply_numpy(node, args, mode.batch))
        if mode.perturb is not None:
            value = perturb_result(node, value, args, mode.perturb, mode.batch)
        if node.op.differentiable and any(id(a) in needs for a in node.args):
            needs.add(id(node))
        return value

    return fold(expr, leaf, apply, keep=True), needs


def _reverse(expr: Expr, forward: dict, needs: set, mode) -> dict:
    """d(output)/d(variable) for every variable in ``needs`` the output depends
    on, walking the tree once from the output down."""
    grads: dict[str, np.ndarray] = {}
    pending: dict[int, np.ndarray] = {}
    if id(expr) in needs:
        pending[id(expr)] = np.ones_like(forward[id(expr)])
    # Not a fold: gradients flow from each node to its children, so a node is
    # ready only after every node that uses it; the reversed post-order is such
    # an order.
    for node in reversed(postorder(expr)):
        g = pending.pop(id(node), None)
        if g is None:
            continue
        if isinstance(node, Var):
            grads[node.name] = g if node.name not in grads else grads[node.name] + g
            continue
        args = [forward[id(a)] for a in node.args]
        for position, arg in enumerate(node.args):
            if id(arg) not in needs:
                continue
            contribution = mode.contribution(node, position, g, forward[id(node)], args)
            key = id(arg)
            pending[key] = contribution if key not in pending else pending[key] + contribution
    return grads


def value_and_grad(expr: Expr, values: dict[str, np.ndarray], wrt: list[str],
                   dtype=np.float64, perturb=None):
    """The value of ``expr`` and its gradient with respect to each name in ``wrt``.

    Values are cast to ``dtype`` (constants too), so the whole computation runs in
    that precision.  A variable the output does not depend on gets a zero
    gradient.  The output must be a scalar (ValueError otherwise).
    ``perturb(array)``, when given, moves every op's result and every gradient
    contribution (a reduction's result with ``perturb(array, magnitude)``, the
    magnitude its rounding can reach: see
    :func:`~diffcheck.language.expr.perturb_result`): Monte Carlo arithmetic, the
    harness moving each by one rounding at random to see how far rounding
    anywhere can move the answer.
    """
    mode = _OnePoint(dtype, perturb)
    leaves = {name: np.asarray(value, dtype=dtype) for name, value in values.items()}
    with np.errstate(all="ignore"):   # overflow to inf in a narrow dtype is a result
        forward, needs = _forward(expr, leaves, wrt, mode)
        value = forward[id(expr)]
        if np.ndim(value) != 0:
            raise ValueError(f"value_and_grad needs a scalar output, got shape {np.shape(value)}")
        grads = _reverse(expr, forward, needs, mode)
    return value, {name: grads[name] if name in grads else np.zeros_like(leaves[name]) for name in wrt}


def values_and_grads(expr: Expr, stacked: dict[str, np.ndarray], wrt: list[str],
                     dtype=np.float64):
    """:func:`value_and_grad` at many points at once: every array in ``stacked``
    carries a leading axis of points, and so do the results.  One forward and one
    reverse walk of the tree serve all the points (see :class:`_Batch`)."""
    count = len(next(iter(stacked.values())))
    mode = _Batch(dtype, count)
    leaves = {name: np.asarray(value, dtype=dtype) for name, value in stacked.items()}
    with np.errstate(all="ignore"):
        forward, needs = _forward(expr, leaves, wrt, mode)
        value = forward[id(expr)]
        if value.shape != (count,):
            raise ValueError(f"values_and_grads needs a scalar output, got shape {value.shape[1:]}")
        grads = _reverse(expr, forward, needs, mode)
    return value, {name: grads[name] if name in grads else np.zeros_like(leaves[name]) for name in wrt}

"""diffcheck's own reverse-mode automatic differentiation over NumPy arrays.

A :class:`Tensor` records the op that made it and its parents; :func:`backward`
walks the graph once in reverse topological order, applying each op's
vector-Jacobian rule from :mod:`diffcheck.language.ops`.  The order is found with an explicit
stack, so a chain of 100,000 ops needs no recursion.  The engine works in any NumPy
float dtype: the harness reruns it in ``longdouble`` to measure how much of a
float64 result is rounding.
"""

from __future__ import annotations

import numpy as np

from diffcheck.language.expr import (
    Apply,
    Const,
    Expr,
    Var,
    apply_numpy,
    perturb_result,
    postorder,
)


class Tensor:
    """A value in the graph, with what is needed to send gradients to its parents."""

    __slots__ = ("value", "node", "parents", "requires_grad", "grad")

    def __init__(self, value, node: Apply | None = None, parents: tuple = (),
                 requires_grad: bool = False):
        self.value = value
        self.node = node  # the expression node (op and params) that produced it
        self.parents = parents
        self.requires_grad = requires_grad
        self.grad = None


def record(node: Apply, parents: list[Tensor], perturb=None) -> Tensor:
    """Apply ``node``'s op to ``parents`` and remember how to differentiate it."""
    value = apply_numpy(node, [p.value for p in parents])
    if perturb is not None:
        value = perturb_result(node, value, [p.value for p in parents], perturb)
    requires = node.op.differentiable and any(p.requires_grad for p in parents)
    return Tensor(value, node, tuple(parents), requires)


def topological_order(output: Tensor) -> list[Tensor]:
    """Tensors that need a gradient, each before everything it was computed from."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(output, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited or not tensor.requires_grad:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        stack.extend((p, False) for p in tensor.parents if id(p) not in visited)
    order.reverse()
    return order


def backward(output: Tensor, perturb=None) -> None:
    """Fill ``.grad`` of every leaf that requires it with d(output)/d(leaf).

    ``output`` must be a scalar.  Leaves that do not influence the output keep
    ``grad = None``.  ``perturb``, when given, is applied to every contribution
    (see :func:`value_and_grad`).
    """
    if np.ndim(output.value) != 0:
        raise ValueError(f"backward needs a scalar output, got shape {np.shape(output.value)}")
    pending: dict[int, np.ndarray] = {id(output): np.ones_like(output.value)}
    for tensor in topological_order(output):
        g = pending.pop(id(tensor), None)
        if g is None:
            continue
        if tensor.node is None:  # a leaf
            tensor.grad = g if tensor.grad is None else tensor.grad + g
            continue
        node = tensor.node
        args = [p.value for p in tensor.parents]
        for position, parent in enumerate(tensor.parents):
            if not parent.requires_grad:
                continue
            contribution = node.op.vjp[position](g, tensor.value, *args, **node.params)
            contribution = np.asarray(contribution, dtype=tensor.value.dtype)
            if perturb is not None:
                contribution = perturb(contribution)
            if contribution.shape != np.shape(parent.value):
                contribution = np.broadcast_to(contribution, np.shape(parent.value))
            key = id(parent)
            pending[key] = contribution if key not in pending else pending[key] + contribution


def value_and_grad(expr: Expr, values: dict[str, np.ndarray], wrt: list[str],
                   dtype=np.float64, perturb=None):
    """The value of ``expr`` and its gradient with respect to each name in ``wrt``.

    Values are cast to ``dtype`` (constants too), so the whole computation runs in
    that precision.  A variable the output does not depend on gets a zero gradient.
    ``perturb(array)``, when given, moves every op's result and every gradient
    contribution (a reduction's result with ``perturb(array, magnitude)``, the
    magnitude its rounding can reach: see :func:`record`): Monte Carlo arithmetic, the
    harness moving each by one rounding at random to see how far rounding
    anywhere can move the answer.
    """
    built: dict[int, Tensor] = {}
    with np.errstate(all="ignore"):   # overflow to inf in a narrow dtype is a result
        leaves: dict[str, Tensor] = {
            name: Tensor(np.asarray(value, dtype=dtype), requires_grad=name in wrt)
            for name, value in values.items()}
        for node in postorder(expr):
            if isinstance(node, Var):
                built[id(node)] = leaves[node.name]
            elif isinstance(node, Const):
                built[id(node)] = Tensor(np.asarray(node.value, dtype=dtype))
            else:
                built[id(node)] = record(node, [built[id(a)] for a in node.args], perturb)
        output = built[id(expr)]
        backward(output, perturb)
    grads = {name: (leaves[name].grad if leaves[name].grad is not None
                    else np.zeros_like(leaves[name].value)) for name in wrt}
    return output.value, grads


def values_and_grads(expr: Expr, stacked: dict[str, np.ndarray], wrt: list[str],
                     dtype=np.float64):
    """:func:`value_and_grad` at many points at once: every array in ``stacked``
    carries a leading axis of points, and so do the results.

    One walk of the graph serves all the points: elementwise ops run their forward
    and their vector-Jacobian rules on the whole batch (arguments aligned as
    :func:`~diffcheck.language.ops.align_batch` aligns them, so the rules broadcast and undo
    broadcasts exactly as for one point).  The rules of structural ops (sums,
    products, transposes) are written for one point; they run once per point on
    its slice, so that every op keeps one rule, the one :func:`backward` uses.
    """
    from diffcheck.language.ops import align_batch

    count = len(next(iter(stacked.values())))
    forward: dict[int, np.ndarray] = {}
    needs: set[int] = set()
    order = postorder(expr)
    with np.errstate(all="ignore"):
        for node in order:
            if isinstance(node, Var):
                forward[id(node)] = np.asarray(stacked[node.name], dtype=dtype)
                if node.name in wrt:
                    needs.add(id(node))
            elif isinstance(node, Const):
                forward[id(node)] = np.asarray(node.value, dtype=dtype)[None]
            else:
                forward[id(node)] = np.asarray(apply_numpy(node, [forward[id(a)] for a in node.args],
                                                           batch=True), dtype=dtype)
                if node.op.differentiable and any(id(a) in needs for a in node.args):
                    needs.add(id(node))
        value = forward[id(expr)]
        if value.shape != (count,):
            raise ValueError(f"values_and_grads needs a scalar output, got shape {value.shape[1:]}")
        grads = {name: np.zeros_like(np.asarray(stacked[name], dtype=dtype)) for name in wrt}
        pending: dict[int, np.ndarray] = {id(expr): np.ones_like(value)} if id(expr) in needs else {}
        for node in reversed(order):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            if isinstance(node, Var):
                grads[node.name] = grads[node.name] + g
                continue
            args = [forward[id(a)] for a in node.args]
            ans = forward[id(node)]
            for position, arg in enumerate(node.args):
                if id(arg) not in needs:
                    continue
                if node.op.elementwise:
                    aligned = align_batch(args)
                    rule = node.op.vjp[position]
                    contribution = np.broadcast_to(
                        np.asarray(rule(g, ans, *aligned, **node.params), dtype=dtype),
                        aligned[position].shape).reshape(args[position].shape)
                else:
                    contribution = _per_point(node, position, g, ans, args, count, dtype)
                key = id(arg)
                pending[key] = contribution if key not in pending else pending[key] + contribution
    return value, grads


def _per_point(node: Apply, position: int, g, ans, args, count: int, dtype) -> np.ndarray:
    """A structural op's rule for argument ``position``, point by point (a
    constant argument has a batch axis of length one, shared by every point)."""
    rule = node.op.vjp[position]
    out = np.empty_like(args[position])
    for i in range(count):
        own = [a[i] if len(a) == count else a[0] for a in args]
        out[i] = np.broadcast_to(np.asarray(rule(g[i], ans[i], *own, **node.params), dtype=dtype),
                                 own[position].shape)
    return out

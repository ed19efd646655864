"""The domain and kink screen: where a gradient does not exist as a finite number,
and where a point sits on an op's non-differentiable point.

One walk serves one point and a batch of points alike (:func:`screen_masks`);
:func:`domain_hazard` and :func:`kinks_reached` word its findings for one
point, :func:`regular_points` reduces them to one flag per point of a batch.
Only *active* nodes count: those whose value depends on a differentiated
variable through differentiable ops (a kink of ``relu(-1)``, or one under
``detach``, moves no gradient).

``problem`` is anything with ``expr`` (the tree) and ``wrt`` (the names
differentiated), such as :class:`~diffcheck.backends.base.Problem`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from diffcheck.language.expr import Apply, Var, evaluate, postorder
from diffcheck.language.ops import align_batch

#: Kinds of finding :func:`screen_masks` yields.
INPUT, DOMAIN, KINK, VALUE = "input", "domain", "kink", "value"


def active_nodes(problem) -> set[int]:
    """Ids of nodes whose value depends on a ``wrt`` variable through differentiable ops."""
    active: set[int] = set()
    for node in postorder(problem.expr):
        if isinstance(node, Var):
            if node.name in problem.wrt:
                active.add(id(node))
        elif isinstance(node, Apply) and node.op.differentiable:
            if any(id(a) in active for a in node.args):
                active.add(id(node))
    return active


def where(node: Apply) -> str:
    """An op as a message names it: its name and, when known, its column."""
    return f"{node.op.name}" + (f" at column {node.column}" if node.column else "")


def screen_masks(problem, point, values, batch: bool = False) -> Iterator[tuple[str, object, np.ndarray]]:
    """Every test of the screen as ``(kind, subject, mask)``, the mask true where
    the test passes: each input finite (subject: its name); each active op's
    arguments inside its derivative's domain (subject: ``(node, position)``);
    each active kinked op off its kink (subject: the node); each active op's
    value finite (subject: the node).  In postorder, so the first failure is
    the innermost.  ``values`` are :func:`~diffcheck.language.expr.evaluate`'s
    node values (``keep=True``, and ``batch=True`` with ``batch``: masks then
    carry a leading axis of points)."""
    for name, value in point.items():
        yield INPUT, name, np.isfinite(value)
    active = active_nodes(problem)
    for node in postorder(problem.expr):
        if not isinstance(node, Apply) or id(node) not in active:
            continue
        args = [values[id(a)] for a in node.args]
        if batch and node.op.elementwise:
            args = align_batch(args)
        for position, arg in enumerate(node.args):
            mask = node.op.domain_mask(position, args, node.params) if id(arg) in active else None
            if mask is not None:
                yield DOMAIN, (node, position), mask
        if node.op.kink is not None:
            yield KINK, node, ~np.asarray(node.op.kink_mask(args, node.params), dtype=bool)
        yield VALUE, node, np.isfinite(values[id(node)])


def domain_hazard(problem, point, values=None) -> str:
    """Why the gradient does not exist as a finite number here, or ''.

    ``values`` are the node values of :func:`~diffcheck.language.expr.evaluate` with
    ``keep=True``, when the caller has them already."""
    for name, value in point.items():
        if not np.all(np.isfinite(value)):
            return f"the value of {name} is not finite"
    if values is None:
        values = evaluate(problem.expr, point, keep=True)
    for kind, subject, mask in screen_masks(problem, point, values):
        if kind == KINK or np.all(mask):
            continue
        if kind == DOMAIN:
            node, position = subject
            return (f"{where(node)}: argument {position + 1} is outside the domain of the "
                    f"derivative ({node.op.domain_text})")
        return f"{where(subject)}: the value is not finite"
    return ""


def kinks_reached(problem, point, values=None) -> list[str]:
    """The non-differentiable points of active ops that this point sits exactly on."""
    if values is None:
        values = evaluate(problem.expr, point, keep=True)
    return [f"{where(node)} is at its kink ({node.op.kink_text})"
            for kind, node, mask in screen_masks(problem, point, values)
            if kind == KINK and not np.all(mask)]


def regular_points(problem, stacked, values, count: int) -> np.ndarray:
    """For a batch of ``count`` points: where every test of the screen passes (no
    input or active value non-finite, no active op outside its domain or on its
    kink)."""
    ok = np.ones(count, dtype=bool)
    for _, _, mask in screen_masks(problem, stacked, values, batch=True):
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), (count,) + np.shape(mask)[1:])
        ok &= mask.reshape(count, -1).all(axis=1)
    return ok

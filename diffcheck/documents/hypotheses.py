"""What a wrong claim would be under each mistake a diagnosis tests.

:mod:`diffcheck.checking.diagnosis` compares numbers; this module computes the
numbers that need the case: the length of the whole gradient a claimed
component belongs to, the claim recomputed with a weight and an input
exchanged, with data the document gives elsewhere, and, for a formula, each of
these at every sample point the formula was checked at.

Which variables are weights and which are inputs is read from the case: the
variables it differentiates with respect to (``wrt``) are the weights
(parameters), the others the inputs (data).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from diffcheck.checking.diagnosis import Context, Variant
from diffcheck.language.engine import value_and_grad
from diffcheck.language.expr import evaluate

Point = dict[str, np.ndarray]
Compute = Callable[[Point], np.ndarray]


def changed_by(case, alternative_point: Point) -> Point:
    """The variables an alternative changes (claims may override others with ``at``)."""
    return {n: v for n, v in alternative_point.items() if not np.array_equal(v, case.point[n])}


def gradient_of(tree, wrt: str) -> Compute:
    return lambda point: np.asarray(value_and_grad(tree, point, [wrt])[1][wrt], float)


def value_of(tree) -> Compute:
    return lambda point: np.asarray(evaluate(tree, point), float)


def gradient_norm(case, tree, point: Point, wrt: str) -> float | None:
    """The length of the whole gradient (every variable the case differentiates)
    that ``d/d wrt`` is part of; ``None`` when ``wrt`` is the whole gradient."""
    if wrt not in case.wrt or len(case.wrt) < 2:
        return None
    with np.errstate(all="ignore"):
        grads = value_and_grad(tree, point, case.wrt)[1]
    norm = float(np.sqrt(sum(np.sum(np.square(np.asarray(g, float))) for g in grads.values())))
    return norm if np.isfinite(norm) else None


def swap_pairs(case, point: Point) -> list[tuple[str, str]]:
    """(weight, input) pairs of the same shape and different values: the pairs a
    claim can have exchanged."""
    weights = [n for n in case.wrt if n in point]
    inputs = [n for n in point if n not in case.wrt]
    return [(w, x) for w in weights for x in inputs
            if np.shape(point[w]) == np.shape(point[x]) and not np.array_equal(point[w], point[x])]


def _swapped(point: Point, a: str, b: str) -> Point:
    return {**point, a: point[b], b: point[a]}


def _safely(compute: Compute, points: list[Point]) -> Callable[[], np.ndarray | None]:
    """The recomputation at each point (one point: its value; several: stacked),
    or ``None`` when it cannot be computed there."""
    def value():
        try:
            with np.errstate(all="ignore"):
                rows = [compute(p) for p in points]
        except (ValueError, ZeroDivisionError, FloatingPointError):
            return None
        return rows[0] if len(rows) == 1 else np.array(rows)
    return value


def variants(case, points: list[Point], compute: Compute) -> list[Variant]:
    """The claim recomputed under each alternative the case gives, then with each
    weight and input exchanged, at ``points`` (one point for a value or gradient
    claim, every sample point for a formula)."""
    found = []
    for alt in case.alternatives:
        changes = changed_by(case, alt.point)
        found.append(Variant("data_entry", f"the claim follows from other data the document gives "
                             f"elsewhere: {alt.label}", f"recomputed with {alt.changes}",
                             _safely(compute, [{**p, **changes} for p in points])))
    for weight, data in swap_pairs(case, points[0]):
        found.append(Variant(
            "roles_swapped", f"the claim is what the expression gives with the weight {weight} and the "
            f"input {data} exchanged: their roles are swapped", f"recomputed with {weight} = "
            f"{_short(points[0][data])} and {data} = {_short(points[0][weight])}",
            _safely(compute, [_swapped(p, weight, data) for p in points])))
    return found


def claim_context(case, point: Point, compute: Compute, tree=None, wrt: str | None = None) -> Context:
    """The diagnosis context of a value (``wrt`` None) or gradient claim at ``point``."""
    norm = (lambda: gradient_norm(case, tree, point, wrt)) if wrt is not None else None
    return Context(batch_size=case.batch_size, gradient_norm=norm, variants=variants(case, [point], compute))


def formula_context(case, target, points: list[Point], true_rows: np.ndarray) -> Context:
    """The diagnosis context of a formula checked at ``points``: every hypothesis is
    recomputed at each of them, so it must hold everywhere, not by coincidence."""
    wrt = getattr(target, "wrt", None)
    compute = gradient_of(target.tree, wrt) if wrt is not None else value_of(target.tree)
    norm = None
    if wrt is not None:
        norms = [gradient_norm(case, target.tree, p, wrt) for p in points]
        if all(n is not None for n in norms) and norms:
            norm = np.reshape(norms, (len(points),) + (1,) * (np.ndim(true_rows) - 1))
        elif np.ndim(true_rows) > 1:   # a vector derivative: each sample point's own length
            axes = tuple(range(1, np.ndim(true_rows)))
            norm = np.sqrt(np.sum(np.square(true_rows), axis=axes, keepdims=True))
        else:   # one scalar derivative: its unit vector is its sign, which explains nothing
            norm = 1.0
    return Context(batch_size=case.batch_size, gradient_norm=norm, variants=variants(case, points, compute))


def _short(x) -> str:
    x = np.asarray(x, dtype=float)
    return f"{float(x):.6g}" if x.ndim == 0 else np.array2string(x, precision=6, separator=", ", threshold=8)

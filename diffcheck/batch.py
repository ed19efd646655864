"""Checking one expression at many points at once.

Property-based runs and audits check thousands of (expression, point) pairs, so
the cost per pair must be small.  Here the expression is parsed and compiled
once; the methods that can (numeric, symbolic, torch) answer for all points in
one batch; and one vectorised screen settles, for all points together, the
common case: no point on a kink or a domain edge, every method agreeing with the
reference within tolerance.  Only the points the screen does not clear go through
:func:`~diffcheck.harness.judge` one by one, which measures rounding and
computes the high-precision reference only where they decide the outcome.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from .backends import BACKENDS, ERROR, REFERENCE, Gradient, Problem
from .errors import PointError
from .expr import Apply, Expr, evaluate, postorder
from .harness import (AGREE, CheckResult, _tolerance, active_nodes, judge, make_problem,
                      normalise_point)
from .ops import align_batch


def check_points(expr: str | Expr, points: Iterable[Mapping], wrt: Iterable[str] | None = None, *,
                 backends: Iterable[str] | None = None) -> list[CheckResult]:
    """Cross-check the gradient of ``expr`` at many points: one result per point.

    Verdicts are those :func:`~diffcheck.harness.check_expr` gives.  The symbolic
    reference is first evaluated in float64; its high-precision value is computed
    only at points where the float64 value does not agree with the others, so it
    settles every disagreement it is asked about.  Every point must give the same
    variables the same shapes.
    """
    normal = [normalise_point(p, where=f"point {i}") for i, p in enumerate(points, 1)]
    if not normal:
        return []
    problem = make_problem(expr, normal[0], wrt)
    shapes = {name: value.shape for name, value in normal[0].items()}
    for i, point in enumerate(normal[1:], 2):
        if {name: value.shape for name, value in point.items()} != shapes:
            raise PointError(f"point {i}: its variables or their shapes differ from point 1's")
    names = list(backends or BACKENDS)
    answers = {name: run_backend_many(BACKENDS[name], problem, normal) for name in names}
    stacked = {name: np.stack([p[name] for p in normal]) for name in shapes}
    clear, values, tolerances = screen(problem, stacked, answers)
    results = []
    for i, point in enumerate(normal):
        at_point = {name: answers[name][i] for name in names}
        if clear[i]:
            results.append(CheckResult(
                problem.text, point, problem.wrt, AGREE, value=float(values[i]), results=at_point,
                reference=REFERENCE, tolerances={b: {v: t[v][i] for v in problem.wrt}
                                                 for b, t in tolerances.items()}))
        else:
            results.append(judge(problem, point, at_point, lazy=True))
    return results


def run_backend_many(backend, problem: Problem, points: list) -> list[Gradient]:
    """One backend's answers at many points, in one batch where it can."""
    from .harness import run_backend
    if not hasattr(backend, "gradients"):
        return [run_backend(backend, problem, point) for point in points]
    try:
        return backend.gradients(problem, points)
    except MemoryError:
        raise   # the case's outcome (resource_limit), not the method's
    except Exception as err:  # noqa: BLE001 - any failure of a method is reported, not raised
        return [Gradient(backend.name, status=ERROR, reason=f"{type(err).__name__}: {err}")] * len(points)


def screen(problem: Problem, stacked: dict, answers: dict[str, list[Gradient]]):
    """Which points are plainly fine, for all points at once.

    A point is cleared when its inputs and every active intermediate result are
    finite and inside their op's derivative domain, no active kinked op sits on
    its kink, every method answered, the symbolic reference among them, and each
    agrees with it within the tolerance without any allowance for rounding (the
    allowance only widens tolerances).  Returns the cleared mask, the function's
    values and, per method, the tolerances used (arrays over points)."""
    count = len(next(iter(stacked.values())))
    computed = evaluate(problem.expr, stacked, keep=True, batch=True)
    value = np.asarray(computed[id(problem.expr)], dtype=np.float64).reshape(count)
    clear = _regular(problem, stacked, computed, count)
    if REFERENCE not in answers:
        return np.zeros(count, bool), value, {}
    for results in answers.values():
        clear &= np.array([r.ok for r in results])
    if not clear.any():
        return clear, value, {}
    reference = _stack(answers[REFERENCE], problem, clear)
    tolerances = {}
    for name, results in answers.items():
        if name == REFERENCE:
            continue
        candidate = _stack(results, problem, clear)
        tolerances[name] = {}
        for var in [None, *problem.wrt]:
            tol = _tolerance(reference, candidate, var, 0.0)
            ref = reference.value if var is None else reference.gradients[var]
            got = candidate.value if var is None else candidate.gradients[var]
            with np.errstate(all="ignore"):
                within = np.abs(got - ref) <= tol
            clear &= within.reshape(count, -1).all(axis=1)
            if var is not None:
                tolerances[name][var] = np.broadcast_to(tol, np.shape(ref))
    return clear, value, tolerances


def _stack(results: list[Gradient], problem: Problem, usable: np.ndarray) -> Gradient:
    """One method's answers at all points as one Gradient of arrays over points
    (zeros at points not ``usable``, which the screen does not clear anyway)."""
    def gather(get, shape):
        return np.stack([np.broadcast_to(get(r), shape) if ok else np.zeros(shape)
                         for r, ok in zip(results, usable)])
    return Gradient(results[0].backend,
                    value=gather(lambda r: r.value, ()),
                    gradients={v: gather(lambda r: r.gradients[v], problem.shapes[v]) for v in problem.wrt},
                    errors={v: gather(lambda r: r.errors.get(v, 0.0), problem.shapes[v])
                            for v in problem.wrt})


def _regular(problem: Problem, stacked, computed, count) -> np.ndarray:
    """Points where no active op is outside its domain, non-finite or on its kink."""
    def per_point(mask):
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), (count,) + np.shape(mask)[1:])
        return mask.reshape(count, -1).all(axis=1)

    ok = np.ones(count, dtype=bool)
    for value in stacked.values():
        ok &= per_point(np.isfinite(value))
    active = active_nodes(problem)
    for node in postorder(problem.expr):
        if not isinstance(node, Apply) or id(node) not in active:
            continue
        args = [computed[id(a)] for a in node.args]
        aligned = align_batch(args) if node.op.elementwise else args
        for position, arg in enumerate(node.args):
            if id(arg) in active:
                mask = node.op.domain_mask(position, aligned, node.params)
                if mask is not None:
                    ok &= per_point(mask)
        if node.op.kink is not None:
            ok &= per_point(~node.op.kink_mask(aligned, node.params))
        ok &= per_point(np.isfinite(computed[id(node)]))
    return ok

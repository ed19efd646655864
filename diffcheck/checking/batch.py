"""Checking one expression at many points at once.

Property-based runs and audits check thousands of (expression, point) pairs, so
the cost per pair must be small.  Here the expression is parsed and compiled
once; the methods that can (numeric, symbolic, torch) answer for all points in
one batch; and one vectorised screen settles, for all points together, the
common case: no point on a kink or a domain edge, every method agreeing with the
reference within tolerance, rounding allowed for as torch measures it in float32
at all points in one batch.  Only the points the screen does not clear go through
:func:`~diffcheck.checking.harness.judge` one by one, which measures rounding and
computes the high-precision reference only where they decide the outcome.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from diffcheck.backends import BACKENDS, ERROR, REFERENCE, Gradient, Problem, run_backend
from diffcheck.checking.harness import (
    _EPS_RATIO,
    AGREE,
    CheckResult,
    _tolerance,
    active_nodes,
    judge,
    make_problem,
    normalise_point,
)
from diffcheck.errors import PointError
from diffcheck.language.expr import Apply, Expr, evaluate, postorder
from diffcheck.language.ops import align_batch


def check_points(expr: str | Expr, points: Iterable[Mapping], wrt: Iterable[str] | None = None, *,
                 backends: Iterable[str] | None = None) -> list[CheckResult]:
    """Cross-check the gradient of ``expr`` at many points: one result per point.

    Verdicts are those :func:`~diffcheck.checking.harness.check_expr` gives.  The symbolic
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
    agrees with it within the tolerance, with the rounding allowance of
    :func:`float32_rounding`.  Returns the cleared mask, the function's values and,
    per method, the tolerances used (arrays over points)."""
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
    value_rounding, grad_rounding = float32_rounding(problem, stacked, answers)
    tolerances = {}
    for name, results in answers.items():
        if name == REFERENCE:
            continue
        candidate = _stack(results, problem, clear)
        tolerances[name] = {}
        for var in [None, *problem.wrt]:
            tol = _tolerance(reference, candidate, var,
                             value_rounding if var is None else grad_rounding[var])
            ref = reference.value if var is None else reference.gradients[var]
            got = candidate.value if var is None else candidate.gradients[var]
            with np.errstate(all="ignore"):
                within = np.abs(got - ref) <= tol
            clear &= within.reshape(count, -1).all(axis=1)
            if var is not None:
                tolerances[name][var] = np.broadcast_to(tol, np.shape(ref))
    return clear, value, tolerances


def float32_rounding(problem: Problem, stacked: dict, answers: dict[str, list[Gradient]]):
    """How far float64 rounding can move the value and gradient, at all points at once.

    The float32 half of :func:`~diffcheck.checking.harness.rounding_scale`: the expression
    computed by torch in float32 against torch's own float64 answers, the
    difference scaled down by the ratio of the two epsilons.  It samples how
    sensitive the result is to rounding (the cancellation in a sum of many terms
    of both signs) with rounding 2**29 times larger than float64's.  Where torch
    did not answer, or float32 overflows, the allowance is zero and a point that
    needs one goes on to :func:`~diffcheck.checking.harness.judge`, which measures it
    with the engine in extended precision too.
    """
    count = len(next(iter(stacked.values())))
    none = (np.zeros(count), {v: np.zeros((count,) + problem.shapes[v]) for v in problem.wrt})
    from diffcheck.backends.torch_backend import _torch, batched_gradients
    torch = _torch() if "torch" in answers and problem.wrt else None
    if torch is None:
        return none
    usable = np.array([r.ok for r in answers["torch"]])
    try:
        with np.errstate(all="ignore"):
            value32, grads32 = batched_gradients(torch, problem, stacked, torch.float32)
    except Exception:  # noqa: BLE001 - an op vmap cannot batch: no allowance here
        return none
    in_float64 = _stack(answers["torch"], problem, usable)

    def scale(low, high):
        with np.errstate(all="ignore"):
            error = np.abs(low - high) * _EPS_RATIO
        keep = np.isfinite(error) & usable.reshape((count,) + (1,) * (np.ndim(error) - 1))
        return np.where(keep, error, 0.0)

    return (scale(value32, in_float64.value),
            {v: scale(grads32[v], in_float64.gradients[v]) for v in problem.wrt})


def _stack(results: list[Gradient], problem: Problem, usable: np.ndarray) -> Gradient:
    """One method's answers at all points as one Gradient of arrays over points
    (zeros at points not ``usable``, which the screen does not clear anyway)."""
    def gather(get, shape):
        out = np.zeros((len(results),) + tuple(shape))
        for i in np.flatnonzero(usable):
            out[i] = get(results[i])
        return out

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

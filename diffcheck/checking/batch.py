"""Checking one expression at many points at once: the one route to a verdict.

Property-based runs and audits check thousands of (expression, point) pairs, so
the cost per pair must be small.  Here the expression is parsed and compiled
once; the methods that can (numeric, symbolic, torch) answer for all points in
one batch; and one vectorised screen settles, for all points together, the
common case: no point on a kink or a domain edge (the screen of
:mod:`diffcheck.language.screen`), every method agreeing with the reference
within tolerance *without any allowance for rounding*.  Every tolerance grows
with the rounding allowance, so such an agreement is the one
:func:`~diffcheck.checking.verdict.classify` would find.  Only the points the
screen does not clear go through :func:`~diffcheck.checking.verdict.judge` one
by one, which measures rounding (:func:`~diffcheck.checking.tolerances.rounding_scale`,
the one measure) and computes the high-precision reference only where they
decide the outcome.  :func:`~diffcheck.checking.harness.check_expr` is this of
one point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from diffcheck.backends import (
    BACKENDS,
    ERROR,
    REFERENCE,
    Gradient,
    Problem,
    run_backend,
)
from diffcheck.checking.problems import make_problem, normalise_point
from diffcheck.checking.tolerances import (
    DEFAULT_TOLERANCES,
    Tolerances,
    comparison_tolerance,
)
from diffcheck.checking.verdict import CheckResult, beyond_float64, judge, undiscriminated
from diffcheck.errors import PointError
from diffcheck.language.expr import Expr, evaluate
from diffcheck.language.screen import regular_points
from diffcheck.vocabulary import AGREE


def check_points(expr: str | Expr, points: Iterable[Mapping], wrt: Iterable[str] | None = None, *,
                 backends: Iterable[str] | None = None, problem: Problem | None = None,
                 tolerances: Tolerances = DEFAULT_TOLERANCES) -> list[CheckResult]:
    """Cross-check the gradient of ``expr`` at many points: one result per point.

    Every point must give the same variables the same shapes.  With several
    points, the symbolic reference is first evaluated in float64 for all of
    them; its high-precision value is computed only at points where the float64
    value does not agree with the others, so it settles every disagreement it
    is asked about.  One point has no batch to share: every method answers it
    with its own :meth:`gradient` (the reference in high precision).
    ``problem``, when given, is ``expr`` already made into a problem at these
    shapes; ``tolerances`` are the multipliers every comparison uses.
    Raises :class:`~diffcheck.errors.DiffcheckError` for malformed input.
    """
    points = list(points)
    normal = [normalise_point(p, where=f"point {i}" if len(points) > 1 else "point")
              for i, p in enumerate(points, 1)]
    if not normal:
        return []
    if problem is None:
        problem = make_problem(expr, normal[0], wrt)
    shapes = {name: value.shape for name, value in normal[0].items()}
    for i, point in enumerate(normal[1:], 2):
        if {name: value.shape for name, value in point.items()} != shapes:
            raise PointError(f"point {i}: its variables or their shapes differ from point 1's")
    names = list(backends or BACKENDS)
    answers = {name: run_backend_many(BACKENDS[name], problem, normal) for name in names}
    stacked = {name: np.stack([p[name] for p in normal]) for name in shapes}
    clear, values, allowed = screen(problem, stacked, answers, tolerances, count=len(normal))
    results = []
    for i, point in enumerate(normal):
        at_point = {name: answers[name][i] for name in names}
        cleared = clear[i] and _agreement(problem, point, at_point, allowed, i, float(values[i]))
        if cleared:
            results.append(cleared)
        else:
            results.append(judge(problem, point, at_point, lazy=True, tolerances=tolerances))
    return results


def _agreement(problem: Problem, point, at_point: dict, allowed: dict, i: int, value: float) -> CheckResult | None:
    """The cleared point's `agree`, or None when that agreement could not have
    failed (the point then goes through :func:`judge`, which says why)."""
    tolerances = {b: {v: t[v][i] for v in problem.wrt} for b, t in allowed.items()}
    if beyond_float64(problem, point) or any(undiscriminated(at_point[REFERENCE], tolerances, problem)):
        return None
    return CheckResult(problem.text, point, problem.wrt, AGREE, value=value, results=at_point,
                       reference=REFERENCE, tolerances=tolerances)


def run_backend_many(backend, problem: Problem, points: list) -> list[Gradient]:
    """One backend's answers at many points, in one batch where it can (and
    there is more than one point)."""
    if len(points) == 1 or not hasattr(backend, "gradients"):
        return [run_backend(backend, problem, point) for point in points]
    try:
        return backend.gradients(problem, points)
    except MemoryError:
        raise   # the case's outcome (resource_limit), not the method's
    except Exception as err:  # noqa: BLE001 - any failure of a method is reported, not raised
        return [Gradient(backend.name, status=ERROR, reason=f"{type(err).__name__}: {err}")] * len(points)


def screen(problem: Problem, stacked: dict, answers: dict[str, list[Gradient]],
           tolerances: Tolerances = DEFAULT_TOLERANCES, count: int | None = None):
    """Which points are plainly fine, for all points at once.

    A point is cleared when :func:`~diffcheck.language.screen.regular_points`
    passes it (inputs and active intermediate results finite, inside their op's
    derivative domain, off every kink), every method answered, the symbolic
    reference among them, and each agrees with it within the tolerance with no
    rounding allowance.  Returns the cleared mask, the function's values and,
    per method, the tolerances used (arrays over points)."""
    if count is None:   # an expression with no variable has nothing stacked to count
        count = len(next(iter(stacked.values())))
    computed = evaluate(problem.expr, stacked, keep=True, batch=True)
    value = np.asarray(computed[id(problem.expr)], dtype=np.float64).reshape(count)
    clear = regular_points(problem, stacked, computed, count)
    if REFERENCE not in answers:
        return np.zeros(count, bool), value, {}
    for results in answers.values():
        clear &= np.array([r.ok for r in results])
    if not clear.any():
        return clear, value, {}
    reference = _stack(answers[REFERENCE], problem, clear)
    allowed = {}
    for name, results in answers.items():
        if name == REFERENCE:
            continue
        candidate = _stack(results, problem, clear)
        allowed[name] = {}
        for var in [None, *problem.wrt]:
            tol = comparison_tolerance(reference, candidate, var, 0.0, tolerances)
            ref = reference.value if var is None else reference.gradients[var]
            got = candidate.value if var is None else candidate.gradients[var]
            with np.errstate(all="ignore"):
                within = np.abs(got - ref) <= tol
            clear &= within.reshape(count, -1).all(axis=1)
            if var is not None:
                allowed[name][var] = np.broadcast_to(tol, np.shape(ref))
    return clear, value, allowed


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

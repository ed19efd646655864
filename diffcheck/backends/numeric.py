"""The ``numeric`` backend: finite differences with Richardson extrapolation.

For each gradient entry the function is sampled at ``x ± h_k`` with the step
halved at each level, and the difference quotients are extrapolated in a
Richardson table (Ridders' method): each column removes the next even power of
``h`` from the error.  The entry of the table whose neighbours agree best is the
estimate, and their disagreement, plus the rounding the smallest step amplifies,
is the error estimate.  One-sided tables (odd powers too) give the left and right
derivatives the harness uses to tell a kink from a smooth point.

The first step grows with the point's scale.  It shrinks when the function is not
finite at a sample (a log near 0: steps must stay inside the domain), when a
sample lies on another branch of a kinked op than the point does (relu near 0:
a difference across a kink measures neither side), and when the table does not
converge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..expr import Apply, evaluate, postorder
from . import Gradient

EPS = np.finfo(np.float64).eps
LEVELS = 8            # steps h0, h0/2, ..., h0/128
MIN_LEVELS = 4        # two neighbours can agree by coincidence in a shorter table
MAX_EVALUATIONS = 16  # per derivative for the tables, restarts included
INITIAL_STEP = 0.125  # times max(1, |x|) ** 0.5
RELATIVE_STEP = 2.0 ** -10  # the first step is at least this times |x|
SHRINK = 16.0         # factor by which a rejected first step shrinks
MAX_SHRINKS = 24      # enough to come within 1e-30 of a kink or a domain edge
SAFE = 2.0            # stop once the table's error grows by this factor


@dataclass
class Estimate:
    value: float
    error: float
    evaluations: int
    converged: bool


def richardson(fun, x: float, f0: float, kind: str = "central", branch0=None) -> Estimate:
    """Derivative of the scalar function ``fun`` at ``x``, where ``fun(x) == f0``.

    ``fun(t)`` returns ``(value, branch)``, ``branch`` being any comparable token
    of which smooth piece ``t`` lies on (``None`` when the function has no kinks);
    ``branch0`` is the token at ``x``.  ``kind`` is ``"central"``, ``"right"`` or
    ``"left"``.  The error is an estimate of the returned value's absolute error.
    """
    power = 2 if kind == "central" else 1
    per_level = 2 if kind == "central" else 1
    # The step grows with the square root of |x|: with |x| itself, features of fixed
    # width (sin(x) at x = 100) would be stepped over; with no growth, rounding in
    # x + h would dominate at large |x|.  Beyond |x| = 2**14 a step proportional to
    # |x| takes over: at x = 1e200 a step of sqrt(|x|) is below x's own rounding.
    h0 = max(INITIAL_STEP * max(1.0, abs(x)) ** 0.5, RELATIVE_STEP * abs(x))
    evaluations, fallback = 0, None
    for _ in range(MAX_SHRINKS):
        # Rejected first steps count against the budget, but never below the
        # shortest table: near a kink or a domain edge correctness beats the budget.
        levels = min(LEVELS, max(MIN_LEVELS, (MAX_EVALUATIONS - evaluations) // per_level))
        if fallback is not None and (MAX_EVALUATIONS - evaluations) // per_level < MIN_LEVELS:
            break
        estimate, used = _table(fun, x, f0, h0, kind, power, levels, branch0)
        evaluations += used
        if estimate is not None:
            estimate.evaluations = evaluations
            if estimate.converged:
                return estimate
            # Not converged: the step is still too large for the function's
            # features here.  Start again much smaller, if the budget allows.
            fallback = estimate
        # A point much closer to 0 than the step (log at 1e-200, relu at 1e-310)
        # needs a step on its own scale: shrinking by 16 would take too long to get there.
        h0 = min(h0 / SHRINK, abs(x) / 4) if x != 0 else h0 / SHRINK
    if fallback is not None:
        fallback.evaluations = evaluations
        return fallback
    return Estimate(float("nan"), float("inf"), evaluations, False)


def _table(fun, x, f0, h0, kind, power, levels, branch0):
    """One Richardson table from first step ``h0``; None if that step is unusable."""
    previous: list[float] = []
    best, best_error = float("nan"), float("inf")
    # Only samples that enter the quotients count; a central table never uses f0,
    # and an f0 far above its samples (a pole inside the step) must not make a
    # table across the pole look converged.
    evaluations, magnitude = 0, (abs(f0) if kind != "central" else 0.0)
    side_branch = None
    smallest_step = row = None
    for level in range(levels):
        h = h0 / 2 ** level
        upper = x + h if kind != "left" else x
        lower = x - h if kind != "right" else x
        if upper == lower:
            break
        (f_up, b_up) = fun(upper) if upper != x else (f0, branch0)
        (f_low, b_low) = fun(lower) if lower != x else (f0, branch0)
        evaluations += (upper != x) + (lower != x)
        if kind == "central":
            crossed = b_up != branch0 or b_low != branch0
        else:
            # One-sided: the point itself may sit on the kink; the samples on its
            # one side must all share a branch.
            sample_branch = b_up if kind == "right" else b_low
            side_branch = sample_branch if side_branch is None else side_branch
            crossed = sample_branch != side_branch
        if crossed or not (np.isfinite(f_up) and np.isfinite(f_low)):
            if level == 0:
                return None, evaluations
            break
        magnitude = max(magnitude, abs(f_up), abs(f_low))
        # The step actually taken is the difference of the two representable points.
        smallest_step = upper - lower
        row = [(f_up - f_low) / smallest_step]
        for column in range(1, level + 1):
            factor = 2.0 ** (power * column)
            row.append(row[-1] + (row[-1] - previous[column - 1]) / (factor - 1.0))
            error = max(abs(row[column] - row[column - 1]), abs(row[column] - previous[column - 1]))
            if error <= best_error:
                best, best_error = row[column], error
        if level >= MIN_LEVELS - 1 and abs(row[level] - previous[level - 1]) >= SAFE * best_error:
            break
        previous = row
    if row is None:
        return None, evaluations
    if not previous or best_error == float("inf"):
        best, best_error = row[0], abs(row[0])
    # Rounding in the samples, amplified by the smallest step (and the table's weights).
    rounding = 8.0 * EPS * magnitude / abs(smallest_step)
    error = best_error + rounding
    # A table built on samples the step cannot resolve (a function oscillating
    # faster than the smallest step) can still show two neighbours that agree by
    # chance; its error is then large against the derivative's plausible size.
    converged = bool(np.isfinite(best) and error <= 1e-4 * (abs(best) + magnitude / h0))
    return Estimate(float(best), float(error), evaluations, converged), evaluations


def stopped_values(problem, values) -> dict:
    """The value of every ``detach`` node at the unperturbed point.

    A stopped gradient means "treat this as a constant": the perturbed samples
    must see it held where it was.
    """
    stops = [n for n in postorder(problem.expr)
             if isinstance(n, Apply) and not n.op.differentiable]
    if not stops:
        return {}
    computed = evaluate(problem.expr, values, keep=True)
    return {id(n): computed[id(n)] for n in stops}


def _kinked_nodes(problem) -> list[Apply]:
    return [n for n in postorder(problem.expr) if isinstance(n, Apply) and n.op.kink is not None]


def sampler(problem, point):
    """A function ``f(values) -> (value, branch token)`` for this problem.

    The token is the bytes of every kinked op's branch mask, or None when the
    expression has no kinks (then sampling costs one plain evaluation).
    """
    kinked = _kinked_nodes(problem)
    frozen = stopped_values(problem, point)

    def sample(values):
        if not kinked:
            return float(evaluate(problem.expr, values, frozen=frozen)), None
        computed = evaluate(problem.expr, values, keep=True, frozen=frozen)
        token = b"".join(np.packbits(node.op.branch([computed[id(a)] for a in node.args],
                                                    node.params)).tobytes() for node in kinked)
        return float(computed[id(problem.expr)]), token

    return sample


def partials(problem, point, name: str, kind: str = "central"):
    """Estimates for every entry of ``d f / d name``: value, estimates, errors, evaluations."""
    values = {k: np.array(v, dtype=np.float64) for k, v in point.items()}
    sample = sampler(problem, values)
    f0, branch0 = sample(values)
    shape = problem.shapes[name]
    estimates, errors = np.empty(shape), np.empty(shape)
    evaluations = 0
    base = values[name]
    for index in np.ndindex(*shape):
        x = float(base[index])

        def fun(t, index=index):
            base[index] = t
            try:
                return sample(values)
            finally:
                base[index] = x

        est = richardson(fun, x, f0, kind, branch0)
        # An unconverged table says nothing reliable: its entry cannot disagree.
        estimates[index] = est.value
        errors[index] = est.error if est.converged else np.inf
        evaluations += est.evaluations
    return f0, estimates, errors, evaluations


class NumericBackend:
    name = "numeric"

    def gradient(self, problem, point) -> Gradient:
        gradients, errors, evaluations = {}, {}, 0
        value = float(evaluate(problem.expr, point))
        for name in problem.wrt:
            _, gradients[name], errors[name], used = partials(problem, point, name)
            evaluations += used
        return Gradient(self.name, value=value, gradients=gradients, errors=errors,
                        evaluations=evaluations)

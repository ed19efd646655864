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

The tables are in :mod:`diffcheck.backends.richardson`; this module samples the
expression for them (``PointSampler``: batched, with branch tokens and ``detach``
held) and makes the backend.
"""

from __future__ import annotations

import numpy as np

from diffcheck.backends.base import Gradient

# INITIAL_STEP, Estimate and richardson are imported from here too (usercode.probes, tests).
from diffcheck.backends.richardson import (  # noqa: F401
    EPS,
    INITIAL_STEP,
    Estimate,
    richardson,
    richardson_many,
)
from diffcheck.language.expr import (
    Apply,
    Var,
    evaluate,
    fold,
    postorder,
    rounding_jitter,
)
from diffcheck.language.op import align_batch


def stopped_values(problem, values, batch: bool = False) -> dict:
    """The value of every ``detach`` node at the unperturbed point(s).

    A stopped gradient means "treat this as a constant": the perturbed samples
    must see it held where it was.  A detach of constants only (``detach(1)``) is
    held already, and its value has no batch axis to index by point.
    """
    varying = _varying_nodes(problem)
    stops = [n for n in postorder(problem.expr)
             if isinstance(n, Apply) and not n.op.differentiable and id(n) in varying]
    if not stops:
        return {}
    computed = evaluate(problem.expr, values, keep=True, batch=batch)
    return {id(n): computed[id(n)] for n in stops}


def _varying_nodes(problem) -> set[int]:
    """Ids of the nodes with a variable below them: the others are constants."""
    found = fold(problem.expr, lambda leaf: isinstance(leaf, Var), lambda node, args: any(args), keep=True)
    return {key for key, varies in found.items() if varies}


def _kinked_nodes(problem) -> list[Apply]:
    """The kinked ops whose arguments vary with the point.  An op of constants
    (``relu(-1)``) stays on one branch in every sample, and its value is not
    batched, so it has no branch token to compare."""
    varying = _varying_nodes(problem)
    return [n for n in postorder(problem.expr)
            if isinstance(n, Apply) and n.op.kink is not None and id(n) in varying]


#: Samples per batched evaluation, times the size of one point: bounds the memory
#: one batch takes (about 8 bytes times this, per node of the expression).
BATCH_FLOATS = 1 << 21


class PointSampler:
    """The expression evaluated at many perturbed copies of a set of points.

    An entry is one (point, variable, index) triple; a sample replaces that one
    entry of that point by a value.  Samples are evaluated in batches (one walk
    of the tree per batch), with ``detach`` nodes held at their values at the
    unperturbed point and each kinked op's branch reported as a token.
    """

    def __init__(self, problem, points: list[dict]):
        self.problem = problem
        self.names = list(points[0])
        self.stacked = {name: np.stack([np.asarray(p[name], dtype=np.float64) for p in points])
                        for name in self.names}
        self.kinked = _kinked_nodes(problem)
        # A detach of literals alone (detach(1)) has a batch axis of length 1:
        # spread over the points, it is indexed like the others.
        self.frozen = {k: np.broadcast_to(v, (len(points),) + np.shape(v)[1:])
                       for k, v in stopped_values(problem, self.stacked, batch=True).items()}
        self.point_size = max(1, sum(int(np.prod(problem.shapes[n], dtype=int)) for n in self.names))
        self.values, self.tokens, _ = self.evaluate(self.stacked, np.arange(len(points)))
        self.scale = self.rounding_noise() / EPS

    def evaluate(self, values, point_of):
        """Values and branch tokens of the expression at batched ``values``, and
        the value of every node by id."""
        frozen = {k: v[point_of] for k, v in self.frozen.items()}
        computed = evaluate(self.problem.expr, values, keep=True, frozen=frozen, batch=True)
        count = len(point_of)
        out = np.asarray(computed[id(self.problem.expr)], dtype=np.float64).reshape(count)
        if not self.kinked:
            return out, np.zeros((count, 0), dtype=bool), computed
        tokens = [np.reshape(np.broadcast_to(
            apply_branch(node, [computed[id(a)] for a in node.args]),
            np.shape(computed[id(node)])), (count, -1)) for node in self.kinked]
        return out, np.concatenate(tokens, axis=1), computed

    def rounding_noise(self, copies: int = 8) -> np.ndarray:
        """How far rounding moves the function's value at each point.

        Monte Carlo arithmetic: the expression is evaluated ``copies`` times with
        every op's result moved up or down by one unit of rounding at random; the
        largest change is the size of the rounding one evaluation carries.  It is
        the noise in every finite-difference sample: far above the value's own
        size after cancellation (``log(1 + x**2)`` at small ``x`` rounds like 1),
        and far below the largest intermediate result when an op takes it back
        (``log(abs(x))`` at ``x = 1e200``).  Seeded, so reports are reproducible.
        """
        count = len(self.values)
        rows = np.repeat(np.arange(count), copies)
        jitter = rounding_jitter(np.random.default_rng(20261123))
        values = {n: self.stacked[n][rows] for n in self.names}
        frozen = {k: v[rows] for k, v in self.frozen.items()}
        with np.errstate(all="ignore"):
            moved = evaluate(self.problem.expr, values, frozen=frozen, batch=True, perturb=jitter)
            change = np.abs(np.asarray(moved, dtype=np.float64).reshape(count, copies)
                            - self.values[:, None])
        return np.where(np.isfinite(change), change, 0.0).max(axis=1)

    def perturbed(self, point_of, name, flat_index, t):
        """The expression at each point of ``point_of`` with entry ``flat_index`` of
        ``name`` replaced by ``t`` (arrays of one length)."""
        values_out, tokens_out = [], []
        chunk = max(1, BATCH_FLOATS // self.point_size)
        for start in range(0, len(t), chunk):
            part = slice(start, start + chunk)
            rows = point_of[part]
            values = {n: self.stacked[n][rows] for n in self.names}
            changed = values[name].reshape(len(rows), -1).copy()
            changed[np.arange(len(rows)), flat_index[part]] = t[part]
            values[name] = changed.reshape(values[name].shape)
            v, k, _ = self.evaluate(values, rows)
            values_out.append(v)
            tokens_out.append(k)
        return np.concatenate(values_out), np.concatenate(tokens_out)


def apply_branch(node: Apply, args) -> np.ndarray:
    """Which side of its kinks each entry of a batched op is on."""
    return node.op.branch(align_batch(args), node.params)


def partials_many(problem, points: list[dict], name: str, kind: str = "central",
                  sampler: PointSampler | None = None):
    """Estimates of ``d f / d name`` at every point: arrays of shape ``(P,) + shape``
    of values, errors (inf where a table did not converge) and evaluations."""
    sampler = sampler or PointSampler(problem, points)
    shape = problem.shapes[name]
    size = int(np.prod(shape, dtype=int))
    point_of = np.repeat(np.arange(len(points)), size)
    flat_index = np.tile(np.arange(size), len(points))
    x = sampler.stacked[name].reshape(len(points), size).ravel()

    def sample(entries, t):
        flat_t = t.ravel()
        repeat = t.shape[1] if t.ndim == 2 else 1
        values, tokens = sampler.perturbed(np.repeat(point_of[entries], repeat),
                                           name, np.repeat(flat_index[entries], repeat), flat_t)
        return values.reshape(t.shape), tokens.reshape(t.shape + (tokens.shape[-1],))

    est = richardson_many(sample, x, sampler.values[point_of], sampler.tokens[point_of], kind,
                          sampler.scale[point_of])
    # An unconverged table says nothing reliable: its entry cannot disagree.
    errors = np.where(est.converged, est.errors, np.inf)
    full = (len(points),) + tuple(shape)
    return est.values.reshape(full), errors.reshape(full), est.evaluations.reshape(full)


def partials(problem, point, name: str, kind: str = "central"):
    """Estimates for every entry of ``d f / d name`` at one point: value,
    estimates, errors, evaluations."""
    sampler = PointSampler(problem, [point])
    values, errors, evaluations = partials_many(problem, [point], name, kind, sampler)
    return float(sampler.values[0]), values[0], errors[0], int(evaluations.sum())


class NumericBackend:
    name = "numeric"

    def gradient(self, problem, point) -> Gradient:
        return self.gradients(problem, [point])[0]

    def gradients(self, problem, points: list[dict]) -> list[Gradient]:
        """The gradient at every point, all points' samples evaluated in batches."""
        if not problem.wrt:   # nothing to differentiate ("0.5"): the value alone, nothing sampled
            return [Gradient(self.name, value=float(evaluate(problem.expr, p)), evaluations=1) for p in points]
        sampler = PointSampler(problem, points)
        per_name = {name: partials_many(problem, points, name, sampler=sampler)
                    for name in problem.wrt}
        return [Gradient(self.name, value=float(sampler.values[i]),
                         gradients={n: per_name[n][0][i] for n in problem.wrt},
                         errors={n: per_name[n][1][i] for n in problem.wrt},
                         evaluations=int(sum(per_name[n][2][i].sum() for n in problem.wrt)))
                for i in range(len(points))]

"""Richardson tables: derivatives from central or one-sided differences.

For each entry the function is sampled at ``x ± h_k`` with the step halved at
each level, and the difference quotients are extrapolated in a Richardson table
(Ridders' method): each column removes the next even power of ``h`` from the
error.  The entry of the table whose neighbours agree best is the estimate, and
their disagreement, plus the rounding the smallest step amplifies, is the error
estimate.  One-sided tables (odd powers too) give the left and right derivatives
the harness uses to tell a kink from a smooth point.

The first step grows with the point's scale.  It shrinks when the function is not
finite at a sample, when a sample lies on another branch than the point does, and
when the table does not converge.  This module knows nothing of expressions: a
caller gives a ``sample(entries, t)`` function returning values and branch tokens
(:mod:`diffcheck.backends.numeric` samples an expression; ``richardson`` a
caller's own scalar function).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = np.finfo(np.float64).eps
SUBNORMAL = float(np.finfo(np.float64).smallest_subnormal)
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


@dataclass
class Estimates:
    """Derivative estimates for many entries at once (arrays of one length)."""

    values: np.ndarray
    errors: np.ndarray        # absolute error estimates; inf where not converged
    evaluations: np.ndarray   # function samples each entry's tables used
    converged: np.ndarray


def richardson_many(sample, x: np.ndarray, f0: np.ndarray, branch0: np.ndarray,
                    kind: str = "central", scale: np.ndarray | None = None) -> Estimates:
    """Derivatives of many scalar functions at once, entry ``e`` of ``fun_e`` at ``x[e]``.

    ``sample(entries, t)`` evaluates the functions of the given entry indices at
    the arguments ``t`` (an array of shape ``(len(entries), m)``) in one batch and
    returns ``(values, branches)``: values of the same shape, and branch tokens of
    shape ``(len(entries), m, k)`` saying which smooth piece each sample lies on
    (``k = 0`` for functions without kinks).  ``f0`` and ``branch0`` are the values
    and tokens at ``x``.  ``kind`` is ``"central"``, ``"right"`` or ``"left"``.
    ``scale`` times machine epsilon is the rounding each sample carries (default
    ``|f0|``; see :meth:`PointSampler.rounding_noise`).

    Each entry follows the same steps as a scalar Ridders table would: a first
    step that grows with ``|x|``, restarts with a much smaller step when a first
    sample is unusable or the table does not converge, and a budget of
    :data:`MAX_EVALUATIONS` samples.  The samples of every table of every entry in
    one round are computed in one call of ``sample``.
    """
    x, f0 = np.asarray(x, dtype=np.float64), np.asarray(f0, dtype=np.float64)
    count = len(x)
    per_level = 2 if kind == "central" else 1
    # The step grows with the square root of |x|: with |x| itself, features of fixed
    # width (sin(x) at x = 100) would be stepped over; with no growth, rounding in
    # x + h would dominate at large |x|.  Beyond |x| = 2**14 a step proportional to
    # |x| takes over: at x = 1e200 a step of sqrt(|x|) is below x's own rounding.
    h0 = np.maximum(INITIAL_STEP * np.maximum(1.0, np.abs(x)) ** 0.5, RELATIVE_STEP * np.abs(x))
    scale = np.abs(f0) if scale is None else np.maximum(np.abs(f0), scale)
    used = np.zeros(count, dtype=int)
    done = np.zeros(count, dtype=bool)
    out = Estimates(np.full(count, np.nan), np.full(count, np.inf), used, np.zeros(count, bool))
    have_fallback = np.zeros(count, dtype=bool)
    was_aliased = np.zeros(count, dtype=bool)
    for _ in range(MAX_SHRINKS):
        left = (MAX_EVALUATIONS - used) // per_level
        # Rejected first steps count against the budget, but never below the
        # shortest table: near a kink or a domain edge correctness beats the budget.
        done |= have_fallback & (left < MIN_LEVELS)
        active = np.flatnonzero(~done)
        if not len(active):
            break
        levels = np.minimum(LEVELS, np.maximum(MIN_LEVELS, left[active]))
        table = _tables(sample, active, x[active], f0[active], branch0[active], h0[active],
                        kind, levels, scale[active])
        used[active] += table.evaluations
        usable = ~np.isnan(table.errors) & table.usable
        converged = usable & table.converged
        aliased = np.zeros(len(active), dtype=bool)
        if kind == "central":
            aliased[converged] = _aliased(sample, active[converged], x[active[converged]],
                                          branch0[active[converged]], _subset(table, converged))
            used[active[converged]] += 2
            converged &= ~aliased
        # Not converged: the step is still too large for the function's features
        # here; keep the estimate as a fallback and start again much smaller.
        out.values[active[usable]] = table.values[usable]
        out.errors[active[usable]] = table.errors[usable]
        out.converged[active[converged]] = True
        # After an aliased table, no estimate is a fallback: the entry restarts with
        # smaller steps, beyond the budget, until a table converges (or MAX_SHRINKS).
        was_aliased[active[aliased]] = True
        have_fallback[active[usable]] = ~was_aliased[active[usable]]
        done[active[converged]] = True
        # A point much closer to 0 than the step (log at 1e-200, relu at 1e-310)
        # needs a step on its own scale: shrinking by 16 would take too long to get there.
        shrunk = h0[active] / SHRINK
        h0[active] = np.where(x[active] != 0, np.minimum(shrunk, np.abs(x[active]) / 4), shrunk)
    return out


def richardson(fun, x: float, f0: float, kind: str = "central") -> Estimate:
    """Derivative at ``x`` of one scalar function without kinks: ``fun(t)``
    returns ``(value, None)`` and ``fun(x) == f0``.  The same tables as
    :func:`richardson_many`, for callers with one function of their own."""
    def sample(entries, t):
        values = np.array([fun(float(v))[0] for v in np.ravel(t)], dtype=np.float64)
        return values.reshape(np.shape(t)), np.zeros(np.shape(t) + (0,), dtype=bool)

    est = richardson_many(sample, np.array([x]), np.array([f0]), np.zeros((1, 0), bool), kind)
    return Estimate(float(est.values[0]), float(est.errors[0]), int(est.evaluations[0]),
                    bool(est.converged[0]))


@dataclass
class _Table:
    values: np.ndarray
    errors: np.ndarray
    evaluations: np.ndarray
    converged: np.ndarray
    usable: np.ndarray
    quotient: np.ndarray | None = None   # the plain difference quotient at the smallest step
    width: np.ndarray | None = None      # that step's width, x + h minus x - h


#: The off-grid step of the aliasing test, as a fraction of the table's smallest
#: half-width: no power of 2, so it does not fall on the table's own sample grid.
OFF_GRID = 0.7


def _subset(table: _Table, keep: np.ndarray) -> _Table:
    return _Table(*(None if v is None else v[keep] for v in vars(table).values()))


def _aliased(sample, entries, x, branch0, table: _Table) -> np.ndarray:
    """True where a converged central table was fooled by its own step sequence.

    Steps that halve from h0 sample an oscillation of a period near a fraction of
    h0, or a pole between x and x + h0, at points that can make the table look
    converged (sin(1850 x) at x = 0.3 sampled with steps 0.125 to 0.001).  One more
    central quotient at a step off that grid (:data:`OFF_GRID` times the smallest)
    then lies where the truncation error of a smooth function puts it: a central
    quotient's error is c h**2 + O(h**4), so its distance from the estimate is
    0.7**2 = 0.49 times the smallest step's, give or take a quarter of that
    distance (the h**4 terms) and four times the table's error estimate (its
    rounding share grows by 1/0.7).  Samples on another branch or not finite
    leave the table as it was: this test cannot judge them.
    """
    if not len(entries):
        return np.zeros(0, dtype=bool)
    half = OFF_GRID * table.width / 2
    with np.errstate(all="ignore"):
        t = np.stack([x + half, x - half], axis=1)
        values, tokens = sample(entries, t)
        quotient = (values[:, 0] - values[:, 1]) / (t[:, 0] - t[:, 1])
        truncation = table.quotient - table.values
        allowed = 0.25 * np.abs(truncation) + 4.0 * table.errors
        judged = np.isfinite(quotient) & ~_differs(tokens[:, 0], branch0) & ~_differs(tokens[:, 1], branch0)
        return judged & (np.abs(quotient - table.values - OFF_GRID ** 2 * truncation) > allowed)


def _tables(sample, entries, x, f0, branch0, h0, kind, levels, scale) -> _Table:
    """One Richardson table per entry from first steps ``h0``, all samples in one batch.

    Mirrors the sequential algorithm level by level with masks: an entry's table
    stops at the first level where it crosses a branch, meets a non-finite sample
    or starts to diverge; a table stopped at its first level is unusable.
    """
    count, depth = len(x), int(levels.max())
    power = 2 if kind == "central" else 1
    with np.errstate(all="ignore"):   # an infinite x gives non-finite samples, rejected below
        steps = h0[:, None] / 2.0 ** np.arange(depth)[None, :]
        upper = x[:, None] + steps if kind != "left" else np.repeat(x[:, None], depth, 1)
        lower = x[:, None] - steps if kind != "right" else np.repeat(x[:, None], depth, 1)
    wanted = np.arange(depth)[None, :] < levels[:, None]
    f_up, b_up = _samples(sample, entries, upper, wanted & (upper != x[:, None]), f0, branch0)
    f_low, b_low = _samples(sample, entries, lower, wanted & (lower != x[:, None]), f0, branch0)

    running = np.ones(count, dtype=bool)
    usable = np.zeros(count, dtype=bool)
    evaluations = np.zeros(count, dtype=int)
    best, best_error = np.full(count, np.nan), np.full(count, np.inf)
    # Only samples that enter the quotients count; a central table never uses f0,
    # and an f0 far above its samples (a pole inside the step) must not make a
    # table across the pole look converged.
    magnitude = np.abs(f0) if kind != "central" else np.zeros(count)
    smallest = np.full(count, np.nan)
    first = np.full(count, np.nan)      # the latest row's first column
    previous = np.full((count, depth), np.nan)
    first_change = np.full(count, np.nan)   # the change of the first column at the latest level
    side = b_up[:, 0] if kind == "right" else b_low[:, 0]
    with np.errstate(all="ignore"):
        for level in range(depth):
            running &= (level < levels) & (upper[:, level] != lower[:, level])
            if not running.any():
                break
            evaluations += running * ((upper[:, level] != x).astype(int) + (lower[:, level] != x))
            if kind == "central":
                crossed = _differs(b_up[:, level], branch0) | _differs(b_low[:, level], branch0)
            else:
                # One-sided: the point itself may sit on the kink; the samples on
                # its one side must all share a branch.
                crossed = _differs(b_up[:, level] if kind == "right" else b_low[:, level], side)
            bad = crossed | ~(np.isfinite(f_up[:, level]) & np.isfinite(f_low[:, level]))
            running &= ~bad
            if not running.any():
                break
            r = running
            magnitude[r] = np.maximum(magnitude[r], np.maximum(np.abs(f_up[r, level]),
                                                               np.abs(f_low[r, level])))
            # The step actually taken is the difference of the two representable points.
            smallest[r] = upper[r, level] - lower[r, level]
            row = np.full((count, depth), np.nan)
            row[r, 0] = (f_up[r, level] - f_low[r, level]) / smallest[r]
            first[r] = row[r, 0]
            usable |= r
            for column in range(1, level + 1):
                factor = 2.0 ** (power * column)
                row[r, column] = row[r, column - 1] + (row[r, column - 1] - previous[r, column - 1]) / (factor - 1.0)
                error = np.maximum(np.abs(row[r, column] - row[r, column - 1]),
                                   np.abs(row[r, column] - previous[r, column - 1]))
                better = error <= best_error[r]
                index = np.flatnonzero(r)[better]
                best[index], best_error[index] = row[index, column], error[better]
            diverging = np.zeros(count, dtype=bool)
            if level >= MIN_LEVELS - 1:
                diverging[r] = np.abs(row[r, level] - previous[r, level - 1]) >= SAFE * best_error[r]
                # A table whose first column still shrinks by the factor the step
                # predicts is in its asymptotic range, not in rounding: there a jump
                # of the diagonal means the earlier entries, whose neighbours agreed
                # by coincidence, were wrong, so the table goes on.
                change = row[r, 0] - previous[r, 0]
                with np.errstate(all="ignore"):
                    ratio = change / first_change[r] * 2.0 ** power
                diverging[r] &= ~((np.abs(ratio - 1.0) < 0.2)
                                  & (np.abs(change) > 64.0 * EPS * magnitude[r] / np.abs(smallest[r])))
            if level >= 1:
                first_change[r] = row[r, 0] - previous[r, 0]
            previous[r] = row[r]
            running &= ~diverging
        plain = usable & (best_error == np.inf)
        best[plain], best_error[plain] = first[plain], np.abs(first[plain])
        # Rounding in the samples, amplified by the smallest step (and the table's
        # weights); below float64's normal range a sample is rounded to a multiple
        # of the smallest subnormal, whatever its size (elu(x) * x at x = -1e-200,
        # where a kink keeps the steps near |x| and every sample underflows to 0).
        resolution = 8.0 * SUBNORMAL / np.abs(smallest)
        error = best_error + 8.0 * EPS * np.maximum(magnitude, scale) / np.abs(smallest) + resolution
        # A table built on samples the step cannot resolve (a function oscillating
        # faster than the smallest step) can still show two neighbours that agree
        # by chance; its error is then large against the derivative's plausible size.
        converged = usable & np.isfinite(best) & (
            error <= 1e-4 * (np.abs(best) + magnitude / h0) + resolution)
    return _Table(best, np.where(usable, error, np.nan), evaluations, converged, usable, first, smallest)


def _differs(tokens: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return np.any(tokens != reference, axis=-1) if tokens.shape[-1] else np.zeros(len(tokens), bool)


def _samples(sample, entries, t, wanted, f0, branch0):
    """The functions at ``t`` where ``wanted``; elsewhere (the point itself, or
    levels a table will not reach) the values and tokens at the point."""
    values = np.repeat(f0[:, None], t.shape[1], 1)
    tokens = np.repeat(branch0[:, None, :], t.shape[1], 1)
    rows, cols = np.nonzero(wanted)
    if len(rows):
        got_values, got_tokens = sample(entries[rows], t[rows, cols])
        values[rows, cols] = got_values
        tokens[rows, cols] = got_tokens
    return values, tokens

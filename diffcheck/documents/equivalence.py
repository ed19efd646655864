"""Is a claimed formula the same function as the truth?

Two independent tests.  Symbolically, the difference is simplified by SymPy; zero
proves equality.  Numerically, both sides are evaluated with mpmath at the case's
point and at random points around it (drawn from a seed fixed by the case and
claim, so a run is reproducible), keeping only points where both sides are
finite.  A formula is refuted by a point where the sides differ, and the point
is reported; it is confirmed by a proof, or, when SymPy cannot simplify the
difference (or it is too large to try), by agreement at every point.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from diffcheck.backends.symbolic import MAX_SCALAR_OPS
from diffcheck.backends.sympy_lowering import (
    compile_formulas,
    exact_rational,
    symbol_array,
    to_float,
    to_sympy,
)
from diffcheck.language.expr import Expr, evaluate, to_text

SPOT_POINTS = 8          # random points besides the case's own
MAX_SIMPLIFY_OPS = 400   # larger differences are not handed to simplify()
MAX_TRIES = 200
DIGITS = 30
RELATIVE = 1e-20         # both sides are evaluated at 30 digits


@dataclass
class Derivative:
    """The derivative of a scalar expression with respect to one variable."""

    tree: Expr
    wrt: str

    def sympy(self, sp, symbols):
        import sympy
        function = to_sympy(sp, self.tree, symbols)[()]
        out = np.empty(symbols[self.wrt].shape, dtype=object)
        for index in np.ndindex(*out.shape):
            out[index] = sympy.diff(function, symbols[self.wrt][index])
        return out


@dataclass
class Value:
    """An expression's own value (a derivation step without differentiation)."""

    tree: Expr

    def sympy(self, sp, symbols):
        return to_sympy(sp, self.tree, symbols)


@dataclass
class Verdict:
    status: str                     # confirmed | refuted | undecided
    proof: str = ""                 # "symbolic" or "numeric"
    reason: str = ""
    points_checked: int = 0
    counterexample: dict = field(default_factory=dict)
    claimed_values: np.ndarray | None = None
    true_values: np.ndarray | None = None
    tolerances: np.ndarray | None = None
    scalar_claim: bool = False      # one scalar formula stated for every entry
    points: list = field(default_factory=list)   # the sample points behind the value rows, in order


def precise_value(tree: Expr, point) -> np.ndarray:
    """An expression's value computed exactly by SymPy and rounded at 30 digits;
    float64 when the exact computation is too large."""
    import sympy as sp  # lazy (see compare)
    if sum(np.size(v) for v in point.values()) > MAX_SCALAR_OPS // 100:
        return np.asarray(evaluate(tree, point), dtype=float)
    exact = {name: _exact_array(sp, value) for name, value in point.items()}
    try:
        result = to_sympy(sp, tree, exact)
        return np.vectorize(lambda e: float(sp.N(e, DIGITS)), otypes=[float])(result)
    except (TypeError, ValueError, ZeroDivisionError):
        return np.asarray(evaluate(tree, point), dtype=float)


def _exact_array(sp, value: np.ndarray) -> np.ndarray:
    out = np.empty(value.shape, dtype=object)
    for index in np.ndindex(*value.shape):
        out[index] = exact_rational(sp, float(value[index]))
    return out


def _seed(case, claim, formula_text: str) -> int:
    return zlib.crc32(f"{case.id}#{claim.number}#{formula_text}".encode())


def _points(case, claim, formula, target_tree, label):
    """The case's point, then random points around it where both sides are finite."""
    yield case.point
    rng = np.random.default_rng(_seed(case, claim, label))
    found = tries = 0
    while found < SPOT_POINTS and tries < MAX_TRIES:
        tries += 1
        point = {name: value + rng.uniform(-1.0, 1.0, value.shape) * (0.5 + 0.5 * np.abs(value))
                 for name, value in case.point.items()}
        with np.errstate(all="ignore"):
            try:
                finite = all(np.all(np.isfinite(evaluate(t, point))) for t in (formula, target_tree))
            except MemoryError:
                raise   # the case's outcome (resource_limit), not the method's
            except Exception:  # noqa: BLE001 - a point the formula cannot take is skipped
                finite = False
        if finite:
            found += 1
            yield point


def compare(case, claim, target, formula: Expr) -> Verdict:
    """Whether ``formula`` equals ``target`` (a :class:`Derivative` or :class:`Value`)."""
    import sympy as sp  # lazy, as everywhere SymPy is used: importing it is slow

    symbols = {name: symbol_array(sp, name, value.shape) for name, value in case.point.items()}
    truth = target.sympy(sp, symbols)
    claimed = to_sympy(sp, formula, symbols)
    scalar_claim = claimed.ndim == 0 and truth.ndim > 0
    try:
        claimed = np.broadcast_to(claimed, truth.shape)
    except ValueError:
        return Verdict("refuted", reason=f"the formula has shape {claimed.shape}, the truth {truth.shape}",
                       counterexample={"claimed_shape": list(claimed.shape), "true_shape": list(truth.shape)})

    proof, reason = _prove(sp, truth, claimed)
    arguments = [s for name in symbols for s in np.ravel(symbols[name])]
    both_sides = compile_formulas(sp, arguments, [*np.ravel(truth), *np.ravel(claimed)], "mpmath")
    points = _points(case, claim, formula, target.tree, to_text(formula))
    sampled = _sample(case, points, list(symbols), both_sides, truth.shape)
    if proof == "symbolic":
        return Verdict("confirmed", proof="symbolic", points_checked=sampled.checked)
    return _numeric_verdict(sampled, reason, scalar_claim)


@dataclass
class _Sampled:
    """Both sides at the points where both are finite, and the first point where
    they differ beyond the tolerance (None: nowhere)."""
    claimed_rows: list = field(default_factory=list)
    true_rows: list = field(default_factory=list)
    points: list = field(default_factory=list)
    counterexample: dict | None = None

    @property
    def checked(self) -> int:
        return len(self.points)


def _sample(case, points, names, both_sides, shape) -> _Sampled:
    """Both sides evaluated at ``DIGITS`` digits at each point; ``both_sides`` returns
    the true entries, then the claimed ones."""
    import mpmath  # lazy, with SymPy (see compare)
    size = int(np.prod(shape, dtype=int))
    sampled = _Sampled()
    with mpmath.workdps(DIGITS):
        for point in points:
            values = [mpmath.mpf(float(v)) for name in names for v in np.ravel(point[name])]
            try:
                both = both_sides(*values)
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                continue
            t = np.array([to_float(v) for v in both[:size]]).reshape(shape)
            c = np.array([to_float(v) for v in both[size:]]).reshape(shape)
            if not (np.all(np.isfinite(t)) and np.all(np.isfinite(c))):
                continue
            sampled.points.append(point)
            sampled.claimed_rows.append(c)
            sampled.true_rows.append(t)
            tolerance = RELATIVE * (np.abs(t) + np.max(np.abs(t), initial=0.0)) + 1e-300
            if sampled.counterexample is None and np.any(np.abs(c - t) > tolerance):
                sampled.counterexample = _counterexample(case, point, c, t)
    return sampled


def _counterexample(case, point, c, t) -> dict:
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(c - t)), t.shape))
    return {"point": {n: v.tolist() for n, v in point.items()}, "entry": list(worst),
            "claimed_value": float(c[worst]), "true_value": float(t[worst]), "true": t,
            "text": _counter_text(case, point, worst, c, t)}


def _numeric_verdict(sampled: _Sampled, reason: str, scalar_claim: bool) -> Verdict:
    """Refuted by a counterexample; confirmed by agreement at enough points; else undecided."""
    checked = sampled.checked
    if sampled.counterexample is not None:
        rows = np.array(sampled.claimed_rows), np.array(sampled.true_rows)
        return Verdict("refuted", reason=sampled.counterexample.pop("text"), points_checked=checked,
                       counterexample=sampled.counterexample, claimed_values=rows[0], true_values=rows[1],
                       tolerances=np.maximum(np.abs(rows[1]) * 1e-9, 1e-12), scalar_claim=scalar_claim,
                       points=sampled.points)
    if checked == 0:
        return Verdict("undecided", reason="no point was found where both sides are finite")
    if checked < SPOT_POINTS // 2:
        return Verdict("undecided", reason=f"only {checked} points where both sides are finite; "
                       "too few to decide", points_checked=checked)
    return Verdict("confirmed", proof="numeric", reason=reason, points_checked=checked)


def _prove(sp, truth, claimed):
    """("symbolic", "") when every entry's difference simplifies to zero, else ("", why not)."""
    for t, c in zip(np.ravel(truth), np.ravel(claimed)):
        difference = t - c
        if difference == 0:
            continue
        if sp.count_ops(difference) > MAX_SIMPLIFY_OPS:
            return "", "the difference is too large to simplify"
        if sp.simplify(difference) != 0:
            return "", ""
    return "symbolic", ""


def _counter_text(case, point, entry, claimed, true) -> str:
    where = "at the case's point" if all(np.array_equal(point[n], case.point[n]) for n in point) else \
        "at " + ", ".join(f"{n} = {np.array2string(v, precision=4)}" for n, v in point.items()
                          if v.size <= 4)
    index = f" entry {list(entry)}" if entry else ""
    return f"{where}{index} the formula gives {claimed[entry]:.10g}, the truth is {true[entry]:.10g}"

"""Gradient checks of array functions: entry by entry, or along random directions.

A *subject* is a function of one flat float64 vector ``x`` with a flat vector
output (see :class:`Subject`); *candidates* are the derivatives under test, each
giving either vector-Jacobian products ``w^T J`` (reverse mode, a hand-written
gradient) or Jacobian-vector products ``J u`` (forward mode).  The reference is
diffcheck's numeric differentiation: Richardson tables
(:func:`diffcheck.backends.numeric.richardson`) of the scalar function
``t -> w . (F(x + t u) - F(x))`` along a line.

**Projected checks cost O(1) in the input size.**  One probe draws a direction
``u`` and a cotangent ``w`` with random signs and compares the numeric
derivative along the line with ``w^T J u`` from the candidate: about a dozen
evaluations of ``F`` and one backward pass, whatever the size.  The tolerance is
built from measured quantities (the table's error estimate, the candidate's own
rounding measured against a float64 run) and a relative floor on the root sum of
squares of the terms ``(w^T J)_l u_l``, not on their sum, so it does not grow
like the size of the input does.

**Why a single wrong entry is caught (the probability argument).**  Let the
candidate's Jacobian be ``J + E``.  A probe's discrepancy is ``w^T E u``.  With
Rademacher signs (the default), a single wrong entry ``E_kl = e`` gives
``w_k e u_l = ±e s_l`` exactly (``s_l >= 1`` is the step scale of entry ``l``):
its size does not depend on the draw at all, so every probe sees it once ``|e|``
exceeds the tolerance, which for a 1000x1000 elementwise function in float64 is
about 1e-8 of a typical entry (``tests/test_probes.py`` measures it).  The
detection probability is then 1, not merely >= 99%.  For several wrong entries
that might cancel, condition on ``w``: if some column of ``w^T E`` has an entry
of size at least ``tol``, the two values of the sum that flipping that
``u_l`` gives differ by at least ``2 tol``, so at most one of them is within
``tol`` of zero (Littlewood-Offord); likewise for ``w``.  Each probe therefore
misses with probability at most 3/4, and ``p`` independent probes with at most
``(3/4)^p``.  With Gaussian directions, a single wrong entry is missed only when
``|w_k u_l| < tol / |e|``, a probability below ``tol / |e|`` (times a log factor).
gradcheck's fast mode uses directions with non-negative entries and a tolerance
relative to the whole projected sum, which grows with the input size: a single
wrong entry in a million is far below it.

**Drill-down.**  When a probe fails, the failing direction is split in halves,
each half checked by its own table (the other half's value follows by
subtraction), and failing halves split again: about ``2 log2(n)`` tables name a
wrong entry of ``x``; the same bisection over the cotangent's entries (reusing
the cached evaluations along that entry's line) names the output entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from diffcheck.backends.numeric import INITIAL_STEP, Estimate, richardson
from diffcheck.checking.tolerances import DEFAULT_TOLERANCES, Tolerances

# The multipliers are the harness's (:class:`~diffcheck.checking.tolerances.Tolerances`,
# so ``[tool.diffcheck.tolerance]`` applies here too): ``estimate_safety`` times the
# Richardson table's own error estimate, ``rounding_safety`` times the candidate's
# rounding measured against float64, and a default relative floor of ``floor_ulps``
# units of the code's own epsilon.
# How far a Richardson table's own error estimate may be trusted: rounding inside
# the function (a sum that cancels) is invisible in its output, so the estimate can
# come out too small.  A float64 table is relied on to this relative accuracy.
NUMERIC_RTOL = 1e-9
MAX_LOCATED = 8          # wrong entries named by one drill-down
KINK_RTOL = 1e-3         # smallest relative jump in slope reported as a kink


def default_rtol(eps: float, noise: float = 1.0, tolerances: Tolerances = DEFAULT_TOLERANCES) -> float:
    """The default relative floor for code computing with machine epsilon ``eps``,
    evaluated for the numeric reference with ``noise`` times float64's epsilon."""
    return tolerances.floor_ulps * eps + NUMERIC_RTOL * noise ** (2.0 / 3.0)


@dataclass
class Subject:
    """A function of the flat vector ``x`` of every differentiated input entry.

    ``evaluate(x) -> outputs`` (flat float64) computes in the highest precision
    available (float64), ``scale`` is each entry's step scale (``>= 1``), ``eps``
    the machine epsilon of the code's own dtype, and ``label(flat_index)`` names
    an input entry, ``output_label(flat_index)`` an output entry.
    """

    evaluate: Callable[[np.ndarray], np.ndarray]
    x: np.ndarray
    out0: np.ndarray
    eps: float
    label: Callable[[int], tuple]
    output_label: Callable[[int], tuple]
    scale: np.ndarray = None
    evaluations: int = 0
    noise: float = 1.0   # the evaluations' epsilon in units of float64's


    def __post_init__(self):
        if self.scale is None:
            # As in the numeric backend: steps grow with sqrt|x|, so features of
            # fixed width are not stepped over and rounding in x + h stays small.
            self.scale = np.sqrt(np.maximum(1.0, np.abs(self.x)))


class Line:
    """The subject along ``x + t * direction``, outputs cached by ``t`` so that many
    cotangents cost the evaluations of one."""

    def __init__(self, subject: Subject, direction: np.ndarray):
        self.subject, self.direction = subject, direction
        self.cache: dict[float, np.ndarray] = {}

    def outputs(self, t: float) -> np.ndarray:
        if t not in self.cache:
            self.cache[t] = self.subject.evaluate(self.subject.x + t * self.direction)
            self.subject.evaluations += 1
        return self.cache[t]

    def derivative(self, cotangent: np.ndarray, kind: str = "central", window: slice = slice(None)
                   ) -> Estimate:
        """d/dt of ``cotangent . (F(x + t u) - F(x))`` at 0, with its error estimate.

        Subtracting ``F(x)`` first makes unchanged outputs contribute exactly zero,
        so the rounding of the samples is that of the entries the line moves.
        ``window`` restricts the sum to the outputs where the cotangent is not zero.
        """
        out0, cotangent = self.subject.out0[window], cotangent[window]
        # The table's first samples show which outputs the line moves at all; the
        # sums then run over those only (for local code, a small part of the output).
        sides = {"central": (1, -1), "right": (1,), "left": (-1,)}[kind]
        moved = np.zeros(out0.shape, dtype=bool)
        with np.errstate(all="ignore"):
            for side in sides:
                moved |= self.outputs(side * INITIAL_STEP)[window] != out0
        # When the line moves no output at all, the derivative is below what the
        # samples resolve (a weight times 1e-49 added to 1.6), not exactly zero:
        # every output's rounding then bounds it.
        chosen = np.flatnonzero(moved) if 0 < moved.mean() < 0.5 else slice(None)
        out0, cotangent = out0[chosen], cotangent[chosen]
        # The samples' rounding is that of the outputs the line moves: their size,
        # offset into every sample, lets the table's rounding term see it (in units
        # of the precision the function is evaluated in).
        level = float(np.sum(np.abs(cotangent * out0))) * self.subject.noise

        def fun(t):
            with np.errstate(all="ignore"):
                return level + float(cotangent @ (self.outputs(t)[window][chosen] - out0)), None

        return richardson(fun, 0.0, level, kind)


def signs(rng: np.random.Generator, n: int, kind: str = "rademacher") -> np.ndarray:
    """A random direction with signed entries: Rademacher (+-1) or Gaussian."""
    if kind == "rademacher":
        return rng.integers(0, 2, n).astype(np.float64) * 2.0 - 1.0
    if kind == "gaussian":
        return rng.standard_normal(n)
    raise ValueError(f"directions are 'rademacher' or 'gaussian', not {kind!r}")


@dataclass
class Candidate:
    """A derivative under test.  ``vjp(w, precision)`` returns ``w^T J`` flat, or
    ``jvp(u, precision)`` returns ``J u`` flat; ``precision`` is ``"native"`` (the
    code's own dtype) or ``"float64"`` (None when float64 is the native dtype or
    the code cannot run in it)."""

    name: str
    vjp: Callable | None = None
    jvp: Callable | None = None
    float64: bool = False   # whether a float64 run exists to measure rounding against


@dataclass
class Comparison:
    """One candidate number against the reference, with the tolerance allowed."""

    method: str
    value: float
    reference: float
    tolerance: float
    input_entry: int | None = None     # flat input index, when the comparison is of one entry
    output_entry: int | None = None    # flat output index, when located
    probe: int | None = None
    reference_method: str = "numeric"

    @property
    def abs_error(self) -> float:
        with np.errstate(all="ignore"):
            error = abs(self.value - self.reference)
        return float("inf") if np.isnan(error) else float(error)

    @property
    def rel_error(self) -> float:
        return self.abs_error / abs(self.reference) if self.reference else float("inf")

    @property
    def ratio(self) -> float:
        """Error over tolerance: above 1 is a mismatch."""
        if not np.isfinite(self.tolerance):
            return 0.0    # an unconverged table cannot disagree with anything
        return self.abs_error / self.tolerance if self.tolerance > 0 else float("inf")

    @property
    def failed(self) -> bool:
        return self.ratio > 1.0


def tolerance(estimate_error: float, rounding: float, scale: float, settings: Settings) -> float:
    """What a comparison allows: the numeric error bar, the candidate's measured
    rounding, a relative floor and an absolute one."""
    if not np.isfinite(estimate_error):
        return float("inf")
    t = settings.tolerances
    return (t.estimate_safety * estimate_error + t.rounding_safety * rounding + settings.rtol * scale
            + settings.atol + 1e-300)


@dataclass
class Settings:
    rtol: float
    atol: float = 0.0
    probes: int = 2
    directions: str = "rademacher"
    locate: bool = True
    tolerances: Tolerances = DEFAULT_TOLERANCES


@dataclass
class ProbeRun:
    """The outcome of one method of checking: comparisons made, and their cost."""

    comparisons: list[Comparison] = field(default_factory=list)
    located: list[Comparison] = field(default_factory=list)
    kink: str = ""


def _project(candidate: Candidate, w, u, cache: dict) -> tuple[float, float, float, np.ndarray | None,
                                                                np.ndarray | None]:
    """Candidate value of ``w^T J u``, its measured rounding, the root sum of squares
    of its terms, and the flat ``w^T J`` (native and float64) when it is a VJP."""
    if candidate.vjp is not None:
        key = (candidate.name, id(w))
        if key not in cache:
            g = np.asarray(candidate.vjp(w, "native"), dtype=np.float64)
            g64 = np.asarray(candidate.vjp(w, "float64"), dtype=np.float64) if candidate.float64 else None
            cache[key] = (g, g64)
        g, g64 = cache[key]
        with np.errstate(all="ignore"):
            value = float(g @ u)
            rounding = abs(float(g64 @ u) - value) if g64 is not None else 0.0
            rss = float(np.sqrt(np.sum((g * u) ** 2)))
        return value, rounding, rss, g, g64
    jv = np.asarray(candidate.jvp(u, "native"), dtype=np.float64)
    with np.errstate(all="ignore"):
        value = float(w @ jv)
        rounding = abs(float(w @ np.asarray(candidate.jvp(u, "float64"))) - value) if candidate.float64 else 0.0
        rss = float(np.sqrt(np.sum((w * jv) ** 2)))
    return value, rounding, rss, None, None


def projected(subject: Subject, candidates: list[Candidate], settings: Settings,
              rng: np.random.Generator) -> dict[str, ProbeRun]:
    """``settings.probes`` random probes per candidate; failing VJP candidates are
    drilled down to the wrong entries.  Returns a :class:`ProbeRun` per candidate."""
    runs = {c.name: ProbeRun() for c in candidates}
    m = subject.out0.size
    for probe in range(settings.probes):
        u = signs(rng, subject.x.size, settings.directions) * subject.scale
        w = signs(rng, m, settings.directions) if m > 1 else np.ones(1)
        line = Line(subject, u)
        reference = line.derivative(w)
        cache: dict = {}
        for candidate in candidates:
            value, rounding, rss, g, g64 = _project(candidate, w, u, cache)
            scale = max(abs(value), abs(reference.value), rss) if np.isfinite(value) else rss
            tol = tolerance(reference.error if reference.converged else np.inf, rounding, scale,
                            settings)
            comparison = Comparison(candidate.name, value, reference.value, tol, probe=probe)
            run = runs[candidate.name]
            run.comparisons.append(comparison)
            if comparison.failed and not run.kink:
                run.kink = kink_along(line, w)
            if comparison.failed and not run.kink and g is not None and settings.locate and not run.located:
                run.located = locate_inputs(subject, candidate, g, g64, u, w, reference, settings)
    return runs


def kink_along(line: Line, w: np.ndarray) -> str:
    """A description of a kink along the line, when the one-sided derivatives differ."""
    left, right = line.derivative(w, "left"), line.derivative(w, "right")
    if not (left.converged and right.converged):
        return ""
    # One-sided tables converge slowly and their error estimates run small; a kink
    # that changes the slope by less than 0.1% is not told apart from that.
    allowed = 4 * (left.error + right.error) + KINK_RTOL * max(abs(left.value), abs(right.value))
    if abs(left.value - right.value) > allowed:
        return (f"the function has a kink here: its left and right derivatives along the "
                f"probe differ ({left.value:.6g} and {right.value:.6g})")
    return ""


def locate_inputs(subject: Subject, candidate: Candidate, g, g64, u, w, total: Estimate,
                  settings: Settings) -> list[Comparison]:
    """Bisection over blocks of ``u``'s entries: the input entries whose terms are wrong,
    each then located in the output (:func:`locate_output`)."""
    found: list[Comparison] = []
    stack = [(0, u.size, total)]
    while stack and len(found) < MAX_LOCATED:
        lo, hi, estimate = stack.pop()
        if hi - lo == 1:
            found.append(locate_output(subject, candidate, lo, w, settings))
            continue
        mid = (lo + hi) // 2
        half = np.zeros_like(u)
        half[lo:mid] = u[lo:mid]
        left = Line(subject, half).derivative(w)
        right = Estimate(estimate.value - left.value, estimate.error + left.error,
                         left.evaluations, left.converged and estimate.converged)
        for a, b, part in ((mid, hi, right), (lo, mid, left)):
            terms = g[a:b] * u[a:b]
            value = float(np.sum(terms))
            rounding = abs(float(np.sum(g64[a:b] * u[a:b])) - value) if g64 is not None else 0.0
            scale = max(abs(value), abs(part.value), float(np.sqrt(np.sum(terms ** 2))))
            tol = tolerance(part.error if part.converged else np.inf, rounding, scale,
                            settings)
            if Comparison(candidate.name, value, part.value, tol).failed:
                stack.append((a, b, part))
    return found


def locate_output(subject: Subject, candidate: Candidate, entry: int, w: np.ndarray,
                  settings: Settings) -> Comparison:
    """The wrong Jacobian entry in column ``entry``: bisection over the cotangent's
    entries along that input entry's line.  Values are per unit of the input entry."""
    direction = np.zeros_like(subject.x)
    step = float(subject.scale[entry])
    direction[entry] = step
    line = Line(subject, direction)
    m = w.size
    lo, hi, estimate = 0, m, line.derivative(w)
    comparison = _entry_comparison(candidate, w, entry, estimate, step, settings)
    while hi - lo > 1 and comparison.failed:
        mid = (lo + hi) // 2
        narrowed = None
        for a, b in ((lo, mid), (mid, hi)):
            part_w = np.zeros_like(w)
            part_w[a:b] = w[a:b]
            part = _entry_comparison(candidate, part_w, entry, line.derivative(part_w, window=slice(a, b)),
                                     step, settings)
            if part.failed:
                narrowed = (a, b, part)
                break
        if narrowed is None:
            break   # the error is spread over both halves: stop at this block
        lo, hi, comparison = narrowed
    if hi - lo == 1 and m > 1:
        # One output entry: report the Jacobian entry itself, not the signed term.
        sign = w[lo]
        comparison = Comparison(comparison.method, comparison.value * sign, comparison.reference * sign,
                                comparison.tolerance, output_entry=lo)
    comparison.input_entry = entry
    return comparison


def _entry_comparison(candidate, w, entry, estimate: Estimate, step, settings) -> Comparison:
    g = np.asarray(candidate.vjp(w, "native"), dtype=np.float64)
    value = float(g[entry])
    rounding = (abs(float(np.asarray(candidate.vjp(w, "float64"))[entry]) - value)
                if candidate.float64 else 0.0)
    reference = estimate.value / step
    scale = max(abs(value), abs(reference))
    tol = tolerance(estimate.error / step if estimate.converged else np.inf, rounding, scale,
                    settings)
    return Comparison(candidate.name, value, reference, tol)

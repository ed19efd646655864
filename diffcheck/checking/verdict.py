"""The verdict on one point: every method's answer compared with the reference.

The harness produces data (:class:`CheckResult`, :class:`Discrepancy`); reporters
turn it into text.  :func:`judge` is the one place a verdict is decided, for
:func:`~diffcheck.checking.harness.check_expr` and
:func:`~diffcheck.checking.batch.check_points` alike (the batch screen only
clears points whose every comparison passes without any rounding allowance,
which :func:`classify` would pass too).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from diffcheck.backends import (
    BACKENDS,
    ERROR,
    REFERENCE,
    SKIPPED,
    UNSUPPORTED,
    Gradient,
    Problem,
    run_backend,
)
from diffcheck.checking.tolerances import (
    DEFAULT_TOLERANCES,
    Tolerances,
    comparison_tolerance,
    no_rounding,
    rounding_scale,
)
from diffcheck.language.expr import Apply, evaluate, postorder
from diffcheck.language.screen import domain_hazard, kinks_reached
from diffcheck.vocabulary import AGREE, DISCREPANCY, INCONCLUSIVE, NONDIFFERENTIABLE, OUTSIDE_DOMAIN
from diffcheck.backends.numeric import partials


@dataclass
class Discrepancy:
    """The worst entry at which one backend disagrees with the reference."""

    backend: str
    variable: str        # a wrt name, or "" for the function value
    index: tuple
    value: float
    reference: float
    abs_error: float
    rel_error: float
    tolerance: float
    reference_backend: str = REFERENCE

    def describe(self) -> str:
        what = f"d/d{self.variable}{list(self.index) if self.index else ''}" if self.variable else "value"
        return (f"{self.backend} {what} = {self.value:.17g}, {self.reference_backend} gives "
                f"{self.reference:.17g} (abs error {self.abs_error:.3g}, rel error "
                f"{self.rel_error:.3g}, tolerance {self.tolerance:.3g})")


@dataclass
class CheckResult:
    """The outcome of cross-checking one expression at one point."""

    expression: str
    point: dict[str, np.ndarray]
    wrt: list[str]
    verdict: str
    reason: str = ""
    value: float = float("nan")
    results: dict[str, Gradient] = field(default_factory=dict)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    kinks: list[str] = field(default_factory=list)
    one_sided: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    tolerances: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    reference: str = REFERENCE

    @property
    def gradients(self) -> dict[str, dict[str, np.ndarray | float]]:
        """Backend name to variable name to gradient (float for scalars)."""
        return {name: {var: (float(g) if np.ndim(g) == 0 else g) for var, g in r.gradients.items()}
                for name, r in self.results.items() if r.ok}

    @property
    def ok(self) -> bool:
        return self.verdict in (AGREE, NONDIFFERENTIABLE, OUTSIDE_DOMAIN)

    def __repr__(self) -> str:
        # What a REPL shows: the verdict and each method's status, not every array.
        methods = ", ".join(f"{name}: {g.status}" for name, g in self.results.items())
        reason = f": {self.reason}" if self.reason else ""
        return (f"<CheckResult {self.expression}: {self.verdict}{reason} ({methods}; "
                f".gradients, .discrepancies, .results)>")


def judge(problem: Problem, point, results: dict[str, Gradient], lazy: bool = False,
          tolerances: Tolerances = DEFAULT_TOLERANCES) -> CheckResult:
    """The verdict on one point from every method's answer there.

    An answer marked ``details["precision"] == "float64"`` is provisional: when
    the verdict is not agreement, its method's precise :meth:`gradient` replaces
    it and the point is judged again.  ``lazy`` is passed on to :func:`classify`,
    and so are ``tolerances``.
    """
    result = CheckResult(problem.text, point, problem.wrt, verdict=AGREE, results=results)
    # One forward pass serves the value and both analyses.
    values = evaluate(problem.expr, point, keep=True)
    result.value = float(values[id(problem.expr)])
    hazard = domain_hazard(problem, point, values)
    result.kinks = kinks_reached(problem, point, values)
    if hazard:
        result.verdict, result.reason = OUTSIDE_DOMAIN, hazard
        return result
    if result.kinks:
        result.one_sided = one_sided_derivatives(problem, point)
        split = _sides_differ(result.one_sided)
        if split:
            result.verdict = NONDIFFERENTIABLE
            result.reason = f"{'; '.join(result.kinks)}: {split}"
            return result
    classify(result, problem, point, lazy, tolerances)
    provisional = [name for name, r in results.items() if r.details.get("precision") == "float64"]
    if result.verdict != AGREE and provisional:
        precise = {**results, **{name: run_backend(BACKENDS[name], problem, point)
                                 for name in provisional}}
        return judge(problem, point, precise, lazy, tolerances)
    return result


def one_sided_derivatives(problem: Problem, point) -> dict[str, dict[str, np.ndarray]]:
    """Left and right numeric derivatives (and their errors) for every ``wrt`` entry."""
    out = {}
    for side in ("left", "right"):
        out[side], out[f"{side}_error"] = {}, {}
        for name in problem.wrt:
            _, values, errors, _ = partials(problem, point, name, kind=side)
            out[side][name], out[f"{side}_error"][name] = values, errors
    return out


def _sides_differ(one_sided) -> str:
    for name, left in one_sided["left"].items():
        right = one_sided["right"][name]
        allowed = one_sided["left_error"][name] + one_sided["right_error"][name]
        allowed = 4 * allowed + 1e-8 * np.maximum(np.abs(left), np.abs(right))
        differ = np.abs(left - right) > allowed
        if np.any(differ):
            index = tuple(int(i) for i in np.argwhere(differ)[0])
            label = _label(name, index)
            return (f"left and right derivatives in {label} differ "
                    f"({float(left[index]):.6g} and {float(right[index]):.6g})")
    return ""


def _label(name: str, index: tuple) -> str:
    return f"{name}{list(index) if index else ''}"


def float64_overflow(reference: Gradient, problem: Problem, grad_rounding) -> str:
    """Why the gradient cannot be computed in float64 here, or ''.

    Either the derivative itself is beyond float64's range (the reference, from
    50-digit arithmetic, is infinite: 1/x at 1e-200), or only an intermediate step
    overflows: float64 gives an infinity where extended precision does not (the
    measured rounding is infinite: x**x at 1e-310, where x**(x-1) = 1e310).
    """
    for name in problem.wrt:
        exact = np.asarray(reference.gradients[name])
        for index in map(tuple, np.argwhere(np.isinf(exact))[:1]):
            return (f"d/d{_label(name, index)} is beyond float64's range "
                    f"({reference.backend} gives {float(exact[index]):g})")
        lost = np.broadcast_to(np.isinf(grad_rounding[name]), np.shape(exact))
        for index in map(tuple, np.argwhere(lost)[:1]):
            return (f"computing d/d{_label(name, index)} overflows float64 in an intermediate "
                    f"step (extended precision does not; {reference.backend} gives "
                    f"{float(exact[index]):.6g})")
    return ""


def _worst(reference: Gradient, candidate: Gradient, name: str | None, rounding,
           tolerances: Tolerances = DEFAULT_TOLERANCES):
    """The entry with the largest error-to-tolerance ratio, as a Discrepancy, or None."""
    if name is None:
        ref, got = np.asarray(reference.value), np.asarray(candidate.value)
    else:
        ref, got = np.asarray(reference.gradients[name]), np.asarray(candidate.gradients[name])
    tol = np.broadcast_to(comparison_tolerance(reference, candidate, name, rounding, tolerances), np.shape(ref))
    with np.errstate(all="ignore"):
        error = np.abs(got - ref)
        error = np.where(np.isnan(error) & ~(np.isnan(got) & np.isnan(ref)), np.inf, error)
        ratio = np.where(np.isfinite(error), error / tol, np.inf)
        # An entry whose error bound is infinite (a finite-difference table that
        # did not converge) cannot disagree with anything.
        ratio = np.where(np.isfinite(tol), ratio, 0.0)
    if not np.any(ratio > 1):
        return None
    index = np.unravel_index(int(np.argmax(ratio)), np.shape(ref)) if np.ndim(ref) else ()
    r, g, e = float(ref[index]), float(got[index]), float(error[index])
    return Discrepancy(candidate.backend, name or "", tuple(int(i) for i in index), g, r, e,
                       e / abs(r) if r else float("inf"), float(tol[index]), reference.backend)


def classify(result: CheckResult, problem: Problem, point, lazy: bool = False,
             tolerances: Tolerances = DEFAULT_TOLERANCES) -> CheckResult:
    """Compare every working backend with the reference and set the verdict.

    With ``lazy``, the float64 rounding is measured only when a comparison fails
    without it: every tolerance grows with the rounding, so an agreement found
    without it stands (the tolerances recorded are then the ones that sufficed).
    """
    working = {n: r for n, r in result.results.items() if r.ok}
    errors = [r for r in result.results.values() if r.status == ERROR]
    if len(working) < 2:
        result.verdict = ERROR if errors else UNSUPPORTED
        failures = "; ".join(f"{r.backend}: {r.reason}" for r in result.results.values() if not r.ok)
        result.reason = "fewer than two methods could differentiate this: " + (
            failures or f"only {', '.join(result.results) or 'no method'} was asked")
        return result
    result.reference = reference_name = _reference_of(working)
    failures = None
    if lazy:
        rounding = no_rounding(problem)
        failures, result.tolerances = _compare(working, reference_name, problem, rounding, tolerances)
    if failures is None or failures:
        rounding = rounding_scale(problem, point, result.results.get("engine"))
        failures, result.tolerances = _compare(working, reference_name, problem, rounding, tolerances)
    overflow = float64_overflow(working[reference_name], problem, rounding[1])
    if overflow:
        result.verdict, result.reason = OUTSIDE_DOMAIN, overflow
        return result
    lost = beyond_float64(problem, point)
    if lost:   # the float64 methods answer a different question: neither agreement nor blame
        result.verdict, result.reason = INCONCLUSIVE, lost
        return result
    fooled = _numeric_fooled(working, failures)
    if fooled:
        # Three exact methods, independent of each other, agree; finite differences
        # alone do not: the samples, not a derivative rule, are wrong here.
        result.results["numeric"] = replace(working.pop("numeric"), status=SKIPPED, reason=fooled)
        failures = {}
    result.discrepancies = _blamed(working, reference_name, failures, problem, rounding, tolerances)
    _settle(result, problem, working[reference_name], errors, fooled)
    return result


def _settle(result: CheckResult, problem: Problem, reference: Gradient, errors: list, fooled: str) -> None:
    """The verdict once the comparisons are made: a discrepancy, a method's error,
    or agreement, which is `inconclusive` when it could not have failed."""
    if result.discrepancies:
        result.verdict = DISCREPANCY
        result.reason = "; ".join(d.describe() for d in result.discrepancies)
    elif errors:
        result.verdict = ERROR
        result.reason = "; ".join(f"{r.backend} failed: {r.reason}" for r in errors)
    elif fooled:
        result.reason = f"numeric {fooled}"
    else:
        undecided, note = undiscriminated(reference, result.tolerances, problem)
        if undecided:
            result.verdict, result.reason = INCONCLUSIVE, undecided
        elif note:
            result.reason = note


#: Ops whose float64 result at an argument beyond 2**53 is meaningless: no two
#: float64 numbers there are closer than 2, so the argument's phase is lost.
PERIODIC = frozenset({"sin", "cos", "tan"})
PHASE_LOST = 2.0 ** 53


def beyond_float64(problem: Problem, point) -> str:
    """Why float64 cannot represent this computation, or ''."""
    periodic = [node for node in postorder(problem.expr)
                if isinstance(node, Apply) and node.op.name in PERIODIC]
    if not periodic:
        return ""
    values = evaluate(problem.expr, point, keep=True)
    for node in periodic:
        argument = np.abs(np.asarray(values[id(node.args[0])], dtype=np.float64))
        if np.any(argument >= PHASE_LOST):
            return (f"{node.op.name} of an argument of size {float(np.max(argument)):.3g}, beyond 2**53: "
                    "float64 keeps no digit of its phase, so no method's float64 answer can be judged")
    return ""


def undiscriminated(reference: Gradient, tolerances: dict, problem: Problem) -> tuple[str, str]:
    """Why the agreement could not have failed (or ''), and a note naming the
    methods that could not tell on some entry while others could (or '').

    A method is blind on an entry when its tolerance is not smaller than the value
    it judges: a wrong answer of the right size (a lost factor of 2, a flipped
    sign) would have agreed too.  An entry whose true value is 0 is judged against
    the largest entry of the gradient instead; a gradient that is 0 everywhere is
    judged by its tolerances being finite.  The agreement is inconclusive when, on
    some entry, every compared method is blind."""
    scale = max((float(np.max(np.abs(reference.gradients[v]), initial=0.0)) for v in problem.wrt), default=0.0)
    blind_somewhere = []
    for name in problem.wrt:
        exact = np.abs(np.asarray(reference.gradients[name], dtype=np.float64))
        judged = np.where(exact > 0, exact, scale)
        blind = {}
        for method, allowed in tolerances.items():
            tol = np.broadcast_to(np.asarray(allowed[name], dtype=np.float64), exact.shape)
            blind[method] = (tol >= judged) & ((judged > 0) | ~np.isfinite(tol))
        if not blind:
            continue
        everyone = np.logical_and.reduce(list(blind.values()))
        for index in map(tuple, np.argwhere(everyone)[:1]):
            tols = ", ".join(f"{m} {float(np.broadcast_to(np.asarray(t[name], dtype=np.float64), exact.shape)[index]):.3g}"
                             for m, t in tolerances.items())
            return (f"on d/d{_label(name, index)} every method's tolerance ({tols}) is at least the value "
                    f"it judges ({float(exact[index]):.3g}): any answer of that size would have agreed", "")
        blind_somewhere += [f"{m} on d/d{_label(name, tuple(np.argwhere(b)[0]))}" for m, b in blind.items() if b.any()]
    note = ("; ".join(dict.fromkeys(blind_somewhere)) + ": could not tell (the tolerance is not below "
            "the value judged); the other methods could, and agree") if blind_somewhere else ""
    return "", note


#: Methods that differentiate exactly (no step, no truncation): when all of them
#: agree and finite differences alone disagree, the finite differences failed.
EXACT = ("symbolic", "engine", "torch")


def _numeric_fooled(working: dict[str, Gradient], failures: dict) -> str:
    """Why the numeric method alone is wrong here, or ''."""
    if set(failures) != {"numeric"} or not all(name in working for name in EXACT):
        return ""
    step = working["numeric"].details.get("step")
    where = f" (first step {step:.3g})" if isinstance(step, float) else ""
    return ("failed here: it disagrees with three exact methods that agree with each other; its "
            f"samples{where} straddle a pole, branch or kink, or the function oscillates faster than its "
            "steps resolve")


def _reference_of(working: dict[str, Gradient]) -> str:
    """The method the others are compared with: the symbolic reference, else numeric."""
    return REFERENCE if REFERENCE in working else (
        "numeric" if "numeric" in working else next(iter(working)))


def _blamed(working, reference_name, failures, problem, rounding, tolerances) -> list[Discrepancy]:
    """Each disagreeing method's worst entry, or the reference's, when it is the odd one out."""
    def worst(found):
        return max(found, key=lambda d: d.abs_error / d.tolerance)

    if failures and _reference_is_odd_one_out(working, reference_name, failures, problem,
                                               rounding, tolerances):
        return [_blame_reference(worst(failures[next(iter(failures))]))]
    return [worst(found) for found in failures.values()]


def _compare(working, reference_name, problem, rounding, tolerances: Tolerances):
    """Each method's worst disagreements with the reference, and its tolerances."""
    value_rounding, grad_rounding = rounding
    reference = working[reference_name]
    failures: dict[str, list[Discrepancy]] = {}
    allowed = {}
    for name, candidate in working.items():
        if name == reference_name:
            continue
        found = [_worst(reference, candidate, None, value_rounding, tolerances)]
        found += [_worst(reference, candidate, var, grad_rounding[var], tolerances) for var in problem.wrt]
        found = [d for d in found if d is not None]
        allowed[name] = {var: np.broadcast_to(
            comparison_tolerance(reference, candidate, var, grad_rounding[var], tolerances),
            problem.shapes[var]) for var in problem.wrt}
        if found:
            failures[name] = found
    return failures, allowed


def _reference_is_odd_one_out(working, reference_name, failures, problem, rounding,
                              tolerances: Tolerances) -> bool:
    """True when every other method disagrees with the reference but they agree
    with each other: then the reference is the one that is wrong."""
    value_rounding, grad_rounding = rounding
    others = [n for n in working if n != reference_name]
    if len(others) < 2 or set(failures) != set(others):
        return False
    anchor = working[others[0]]
    for name in others[1:]:
        for var in [None, *problem.wrt]:
            allowance = value_rounding if var is None else grad_rounding[var]
            if _worst(anchor, working[name], var, allowance, tolerances) is not None:
                return False
    return True


def _blame_reference(d: Discrepancy) -> Discrepancy:
    # Swap roles: the reference's value is the odd one; the others' is the consensus.
    return Discrepancy(d.reference_backend, d.variable, d.index, d.reference, d.value,
                       d.abs_error, d.abs_error / abs(d.value) if d.value else float("inf"),
                       d.tolerance, reference_backend=f"{d.backend} (with the other methods)")

"""The cross-check: every backend against the reference, classified into outcomes.

The harness produces data (:class:`CheckResult`, :class:`Discrepancy`); reporters
turn it into text.  Tolerances are not a fixed ``rtol``: each comparison allows
the reference's own error, the compared backend's error estimate, and the float64
rounding of this gradient at this point, measured by running diffcheck's engine
in float64 and again in extended precision (``numpy.longdouble``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np

from diffcheck.backends import (
    BACKENDS,
    ERROR,
    REFERENCE,
    UNSUPPORTED,
    Gradient,
    Problem,
    run_backend,
)
from diffcheck.errors import ExpressionError, PointError, ShapeError
from diffcheck.language import engine
from diffcheck.language.expr import (
    Apply,
    Expr,
    Var,
    evaluate,
    postorder,
    rounding_jitter,
    to_text,
    variables,
)
from diffcheck.language.parser import check_identifier, parse, parse_value
from diffcheck.vocabulary import (
    AGREE,
    DISCREPANCY,
    NONDIFFERENTIABLE,
    OUTSIDE_DOMAIN,
    VERDICTS,
)

#: Largest number of entries one variable may have.
MAX_ENTRIES = 1_000_000
OUTCOMES = VERDICTS

EPS = float(np.finfo(np.float64).eps)


@dataclass
class Tolerances:
    """How much error a comparison allows, as multiples of measured quantities.

    Set from ``[tool.diffcheck.tolerance]`` in pyproject.toml; the defaults were
    chosen with ``benchmarks/numeric_accuracy.py`` (no false alarm on its corpus,
    a relative error of 1e-7 in any rule caught)."""

    rounding_safety: float = 32.0   # times the measured float64 rounding of the gradient
    estimate_safety: float = 2.0    # times a backend's own error estimate
    floor_ulps: float = 16.0        # relative floor, in units of float64 epsilon


TOLERANCES = Tolerances()
TINY = 1e-300
EXTENDED = np.longdouble if np.finfo(np.longdouble).eps < EPS else None


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


def normalise_point(at: Mapping, where: str = "point") -> dict[str, np.ndarray]:
    """Variable values as float64 arrays; text values are read as number literals."""
    point = {}
    for name, value in at.items():
        try:
            check_identifier(name)
        except ExpressionError as err:
            raise err.located(where) from None
        if isinstance(value, str):
            value = parse_value(value, where=f"{where}, value of {name}")
        try:
            # A huge array is refused below without first being copied to float64.
            oversized = isinstance(value, np.ndarray) and value.size > MAX_ENTRIES
            array = value if oversized else np.array(value, dtype=np.float64)
        except (TypeError, ValueError, RecursionError):
            raise PointError(f"{where}: the value of {name} is not a number or a "
                             f"rectangular array of numbers") from None
        if array.size > MAX_ENTRIES:
            raise PointError(f"{where}: {name} has {array.size} entries (at most {MAX_ENTRIES})")
        if array.ndim > 2:
            raise PointError(f"{where}: {name} has {array.ndim} axes; variables are scalars, "
                             "vectors or matrices")
        point[name] = array
    return point


def make_problem(expr: str | Expr, point: Mapping[str, np.ndarray],
                 wrt: Iterable[str] | None = None, where: str = "expression") -> Problem:
    """Parse (if needed) and check that the expression is a scalar at this point."""
    tree = parse(expr, point.keys(), where=where) if isinstance(expr, str) else expr
    text = expr if isinstance(expr, str) else to_text(expr)
    used = variables(tree)
    wrt = list(used if wrt is None else wrt)
    for name in wrt:
        if name not in point:
            raise PointError(f"{where}: cannot differentiate with respect to {name!r}: "
                             "it has no value")
    try:
        value = evaluate(tree, point)
    except ShapeError as err:
        raise err.located(where) from None
    if np.ndim(value) != 0:
        raise ShapeError(f"the expression's value has shape {np.shape(value)}; diffcheck "
                         "differentiates scalar expressions (wrap it in sum() or mean())",
                         where=where)
    shapes = {name: point[name].shape for name in point}
    problem = Problem(tree, wrt, shapes, text)
    if isinstance(expr, str):
        problem.cache = compiled_forms(problem)
    return problem


#: How many expressions' compiled forms a run keeps (least recently used dropped).
COMPILED_KEPT = 64
_COMPILED: "OrderedDict[tuple, tuple]" = OrderedDict()


def forget_compiled() -> None:
    """Drop every kept compilation (a benchmark timing compilation calls this)."""
    _COMPILED.clear()


def compiled_forms(problem: Problem) -> dict:
    """The backends' compiled forms of this expression, shared by every problem of
    the run with the same text, shapes, variables and op records.

    A property-based run asks about one expression at point after point, one call
    at a time (and Hypothesis repeats expressions while it shrinks): the symbolic
    derivation is done once.  The key holds the op records themselves, so a test
    that swaps an op's record for a faulty copy gets a fresh compilation.
    """
    ops = tuple(node.op for node in postorder(problem.expr) if isinstance(node, Apply))
    key = (problem.text, tuple(sorted(problem.shapes.items())), tuple(problem.wrt),
           tuple(id(op) for op in ops))
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
    else:
        _COMPILED[key] = (ops, {})   # the ops kept alive, so their ids cannot be reused
        while len(_COMPILED) > COMPILED_KEPT:
            _COMPILED.popitem(last=False)
    return _COMPILED[key][1]


def check_expr(expr: str | Expr, at: Mapping, wrt: Iterable[str] | None = None, *,
               backends: Iterable[str] | None = None, problem: Problem | None = None) -> CheckResult:
    """Cross-check the gradient of ``expr`` at the point ``at``.

    ``at`` maps every variable to a number, nested list or array; ``wrt`` names the
    variables to differentiate with respect to (default: all that appear).
    Returns a :class:`CheckResult` whose ``verdict`` is one of :data:`OUTCOMES`.
    Raises :class:`~diffcheck.errors.DiffcheckError` for malformed input.
    """
    point = normalise_point(at)
    if problem is None:
        problem = make_problem(expr, point, wrt)
    names = list(backends or BACKENDS)
    return judge(problem, point, {name: run_backend(BACKENDS[name], problem, point)
                                  for name in names})


def judge(problem: Problem, point, results: dict[str, Gradient], lazy: bool = False) -> CheckResult:
    """The verdict on one point from every method's answer there.

    An answer marked ``details["precision"] == "float64"`` is provisional: when
    the verdict is not agreement, its method's precise :meth:`gradient` replaces
    it and the point is judged again.  ``lazy`` is passed on to :func:`classify`.
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
    classify(result, problem, point, lazy)
    provisional = [name for name, r in results.items() if r.details.get("precision") == "float64"]
    if result.verdict != AGREE and provisional:
        precise = {**results, **{name: run_backend(BACKENDS[name], problem, point)
                                 for name in provisional}}
        return judge(problem, point, precise, lazy)
    return result


def active_nodes(problem: Problem) -> set[int]:
    """Ids of nodes whose value depends on a ``wrt`` variable through differentiable ops."""
    active: set[int] = set()
    for node in postorder(problem.expr):
        if isinstance(node, Var):
            if node.name in problem.wrt:
                active.add(id(node))
        elif isinstance(node, Apply) and node.op.differentiable:
            if any(id(a) in active for a in node.args):
                active.add(id(node))
    return active


def _where(node: Apply) -> str:
    return f"{node.op.name}" + (f" at column {node.column}" if node.column else "")


def domain_hazard(problem: Problem, point, values=None) -> str:
    """Why the gradient does not exist as a finite number here, or ''.

    ``values`` are the node values of :func:`~diffcheck.language.expr.evaluate` with
    ``keep=True``, when the caller has them already."""
    for name, value in point.items():
        if not np.all(np.isfinite(value)):
            return f"the value of {name} is not finite"
    if values is None:
        values = evaluate(problem.expr, point, keep=True)
    active = active_nodes(problem)
    for node in postorder(problem.expr):
        if not isinstance(node, Apply) or id(node) not in active:
            continue
        args = [values[id(a)] for a in node.args]
        for position, arg in enumerate(node.args):
            if id(arg) not in active:
                continue
            mask = node.op.domain_mask(position, args, node.params)
            if mask is not None and not np.all(mask):
                return (f"{_where(node)}: argument {position + 1} is outside the domain of the "
                        f"derivative ({node.op.domain_text})")
        if not np.all(np.isfinite(values[id(node)])):
            return f"{_where(node)}: the value is not finite"
    return ""


def kinks_reached(problem: Problem, point, values=None) -> list[str]:
    """The non-differentiable points of ops that this point sits exactly on."""
    if values is None:
        values = evaluate(problem.expr, point, keep=True)
    active = active_nodes(problem)
    found = []
    for node in postorder(problem.expr):
        if not isinstance(node, Apply) or node.op.kink is None:
            continue
        if not any(id(a) in active for a in node.args):
            continue
        mask = node.op.kink_mask([values[id(a)] for a in node.args], node.params)
        if np.any(mask):
            found.append(f"{_where(node)} is at its kink ({node.op.kink_text})")
    return found


def one_sided_derivatives(problem: Problem, point) -> dict[str, dict[str, np.ndarray]]:
    """Left and right numeric derivatives (and their errors) for every ``wrt`` entry."""
    from diffcheck.backends.numeric import partials
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


def rounding_scale(problem: Problem, point, engine_result: Gradient | None = None
                   ) -> tuple[float, dict[str, np.ndarray]]:
    """How far float64 rounding can move the value and gradient at this point.

    Measured by running diffcheck's engine against extended precision
    (``numpy.longdouble``): it tracks cancellation and ill-conditioning that a
    fixed relative tolerance cannot.  Three samples of the rounding, the largest
    taken: the engine in float64 (one sample, which can be zero by luck where
    another method's different order of operations is not); in float32, scaled
    down by the ratio of the two epsilons (the same sensitivity with rounding 2**29
    times larger, so luck rarely hides it); and in float64 with every op's result
    and every gradient contribution moved by one rounding at random (a reduction's
    result by one rounding of its terms' magnitudes)
    (:data:`MCA_COPIES` seeded copies: what any other correct order of operations
    could get, such as torch computing ``1 - s`` from a sigmoid ``s`` one unit
    away from the engine's).  Where extended precision is unavailable, zero (the
    relative floor then applies alone).  ``engine_result``, the engine backend's
    float64 answer when it has one, saves running the float64 pass again.
    """
    zeros = {name: np.zeros(problem.shapes[name]) for name in problem.wrt}
    if EXTENDED is None:
        return 0.0, zeros
    jitter = rounding_jitter(np.random.default_rng(MCA_SEED))

    try:
        if engine_result is not None and engine_result.ok:
            v64, g64 = engine_result.value, engine_result.gradients
        else:
            v64, g64 = engine.value_and_grad(problem.expr, point, problem.wrt, np.float64)
        vld, gld = engine.value_and_grad(problem.expr, point, problem.wrt, EXTENDED)
        v32, g32 = engine.value_and_grad(problem.expr, point, problem.wrt, np.float32)
        moved = [engine.value_and_grad(problem.expr, point, problem.wrt, np.float64, jitter)
                 for _ in range(MCA_COPIES)]
    except MemoryError:
        raise   # the case's outcome (resource_limit), not the method's
    except Exception:  # noqa: BLE001 - the engine's own failure is reported by its backend
        return 0.0, zeros

    def scale(x64, x32, xld, xmoved):
        with np.errstate(all="ignore"):
            errors = [np.abs(np.asarray(x).astype(EXTENDED) - xld) for x in (x64, *xmoved)]
            error32 = np.abs(np.asarray(x32).astype(EXTENDED) - xld) * _EPS_RATIO
        error32 = np.where(np.isfinite(error32), error32, 0.0)
        return np.asarray(np.maximum(np.max(errors, axis=0), error32), dtype=np.float64)

    return (float(scale(v64, v32, vld, [m[0] for m in moved])),
            {name: scale(g64[name], g32[name], gld[name], [m[1][name] for m in moved])
             for name in problem.wrt})


#: Monte Carlo arithmetic runs of the engine per measured point, and their seed
#: (fixed, so that reports are reproducible).
MCA_COPIES = 4
MCA_SEED = 20261201


_EPS_RATIO = EPS / float(np.finfo(np.float32).eps)


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


def _tolerance(reference: Gradient, candidate: Gradient, name: str | None, rounding) -> np.ndarray:
    if name is None:
        ref, got = reference.value, candidate.value
        ref_err = cand_err = 0.0
    else:
        ref, got = reference.gradients[name], candidate.gradients[name]
        ref_err, cand_err = reference.errors.get(name, 0.0), candidate.errors.get(name, 0.0)
    scale = np.maximum(np.abs(ref), np.abs(got))
    t = TOLERANCES
    return (t.estimate_safety * (np.asarray(ref_err) + np.asarray(cand_err))
            + t.rounding_safety * np.asarray(rounding) + t.floor_ulps * EPS * scale + TINY)


def _worst(reference: Gradient, candidate: Gradient, name: str | None, rounding):
    """The entry with the largest error-to-tolerance ratio, as a Discrepancy, or None."""
    if name is None:
        ref, got = np.asarray(reference.value), np.asarray(candidate.value)
    else:
        ref, got = np.asarray(reference.gradients[name]), np.asarray(candidate.gradients[name])
    tol = np.broadcast_to(_tolerance(reference, candidate, name, rounding), np.shape(ref))
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


def classify(result: CheckResult, problem: Problem, point, lazy: bool = False) -> CheckResult:
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
    reference_name = REFERENCE if REFERENCE in working else (
        "numeric" if "numeric" in working else next(iter(working)))
    result.reference = reference_name
    failures = None
    if lazy:
        rounding = 0.0, {name: np.zeros(problem.shapes[name]) for name in problem.wrt}
        failures, result.tolerances = _compare(working, reference_name, problem, rounding)
    if failures is None or failures:
        rounding = rounding_scale(problem, point, result.results.get("engine"))
        failures, result.tolerances = _compare(working, reference_name, problem, rounding)
    value_rounding, grad_rounding = rounding
    overflow = float64_overflow(working[reference_name], problem, grad_rounding)
    if overflow:
        result.verdict, result.reason = OUTSIDE_DOMAIN, overflow
        return result

    if failures and _reference_is_odd_one_out(working, reference_name, failures, problem, point,
                                               value_rounding, grad_rounding):
        worst = max(failures[next(iter(failures))], key=lambda d: d.abs_error / d.tolerance)
        result.discrepancies = [_blame_reference(worst)]
    else:
        result.discrepancies = [max(found, key=lambda d: d.abs_error / d.tolerance)
                                for found in failures.values()]
    if result.discrepancies:
        result.verdict = DISCREPANCY
        result.reason = "; ".join(d.describe() for d in result.discrepancies)
    elif errors:
        result.verdict = ERROR
        result.reason = "; ".join(f"{r.backend} failed: {r.reason}" for r in errors)
    return result


def _compare(working, reference_name, problem, rounding):
    """Each method's worst disagreements with the reference, and its tolerances."""
    value_rounding, grad_rounding = rounding
    reference = working[reference_name]
    failures: dict[str, list[Discrepancy]] = {}
    tolerances = {}
    for name, candidate in working.items():
        if name == reference_name:
            continue
        found = [_worst(reference, candidate, None, value_rounding)]
        found += [_worst(reference, candidate, var, grad_rounding[var]) for var in problem.wrt]
        found = [d for d in found if d is not None]
        tolerances[name] = {var: np.broadcast_to(
            _tolerance(reference, candidate, var, grad_rounding[var]), problem.shapes[var])
            for var in problem.wrt}
        if found:
            failures[name] = found
    return failures, tolerances


def _reference_is_odd_one_out(working, reference_name, failures, problem, point,
                              value_rounding, grad_rounding) -> bool:
    """True when every other method disagrees with the reference but they agree
    with each other: then the reference is the one that is wrong."""
    others = [n for n in working if n != reference_name]
    if len(others) < 2 or set(failures) != set(others):
        return False
    anchor = working[others[0]]
    for name in others[1:]:
        for var in [None, *problem.wrt]:
            rounding = value_rounding if var is None else grad_rounding[var]
            if _worst(anchor, working[name], var, rounding) is not None:
                return False
    return True


def _blame_reference(d: Discrepancy) -> Discrepancy:
    # Swap roles: the reference's value is the odd one; the others' is the consensus.
    return Discrepancy(d.reference_backend, d.variable, d.index, d.reference, d.value,
                       d.abs_error, d.abs_error / abs(d.value) if d.value else float("inf"),
                       d.tolerance, reference_backend=f"{d.backend} (with the other methods)")

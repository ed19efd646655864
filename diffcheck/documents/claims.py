"""Checking what a document claims: values, gradients, formulas, derivations.

Each check yields :class:`Finding` records: the claim as written, the true value,
the tolerance it was read at, a status (``confirmed``, ``refuted``, ``undecided``)
and, for a refuted claim, the diagnoses the numbers support.  Scenarios
(accumulated gradients, descent trajectories) live in :mod:`diffcheck.documents.scenarios`.
"""

from __future__ import annotations

import numpy as np

from diffcheck.checking.diagnosis import Context, Diagnosis, diagnose, diagnose_relation
from diffcheck.checking.harness import (
    DISCREPANCY,
    NONDIFFERENTIABLE,
    OUTSIDE_DOMAIN,
    CheckResult,
    check_expr,
    make_problem,
)
from diffcheck.checking.tolerances import DEFAULT_TOLERANCES, Tolerances
from diffcheck.documents import derivations, equivalence, hypotheses
from diffcheck.documents.catalogue import Case, Claim
from diffcheck.documents.findings import Finding
from diffcheck.checking.precision import claimed as read_claimed
from diffcheck.checking.precision import shows_as
from diffcheck.language.engine import value_and_grad
from diffcheck.language.expr import Var, apply_numpy, evaluate, fold
from diffcheck.vocabulary import CONFIRMED, REFUTED, UNDECIDED  # noqa: F401


class CaseRun:
    """One case being checked: cross-check results cached by expression, point and wrt."""

    def __init__(self, case: Case, backends=None, tolerances: Tolerances = DEFAULT_TOLERANCES):
        self.case = case
        self.backends = backends
        self.tolerances = tolerances
        self.checks: list[CheckResult] = []
        self.scenarios: list = []   # ScenarioCheck records, from diffcheck.documents.scenarios
        self.memo: dict = {}        # scenario runs shared by claims that describe the same run
        self._cache: dict[tuple, CheckResult] = {}
        self._compiled: dict[tuple, dict] = {}

    def check(self, tree, point, wrt) -> CheckResult:
        key = (id(tree), _point_key(point), tuple(wrt))
        if key not in self._cache:
            problem = make_problem(tree, point, wrt, where=self.case.locate("expression"))
            # Compiled forms depend on the expression and the shapes, not on the
            # values: the case's points (and a descent's steps) share one compilation.
            shapes = tuple(sorted(problem.shapes.items()))
            problem.cache = self._compiled.setdefault((id(tree), shapes, tuple(problem.wrt)), problem.cache)
            result = check_expr(tree, point, wrt, backends=self.backends, problem=problem,
                                tolerances=self.tolerances)
            self._cache[key] = result
            self.checks.append(result)
        return self._cache[key]

    def finding(self, claim: Claim, subject: str, status: str, message: str, **extra) -> Finding:
        return Finding(claim.number, claim.kind, subject, status, message, where=claim.where,
                       quote=claim.quote, note=claim.note, **extra)


def _point_key(point) -> tuple:
    return tuple((name, value.shape, value.tobytes()) for name, value in sorted(point.items()))


def true_gradient(result: CheckResult, wrt: str):
    """The gradient the cross-check stands behind: the reference's, or the other
    methods' consensus when the reference was the odd one out."""
    working = result.gradients
    blamed = any(d.backend == result.reference for d in result.discrepancies)
    if not blamed and result.reference in working:
        return working[result.reference][wrt], result.reference
    for name in ("numeric", "engine", "torch"):
        if name in working and name != result.reference:
            return working[name][wrt], name
    return None, ""


def _describe_point(case: Case, point) -> str:
    changed = [n for n in point if not np.array_equal(point[n], case.point[n])]
    if not changed:
        return "at the case's point"
    return "at " + ", ".join(f"{n} = {np.array2string(point[n], precision=6)}" for n in changed)


def _shape_note(true, value) -> str:
    return "" if np.shape(true) == np.shape(value) else f" (claimed shape {np.shape(value)}, true {np.shape(true)})"


def float32_allowance(true, computed_in_float32) -> np.ndarray:
    """What float32 arithmetic may move a printed number: twice the difference the
    float32 computation shows here, plus a few float32 ulps of the value.

    A document whose code runs in float32 prints ``2673.9028`` where the exact
    value 2673.902852 would round to ``2673.9029``: the last printed digit is
    the float32 computation's, not a mistake."""
    true = np.asarray(true, float)
    return 2 * np.abs(np.asarray(computed_in_float32, float) - true) + 4 * float(np.finfo(np.float32).eps) * np.abs(true)


def rounding_of_inputs(case, point, quantity) -> np.ndarray | float:
    """How far the claim's quantity may move when inputs are known only to the
    digits a document printed (``rounded_inputs``: a value read from a printed
    random tensor, 0.2934 for -0.29337...): each entry moved by half a unit of
    its last digit, one at a time, both ways; the changes added up (a linear
    bound, enough for the half-unit moves involved)."""
    if not case.rounded_inputs:
        return 0.0
    base = np.asarray(quantity(point), float)
    spread = np.zeros(np.shape(base))
    for name, unit in case.rounded_inputs.items():
        for index in np.ndindex(*np.shape(point[name])):
            moved = []
            for sign in (1.0, -1.0):
                shifted = {**point, name: np.array(point[name], dtype=float)}
                shifted[name][index] += sign * unit / 2
                moved.append(np.abs(np.asarray(quantity(shifted), float) - base))
            spread = spread + np.maximum(*moved)
    return spread


def _value_in_float32(tree, point) -> np.ndarray:
    """The forward value computed in float32 throughout, constants included."""
    def leaf(node):
        value = point[node.name] if isinstance(node, Var) else node.value
        return np.asarray(value, dtype=np.float32)

    with np.errstate(all="ignore"):
        return fold(tree, leaf, lambda node, args: apply_numpy(node, args).astype(np.float32))


def compare_claimed(run: CaseRun, claim: Claim, subject: str, text: str, true, context: Context,
             relation: str = "=", evidence: dict | None = None, allowance=0.0) -> Finding:
    value, tolerance = read_claimed(text, where=run.case.locate(claim.label))
    if np.shape(allowance) in ((), np.shape(tolerance)):
        tolerance = tolerance + allowance
    if not np.all(np.isfinite(np.asarray(true, float))):
        return run.finding(claim, subject, UNDECIDED, f"{subject}: the true value is not finite here "
                           f"({_short(true)})", claimed=text, true=np.asarray(true, float))
    if relation == "=":
        ok = shows_as(true, value, tolerance)
    else:
        ok = _holds(np.asarray(true, float), relation, value)
    shown_true = np.asarray(true, float)
    if ok:
        return run.finding(claim, subject, CONFIRMED, f"{subject}: {text.strip()} is right",
                           claimed=text, true=shown_true, tolerance=tolerance, evidence=evidence or {})
    if relation == "=":
        diagnoses = diagnose(value, shown_true, tolerance, context)
    else:
        diagnoses = diagnose_relation(relation, value, shown_true, tolerance)
    message = (f"{subject}: the document says {text.strip()}, the true value is "
               f"{_short(shown_true)}{_shape_note(shown_true, value)}")
    if relation != "=":
        message = f"{subject}: the document says it is {relation} {text.strip()}; it is {_short(shown_true)}"
    # A comparison's claim reads as the document's "> 0", not as the bare bound.
    claimed = text if relation == "=" else f"{relation} {text.strip()}"
    return run.finding(claim, subject, REFUTED, message, claimed=claimed, true=shown_true,
                       tolerance=tolerance, diagnoses=diagnoses, evidence=evidence or {})


def _holds(true: np.ndarray, relation: str, value: np.ndarray) -> bool:
    compare = {"!=": np.not_equal, "<": np.less, "<=": np.less_equal,
               ">": np.greater, ">=": np.greater_equal}[relation]
    try:
        return bool(np.all(compare(true, value)))
    except ValueError:
        return False


def _short(x) -> str:
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return f"{float(x):.10g}"
    return np.array2string(x, precision=6, separator=", ", threshold=12)


def check_value(run: CaseRun, claim: Claim) -> list[Finding]:
    case, spec = run.case, claim.spec
    tree = claim.trees.get("expression", case.tree)
    point = claim.trees.get("at", case.point)
    true = equivalence.precise_value(tree, point)
    expression = spec.get("expression", case.expression)
    subject = f"value of {expression} {_describe_point(case, point)}"
    # Recompute as the document's own code would have, in its precision.
    forward = _value_in_float32 if case.dtype == "float32" else evaluate
    context = hypotheses.claim_context(case, point, lambda p: forward(tree, p))
    allowance = 0.0
    if case.dtype == "float32":
        allowance = float32_allowance(true, _value_in_float32(tree, point))
    allowance = allowance + rounding_of_inputs(case, point, lambda at: evaluate(tree, at))
    return [compare_claimed(run, claim, subject, spec["claimed"], true, context, spec.get("relation", "="),
                     allowance=allowance)]


def check_gradient(run: CaseRun, claim: Claim) -> list[Finding]:
    case, spec = run.case, claim.spec
    tree = claim.trees.get("expression", case.tree)
    point = claim.trees.get("at", case.point)
    wrt = spec["wrt"]
    subject = f"d/d{wrt} of {spec.get('expression', case.expression)} {_describe_point(case, point)}"
    result = run.check(tree, point, [wrt])
    if result.verdict in (NONDIFFERENTIABLE, OUTSIDE_DOMAIN):
        return [run.finding(claim, subject, UNDECIDED, f"{subject}: {result.reason}", claimed=spec["claimed"])]
    true, source = true_gradient(result, wrt)
    if true is None:
        return [run.finding(claim, subject, UNDECIDED, f"{subject}: no method could differentiate "
                            f"this ({result.reason})", claimed=spec["claimed"])]
    earlier = []
    for other in claim.trees.get("earlier", []):
        found, _ = true_gradient(run.check(other, point, [wrt]), wrt)
        if found is not None:
            earlier.append(np.asarray(found, float))

    context = hypotheses.claim_context(case, point, hypotheses.gradient_of(tree, wrt), tree, wrt)
    context.earlier_gradients = earlier
    evidence = {"reference": source, "cross_check": result.verdict}
    allowance = 0.0
    if case.dtype == "float32":
        single = {k: v.astype(np.float32) for k, v in point.items()}
        allowance = float32_allowance(true, value_and_grad(tree, single, [wrt], dtype=np.float32)[1][wrt])
    allowance = allowance + rounding_of_inputs(
        case, point, lambda at: value_and_grad(tree, at, [wrt], dtype=np.float64)[1][wrt])
    finding = compare_claimed(run, claim, subject, spec["claimed"], true, context, evidence=evidence,
                       allowance=allowance)
    if result.verdict == DISCREPANCY:
        finding.message += f" (the methods disagree here: {result.reason})"
    return [finding]


def check_formula(run: CaseRun, claim: Claim) -> list[Finding]:
    case, spec = run.case, claim.spec
    tree = claim.trees.get("expression", case.tree)
    target = equivalence.Derivative(tree, spec["wrt"])
    subject = f"d/d{spec['wrt']} of {spec.get('expression', case.expression)} = {spec['formula']}"
    verdict = equivalence.compare(run.case, claim, target, claim.trees["formula"])
    return [_equivalence_finding(run, claim, subject, spec["formula"], target, verdict)]


def check_derivation(run: CaseRun, claim: Claim) -> list[Finding]:
    case, spec = run.case, claim.spec
    steps = claim.trees["steps"]
    if "wrt" in spec:
        target = equivalence.Derivative(claim.trees.get("expression", case.tree), spec["wrt"])
        against = f"d/d{spec['wrt']} of {spec.get('expression', case.expression)}"
        numbered = list(enumerate(steps, start=1))
    elif "expression" in claim.trees:
        target = equivalence.Value(claim.trees["expression"])
        against = spec["expression"]
        numbered = list(enumerate(steps, start=1))
    else:
        target = equivalence.Value(steps[0])
        against = f"step 1, {spec['steps'][0]}"
        numbered = list(enumerate(steps, start=1))[1:]
    checked = []
    for number, step in numbered:
        text = spec["steps"][number - 1]
        subject = f"step {number} of {len(steps)}: {text} = {against}"
        verdict = equivalence.compare(run.case, claim, target, step)
        finding = _equivalence_finding(run, claim, subject, text, target, verdict)
        checked.append(derivations.Step(number, text, step, finding, verdict))
    derivations.diagnose_steps(checked, against)
    return [s.finding for s in checked]


def _equivalence_finding(run, claim, subject, text, target, verdict) -> Finding:
    evidence = {"proof": verdict.proof, "points_checked": verdict.points_checked}
    if verdict.status == CONFIRMED:
        how = ("the difference simplifies to zero" if verdict.proof == "symbolic"
               else f"equal at {verdict.points_checked} points (SymPy could not simplify the difference"
                    f"{': ' + verdict.reason if verdict.reason else ''})")
        return run.finding(claim, subject, CONFIRMED, f"{subject}: right ({how})", claimed=text,
                           evidence=evidence)
    if verdict.status == UNDECIDED:
        return run.finding(claim, subject, UNDECIDED, f"{subject}: {verdict.reason}", claimed=text,
                           evidence=evidence)
    evidence.update(verdict.counterexample)
    diagnoses = _formula_diagnoses(verdict, run.case, target)
    return run.finding(claim, subject, REFUTED, f"{subject}: wrong; {verdict.reason}", claimed=text,
                       true=verdict.counterexample.get("true"), diagnoses=diagnoses, evidence=evidence)


def _formula_diagnoses(verdict, case, target) -> list[Diagnosis]:
    """Diagnose a wrong formula from its values at every sample point at once, so a
    constant factor must hold everywhere, not by coincidence at one point."""
    claimed, true, tolerance = verdict.claimed_values, verdict.true_values, verdict.tolerances
    if verdict.scalar_claim:
        # One scalar given for a vector: is it the sum of the entries everywhere?
        axes = tuple(range(1, true.ndim))
        if np.allclose(claimed.reshape(len(claimed), -1)[:, 0], true.sum(axis=axes), rtol=1e-9, atol=1e-12):
            return [Diagnosis("shared_scalar", "the formula is the sum of the gradient's entries: the "
                              "vector parameter was treated as one scalar shared by every entry",
                              f"at {len(true)} points the formula equals the sum of the true entries")]
    context = hypotheses.formula_context(case, target, verdict.points, true)
    found = diagnose(claimed, true, tolerance, context)
    # Entry-level explanations would name sample points, not entries of the formula.
    return [d for d in found if d.kind != "entry"] or [Diagnosis(
        "unexplained", "no known mistake reproduces the formula", f"checked at {len(true)} points")]


def check_runs(run: CaseRun, claim: Claim) -> list[Finding]:
    """A document's code that would fail if run (found statically by the code
    reader, never by running it): the document implies it runs; it does not."""
    error = claim.spec["error"]
    return [run.finding(claim, "the code runs", REFUTED, f"this code cannot run: {error}",
                        claimed="runs", diagnoses=[Diagnosis("cannot_run", f"running it would fail: {error}", "")])]


CHECKERS = {"value": check_value, "gradient": check_gradient, "formula": check_formula,
            "derivation": check_derivation, "runs": check_runs}


"""Plot data for one case: what the HTML report draws beside the verdicts.

Two views of one entry of one differentiated variable (the first entry of the
case's first ``wrt`` variable, else of the expression's first variable):

``slice``
    the function and every method's derivative along a line through the case's
    point, varying that entry alone over ``[x0 - s, x0 + s]`` with
    ``s = 0.5 * max(1, |x0|)``.  Methods that agree draw one curve; a wrong rule
    shows as a curve of its own, and a kink or a domain edge shows where it is.
``steps``
    the error of a plain central difference ``(f(x+h) - f(x-h)) / 2h`` against
    the reference derivative, for ``h = 1, 0.1, ..., 1e-12``: truncation error
    falling as ``h**2``, then rounding error growing as ``1/h``, the reason the
    numeric backend extrapolates instead of taking one small step.  The numeric
    backend's own error and error estimate at the point go beside it.

Everything returned is plain JSON data (:func:`diffcheck.reports.records.array` and
``number`` spell non-finite values as strings); reporters only draw it.
A method that fails at a sample gives ``"nan"`` there, with its status.
"""

from __future__ import annotations

import zlib

import numpy as np

from diffcheck.backends import BACKENDS, OK, SKIPPED, Problem
from diffcheck.backends.sympy_lowering import scalar_op_count
from diffcheck.checking.harness import make_problem, run_backend
from diffcheck.errors import DiffcheckError
from diffcheck.language.expr import Apply, Const, Var, evaluate, substitute, variables
from diffcheck.language.ops import OPS
from diffcheck.plaindata import number
from diffcheck.vocabulary import is_problem

SLICE_SAMPLES = 25         # odd: the middle sample is the case's point, exactly
STEP_EXPONENTS = range(13)  # h = 10**-k
SYMBOLIC, NUMERIC = "symbolic", "numeric"
#: The step errors are measured against the first of these that worked at the point.
REFERENCES = (SYMBOLIC, NUMERIC)
#: SymPy expands every entry into scalar operations, and compiling the expansion
#: grows about quadratically with their number (400-entry vectors take tens of
#: seconds).  The audit has paid that once; above this many operations (the
#: symbolic backend's own count) the profile goes without it rather than pay it
#: again and evaluate it at every sample.  The shipped catalogue needs at most ~120.
MAX_SYMBOLIC_OPERATIONS = 1_000


#: Which cases get plots: those with a finding and a sample of the rest (the
#: default), every case, or none.  A plot costs about what checking its case
#: did, so drawing every case would make the HTML report the audit's main cost.
PLOTS = ("findings", "all", "none")
#: The sample of cases without a finding: one in this many, chosen by a stable
#: hash of the case's id, so the same cases are drawn on every run and machine,
#: whatever the executor or shard.
SAMPLE_ONE_IN = 32


#: Claims about derivatives, whose findings a plot of the derivatives explains; a
#: wrong printed value or descent step is read from the numbers, not a curve.
DERIVATIVE_CLAIMS = ("gradient", "formula", "derivation", "accumulate")


def wanted(case_id: str, result, plots) -> bool:
    """Whether the case with this id gets plot data under the ``plots`` policy
    (one of :data:`PLOTS`; ``True`` means ``"findings"``, a false value none).

    ``result`` is the case's check so far (a
    :class:`~diffcheck.documents.audit.CaseResult`: its ``checks``,
    ``scenarios`` and ``findings`` are read)."""
    policy = "findings" if plots is True else (plots or "none")
    if policy not in PLOTS:
        raise ValueError(f"unknown plots policy {plots!r} (choose from {', '.join(PLOTS)})")
    if policy != "findings":
        return policy == "all"
    return derivative_finding(result) or in_sample(case_id)


def derivative_finding(result) -> bool:
    """Whether the methods disagreed or failed on the case, or a claim about one of
    its derivatives is wrong or could not be checked."""
    return (any(is_problem(c.verdict) for c in result.checks)
            or any(is_problem(s.verdict) for s in result.scenarios)
            or any(is_problem(f.status) and f.kind in DERIVATIVE_CLAIMS for f in result.findings))


def in_sample(case_id: str) -> bool:
    """Whether an agreeing case is one of the drawn sample (crc32 is stable across
    runs and machines, unlike ``hash``)."""
    return zlib.crc32(case_id.encode("utf-8", "surrogatepass")) % SAMPLE_ONE_IN == 0


def profile(case, backends=None) -> dict:
    """The slice and step-size data for ``case`` (a :class:`~diffcheck.documents.catalogue.Case`).

    ``backends`` names the methods to run (default: all of
    :data:`~diffcheck.backends.BACKENDS`).  Never raises for a case's own
    trouble: a case that cannot be profiled (no variable, a point that is not
    finite, an expression that is not a scalar) gives ``{"variable": None,
    "reason": ...}``.  Otherwise the keys are ``variable``, ``index`` (the entry,
    a list), ``entry`` (its label, ``w[0]``), ``point`` (its value ``x0``),
    ``half_width`` (``s``), ``reason`` (``""``), and

    - ``slice``: ``t`` (the samples, ``t[len(t) // 2] == x0``), ``value`` (f at
      each), ``backends``: name to ``derivative`` (df/d entry at each sample),
      ``status`` (the backend's status at each) and ``reason`` (its first failure);
    - ``steps``: ``h``, ``error`` (the central difference's absolute error at
      each), ``reference`` (the backend measured against, or None if none
      worked), ``derivative`` (its value), ``numeric`` (``status``, ``value``,
      ``error``, ``estimate``, ``reason``: the numeric backend at the point).
    """
    entry = chosen_entry(case)
    if entry is None:
        return {"variable": None, "reason": "the expression has no variable to vary"}
    variable, index = entry
    x0 = float(case.point[variable][index])
    if not np.isfinite(x0):
        return {"variable": None, "reason": f"{entry_label(variable, index)} is not finite at the case's point"}
    try:
        problem, place = entry_problem(case.tree, case.point, variable, index)
    except DiffcheckError as err:
        return {"variable": None, "reason": str(err)}
    names = list(backends or BACKENDS)
    half_width = 0.5 * max(1.0, abs(x0))
    # x0 + s*k/m rather than linspace: k = 0 must give x0 itself, bit for bit.
    middle = SLICE_SAMPLES // 2
    ts = [x0 + half_width * k / middle for k in range(-middle, middle + 1)]
    try:
        excluded = _excluded(problem, place(x0), names)
        sliced, at_point = _slice(problem, place, ts, names, excluded)
        steps = _steps(problem, place, x0, at_point)
    except DiffcheckError as err:
        return {"variable": None, "reason": str(err)}
    return {"variable": variable, "index": list(index), "entry": entry_label(variable, index),
            "point": number(x0), "half_width": number(half_width), "reason": "",
            "slice": sliced, "steps": steps}


def chosen_entry(case) -> tuple[str, tuple] | None:
    """The variable and index the profile varies: the first entry of ``case.wrt[0]``,
    else of the expression's first variable that has a value; None if there is none."""
    if case.wrt:
        variable = case.wrt[0]
    else:
        candidates = [name for name in variables(case.tree) if name in case.point]
        if not candidates:
            return None
        variable = candidates[0]
    value = np.asarray(case.point[variable])
    if value.size == 0:
        return None
    return variable, (0,) * value.ndim


def entry_label(variable: str, index: tuple) -> str:
    """``x`` for a scalar, ``w[0]``, ``X[0, 0]``: the symbolic backend's spelling."""
    return variable if not index else f"{variable}[{', '.join(map(str, index))}]"


def entry_problem(tree, point, variable: str, index: tuple):
    """A problem whose one differentiated variable is the scalar entry ``variable[index]``.

    Returns ``(problem, place)`` where ``place(t)`` is the point with that entry
    set to ``t``.  A scalar variable is differentiated as it is.  An array
    variable is replaced by ``rest + t * onehot`` (``rest`` the array with the
    entry zeroed): the same numbers in float arithmetic, since ``x + 0`` and
    ``t * 1`` are exact, but every method now differentiates with respect to one
    scalar, so finite differences cost the same for a 10-entry weight vector as
    for a 10,000-entry one.
    """
    if not index:
        problem = make_problem(tree, point, [variable])

        def place_scalar(t):
            return {**point, variable: np.array(t, dtype=np.float64)}

        return problem, place_scalar
    taken = set(point) | set(variables(tree))
    scalar = _fresh(f"{variable}_{'_'.join(map(str, index))}", taken)
    rest_name = _fresh(f"{variable}_rest", taken | {scalar})
    onehot = np.zeros(np.shape(point[variable]))
    onehot[index] = 1.0
    rest = np.array(point[variable], dtype=np.float64)
    rest[index] = 0.0
    replacement = Apply(OPS["add"], (Var(rest_name), Apply(OPS["mul"], (Var(scalar), Const(onehot, "onehot")))))
    rebuilt = substitute(tree, {variable: replacement})
    base = {name: value for name, value in point.items() if name != variable}
    base[rest_name] = rest
    problem = make_problem(rebuilt, {**base, scalar: np.array(point[variable][index])}, [scalar])
    problem.text = f"{problem.text} (as a function of {entry_label(variable, index)})"

    def place_entry(t):
        return {**base, scalar: np.array(t, dtype=np.float64)}

    return problem, place_entry


def _fresh(name: str, taken: set) -> str:
    while name in taken:
        name += "_"
    return name


def _excluded(problem: Problem, point, names) -> dict[str, str]:
    """Backends left out of the profile, with the reason shown in their place."""
    if SYMBOLIC not in names:
        return {}
    operations = scalar_op_count(problem, point)
    if operations <= MAX_SYMBOLIC_OPERATIONS:
        return {}
    return {SYMBOLIC: f"not profiled: expanding the expression takes about {operations:,} scalar "
                       f"operations, over the profile's cap of {MAX_SYMBOLIC_OPERATIONS:,}"}

def _value(problem: Problem, point) -> float:
    return float(evaluate(problem.expr, point))


def _slice(problem: Problem, place, ts, names, excluded):
    """The slice record, and each backend's Gradient at the case's point (the middle sample)."""
    (wrt,) = problem.wrt
    values = []
    derivatives = {name: [] for name in names}
    statuses = {name: [] for name in names}
    reasons = {name: "" for name in names}
    at_point = {}
    middle = len(ts) // 2
    for k, t in enumerate(ts):
        point = place(t)
        value = _value(problem, point)
        values.append(number(value) if np.isfinite(value) else "nan")
        for name in names:
            if name in excluded:
                status, reason, derivative = SKIPPED, excluded[name], float("nan")
            elif not np.isfinite(value):
                # No derivative where the function itself is undefined; asking
                # the methods would only add noise to the plot.
                status, reason, derivative = SKIPPED, "the expression is not finite here", float("nan")
            else:
                gradient = run_backend(BACKENDS[name], problem, point)
                status, reason = gradient.status, gradient.reason
                derivative = float(np.asarray(gradient.gradients[wrt])) if gradient.ok else float("nan")
                if k == middle:
                    at_point[name] = gradient
            derivatives[name].append(number(derivative))
            statuses[name].append(status)
            if status != OK and not reasons[name]:
                reasons[name] = reason
    return {"t": [number(t) for t in ts], "value": values,
            "backends": {name: {"derivative": derivatives[name], "status": statuses[name],
                                "reason": reasons[name]} for name in names}}, at_point


def _steps(problem: Problem, place, x0: float, at_point: dict) -> dict:
    """Plain central-difference errors against the reference, and the numeric backend's own."""
    (wrt,) = problem.wrt
    reference_name = next((n for n in REFERENCES
                           if n in at_point and at_point[n].ok), None)
    reference = (float(np.asarray(at_point[reference_name].gradients[wrt]))
                 if reference_name else float("nan"))
    hs = [10.0 ** -k for k in STEP_EXPONENTS]
    errors = []
    for h in hs:
        # The nominal 2h, not the step the floats actually took: this is the
        # formula as a reader would code it, rounding of x + h included.
        quotient = (_value(problem, place(x0 + h)) - _value(problem, place(x0 - h))) / (2 * h)
        errors.append(number(abs(quotient - reference)))
    numeric = {"status": "not run", "value": "nan", "error": "nan", "estimate": "nan", "reason": ""}
    if NUMERIC in at_point:
        gradient = at_point[NUMERIC]
        numeric["status"], numeric["reason"] = gradient.status, gradient.reason
        if gradient.ok:
            value = float(np.asarray(gradient.gradients[wrt]))
            numeric["value"] = number(value)
            numeric["error"] = number(abs(value - reference))
            numeric["estimate"] = number(float(np.asarray(gradient.errors.get(wrt, np.nan))))
    return {"h": hs, "error": errors, "reference": reference_name, "derivative": number(reference),
            "numeric": numeric}

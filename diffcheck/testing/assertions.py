"""The assertion helper for test suites: :func:`assert_gradients_agree`.

It cross-checks an expression's gradient (:func:`~diffcheck.checking.harness.check_expr`,
or :func:`~diffcheck.checking.batch.check_points` for many points) and raises
:class:`GradientsDisagree`, an ``AssertionError``, with a one-paragraph message
when the methods disagree or one of them fails.

What passes:

* ``agree``;
* ``nondifferentiable`` (a point on a kink or a tie, where no single derivative
  is right), unless ``require_differentiable=True``;
* ``outside_domain`` (no finite float64 gradient exists there: ``log`` at 0, an
  overflow).  Such a point has no gradient to check, so by default
  (``outside_domain="reject"``) inside a Hypothesis test an example whose every
  point is outside the domain is rejected with ``hypothesis.reject()``, which makes Hypothesis draw another instead of
  counting a vacuous pass (and fail as unsatisfiable if nearly every draw is
  outside the domain); outside Hypothesis it passes, as
  :attr:`CheckResult.ok <diffcheck.checking.harness.CheckResult.ok>` says.
  ``outside_domain="pass"`` always passes, ``"fail"`` always fails.
* ``inconclusive`` (the methods agree, but no check could have failed: every
  tolerance on an entry is as large as the value, or float64 cannot represent the
  computation) is treated exactly like ``outside_domain``.

Every result is also handed to the functions in :data:`OBSERVERS`; the pytest
plugin registers one to put the checks of a test run into its reports.  This
module imports nothing heavy until a check runs, so the plugin can import it
while pytest starts.
"""

from __future__ import annotations

import sys
from typing import Callable, Iterable, Mapping

from diffcheck.errors import DiffcheckError, GradientMismatch

#: Called as ``observer(result, provisional)`` after every check made here.
#: ``provisional`` is True for a failing check made while Hypothesis is still
#: searching or shrinking: Hypothesis replays the example it finally reports, and
#: that replay is observed again with ``provisional`` False.
OBSERVERS: list[Callable] = []

#: Option defaults for the test being run (the pytest plugin sets them from the
#: test's ``diffcheck`` marker); arguments given to the helper win over them.
DEFAULTS: dict = {}

OUTSIDE_DOMAIN_POLICIES = ("reject", "pass", "fail")
#: Verdicts where the check could not judge the gradients; ``outside_domain=`` says what they mean.
UNJUDGED = ("outside_domain", "inconclusive")
MAX_SHOWN_ENTRIES = 6    # of an array in a message
CLAIM = "the claim is "  # how a diagnosis (written for a document's claim) begins


class GradientsDisagree(GradientMismatch):
    """An expression whose gradient the methods disagree on (or could not compute).

    ``result`` is the :class:`~diffcheck.checking.harness.CheckResult` the message was
    written from; ``results`` every result of the call (one per point)."""

    def __init__(self, message: str, result, results=()):
        super().__init__(message, result)
        self.results = list(results) or [result]


def assert_gradients_agree(expr, at, wrt: Iterable[str] | None = None, *,
                           backends: Iterable[str] | None = None, require_differentiable: bool | None = None,
                           outside_domain: str | None = None):
    """Cross-check the gradient of ``expr`` and fail the test unless the methods agree.

    ``expr`` is expression text or a parsed expression; ``at`` maps each variable
    to a number, nested list or array, or is a list of such mappings (many points,
    checked in one batch).  ``wrt`` names the variables to differentiate with
    respect to (default: all that appear); ``backends`` the methods to use
    (default: all four).  Returns the :class:`~diffcheck.checking.harness.CheckResult`, or
    the list of them for a list of points.  Raises :class:`GradientsDisagree` on
    a discrepancy, a failed or unsupported method, a kink when
    ``require_differentiable``, and per ``outside_domain`` (see the module's
    documentation); raises :class:`~diffcheck.errors.DiffcheckError` for input
    that is not an expression and point.  Options left at None take the test's
    marker options (:data:`DEFAULTS`), else False, ``"reject"`` and all methods.
    """
    __tracebackhide__ = True   # pytest shows the test's line, not this function's
    backends = DEFAULTS.get("backends") if backends is None else backends
    if require_differentiable is None:
        require_differentiable = bool(DEFAULTS.get("require_differentiable", False))
    outside_domain = outside_domain or DEFAULTS.get("outside_domain", "reject")
    if outside_domain not in OUTSIDE_DOMAIN_POLICIES:
        raise DiffcheckError(f"outside_domain is one of {', '.join(map(repr, OUTSIDE_DOMAIN_POLICIES))}, "
                             f"not {outside_domain!r}")
    many = not isinstance(at, Mapping)
    results = _run(expr, at, wrt, backends, many)
    failures = [r for r in results if _fails(r, require_differentiable, outside_domain)]
    phase = hypothesis_phase()
    for result in results:
        notify(result, provisional=phase == "search" and result in failures)
    if failures:
        first = failures[0]
        where = f" (point {results.index(first) + 1} of {len(results)})" if many else ""
        raise GradientsDisagree(failure_message(first, require_differentiable, where)
                                + _others(failures, results), first, results)
    # An example where no check could tell (outside the domain, or inconclusive)
    # is rejected: Hypothesis draws another instead of counting it as a pass.
    if phase is not None and outside_domain == "reject" and all(r.verdict in UNJUDGED for r in results):
        from hypothesis import reject
        reject()
    return results if many else results[0]


def check_recorded(expr, at, wrt: Iterable[str] | None = None, *, backends: Iterable[str] | None = None):
    """:func:`~diffcheck.checking.harness.check_expr` (or, for a list of points, the batch
    check), observed like :func:`assert_gradients_agree` but never raising for
    the verdict: the caller decides what a verdict means."""
    many = not isinstance(at, Mapping)
    results = _run(expr, at, wrt, DEFAULTS.get("backends") if backends is None else backends, many)
    for result in results:
        notify(result, provisional=False)
    return results if many else results[0]


def _run(expr, at, wrt, backends, many: bool) -> list:
    if many:
        from diffcheck.checking.batch import check_points
        return check_points(expr, list(at), wrt, backends=backends)
    from diffcheck.checking.harness import check_expr
    return [check_expr(expr, at, wrt, backends=backends)]


def _fails(result, require_differentiable: bool, outside_domain: str) -> bool:
    if result.verdict == "agree":
        return False
    if result.verdict == "nondifferentiable":
        return require_differentiable
    if result.verdict in UNJUDGED:
        return outside_domain == "fail"
    return True


def notify(result, provisional: bool) -> None:
    for observer in list(OBSERVERS):
        observer(result, provisional)


def hypothesis_phase() -> str | None:
    """None outside a Hypothesis test; "final" while Hypothesis replays the example
    it reports; "search" while it generates and shrinks."""
    if "hypothesis" not in sys.modules:
        return None   # a Hypothesis test would have imported it
    from hypothesis import control
    if not control.currently_in_test_context():
        return None
    return "final" if getattr(control.current_build_context(), "is_final", False) else "search"


# ---- the message ----------------------------------------------------------------------------

def failure_message(result, require_differentiable: bool = False, where: str = "") -> str:
    """One paragraph: the expression and point, the verdict, and for a discrepancy
    the method that disagrees, its worst entry, both values and the tolerance."""
    head = f"diffcheck: the gradient of {result.expression} at {format_point(result.point)}{where}"
    if result.verdict == "discrepancy":
        worst = max(result.discrepancies, key=lambda d: d.abs_error / d.tolerance)
        what = _entry(worst.variable, worst.index)
        text = (f"{head} is wrong in {worst.backend}: its worst entry is {what}, where {worst.backend} "
                f"gives {float(worst.value)!r} and {worst.reference_backend} gives {float(worst.reference)!r} "
                f"(abs error {worst.abs_error:.3g}, rel error {worst.rel_error:.3g}, tolerance "
                f"{worst.tolerance:.3g}).")
        others = [d for d in result.discrepancies if d is not worst]
        if others:
            text += " Also: " + "; ".join(d.describe() for d in others) + "."
        agreeing = [name for name, r in result.results.items()
                    if r.ok and name != result.reference and name not in {d.backend for d in result.discrepancies}]
        if agreeing:
            text += f" {_join(agreeing)} agree{'s' if len(agreeing) == 1 else ''} with {result.reference}."
        explanation = _diagnosis(result, worst)
        if explanation.startswith(CLAIM):
            text += f" Against {worst.reference_backend}, {worst.backend}'s {what} is {explanation[len(CLAIM):]}."
        elif explanation:
            text += f" Diagnosis of {worst.backend}'s {what}: {explanation}."
        return text
    if result.verdict == "nondifferentiable":
        return (f"{head} does not exist (require_differentiable=True): {result.reason}." if require_differentiable
                else f"{head} does not exist: {result.reason}.")
    if result.verdict == "outside_domain":
        return f"{head} is outside the domain (outside_domain='fail'): {result.reason}."
    return f"{head} could not be checked ({result.verdict}): {result.reason}."


def _diagnosis(result, worst) -> str:
    """What the disagreeing method's gradient looks like against the reference, if known."""
    if not worst.variable:
        return ""
    from diffcheck.checking.diagnosis import UNEXPLAINED, diagnose
    reference = result.results.get(result.reference)
    candidate = result.results.get(worst.backend)
    tolerance = result.tolerances.get(worst.backend, {}).get(worst.variable)
    if reference is None or candidate is None or tolerance is None or not (reference.ok and candidate.ok):
        return ""
    # The disagreeing method's gradient plays the document's claim; the reference, the truth.
    found = diagnose(candidate.gradients[worst.variable], reference.gradients[worst.variable], tolerance)
    return "; ".join(d.explanation for d in found if d.kind != UNEXPLAINED)


def _others(failures: list, results: list) -> str:
    if len(results) == 1 or len(failures) == 1:
        return ""
    more = len(failures) - 1
    return f" {more} other point{'s' if more > 1 else ''} of {len(results)} fail{'' if more > 1 else 's'} too."


def _entry(variable: str, index) -> str:
    if not variable:
        return "the value"
    return f"d/d{variable}{list(index) if index else ''}"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def format_point(point: Mapping) -> str:
    """``x = 0.5, W = [1, 2, ...]``: every variable, long arrays shortened."""
    return ", ".join(f"{name} = {_format_value(value)}" for name, value in point.items())


def _format_value(value) -> str:
    import numpy as np
    value = np.asarray(value, dtype=float)
    if value.ndim == 0:
        return repr(float(value))
    items = [_format_value(v) for v in value[:MAX_SHOWN_ENTRIES]]
    if len(value) > MAX_SHOWN_ENTRIES:
        items.append(f"... ({len(value)} entries)")
    return f"[{', '.join(items)}]"

"""The symbolic reference knows its own error: it evaluates at increasing
precision until two evaluations agree, and says so when they never do."""

from __future__ import annotations

import math

import mpmath
import pytest

from diffcheck.backends import symbolic
from diffcheck.checking.harness import check_expr


def test_a_reference_needing_more_than_50_digits_settles_with_a_true_bound():
    # d/dx sin(exp(exp(x))) = cos(E) * E * exp(x) with E = exp(exp(5)) = e**148.4,
    # about 1e64: at 50 digits E has no digit of its phase left (the old 30-versus-50
    # spread, 2.4e66, was smaller than the 50-digit value's error, 3.1e66).  The true
    # value, from that formula at 300 digits: -1.2199449565301938517e66.
    with mpmath.workdps(300):
        x = mpmath.mpf(5.0)
        E = mpmath.exp(mpmath.exp(x))
        exact = float(mpmath.cos(E) * E * mpmath.exp(x))
    assert exact == pytest.approx(-1.219944956530193851712039e66, rel=1e-15)
    result = check_expr("sin(exp(exp(x)))", {"x": 5.0})
    reference = result.results["symbolic"]
    assert reference.status == "ok"
    got, bound = float(reference.gradients["x"]), float(reference.errors["x"])
    assert abs(got - exact) <= max(bound, 4 * math.ulp(exact))
    assert bound <= 1e-18 * abs(exact)
    # float64 keeps no digit of the phase of e**148: nothing can be judged.
    assert result.verdict == "inconclusive"


def test_a_literal_far_from_1_gets_the_digits_its_cancellation_needs():
    # d/dx [exp(x) - exp(x*(1+c))] = exp(x) - (1+c) exp(x(1+c)) with c = 1e-60; to
    # first order in c this is -exp(x) * c * (1 + x) = -4 e**3 * 1e-60 = -8.0342e-59
    # at x = 3 (the next term is of order c**2).  At 50 digits 1 + c is 1, and 50 and
    # 30 digits agreed on 0: an agreement no method could have failed.
    result = check_expr("exp(x) - exp(x*(1+1e-60))", {"x": 3.0})
    assert float(result.results["symbolic"].gradients["x"]) == pytest.approx(
        -4 * math.exp(3.0) * 1e-60, rel=1e-12)
    # float64 computes 1 + 1e-60 = 1: every float64 method gives 0, within its tolerance.
    assert result.verdict == "inconclusive", result.reason


def test_a_reference_that_never_settles_is_skipped_not_trusted(monkeypatch):
    # With the cap at 50 digits, sin(exp(exp(5))) cannot settle (its phase needs
    # about 85 digits): the reference reports itself skipped, with the reason.
    monkeypatch.setattr(symbolic, "MAX_DIGITS", 50)
    result = check_expr("sin(exp(exp(x)))", {"x": 5.0})
    reference = result.results["symbolic"]
    assert reference.status == "skipped"
    assert "did not settle" in reference.reason


def test_a_well_conditioned_reference_costs_two_evaluations():
    # d/dx x**3 = 3 x**2 = 12 at x = 2: 30 and 50 digits agree at once.
    reference = check_expr("x**3", {"x": 2.0}).results["symbolic"]
    assert float(reference.gradients["x"]) == 12.0
    assert reference.evaluations == 2

"""Finite differences that cannot be fooled silently by their own step sequence."""

from __future__ import annotations

import math

import pytest

from diffcheck.backends.numeric import richardson
from diffcheck.checking.harness import check_expr


@pytest.mark.parametrize("k, x", [(100.0, 0.3), (1850.0, 1.7), (10000.0, 1.7)])
def test_an_oscillation_the_halving_steps_alias_is_caught_and_resolved(k, x):
    # d/dx sin(k x) = k cos(k x).  With k = 100 at x = 0.3 the steps 0.125, 0.0625,
    # 0.03125 give k h = 12.5, 6.25 (about 2 pi), 3.125 (about pi): the quotients
    # sin(k h)/(k h) * k cos(k x) are all near 0 and the table "converged" on -0.08
    # (true: 100 cos 30 = 15.425).  A quotient at a step off that grid exposes it,
    # and the table restarts with steps that resolve the period.
    exact = k * math.cos(k * x)
    estimate = richardson(lambda t: (math.sin(k * t), None), x, math.sin(k * x))
    assert estimate.converged
    assert abs(estimate.value - exact) <= max(estimate.error, 1e-9 * abs(k))
    assert estimate.value == pytest.approx(exact, rel=1e-7)


@pytest.mark.parametrize("k", [100.0, 1850.0, 10000.0])
def test_the_numeric_method_is_right_or_says_it_cannot_tell_on_a_fast_oscillation(k):
    # Period 2 pi / 1850 = 0.0034 (the example).  The numeric method is
    # not fooled: its estimate is k cos(k x) within its error bound, or its bound is
    # infinite (it could not tell); it is never reported fooled by the harness.
    result = check_expr(f"sin({k}*x)", {"x": 0.3})
    assert result.verdict == "agree", result.reason
    numeric = result.results["numeric"]
    assert numeric.status == "ok"
    exact = k * math.cos(k * 0.3)
    error = float(numeric.errors["x"])
    assert abs(float(numeric.gradients["x"]) - exact) <= error
    if k == 100.0:   # steps of 0.125/16 resolve a period of 0.063
        assert numeric.gradients["x"] == pytest.approx(exact, rel=1e-7)


def test_a_smooth_table_is_not_taken_for_an_aliased_one():
    # d/dx exp(x) at 1 is e; the off-grid quotient sits where c h**2 puts it.
    estimate = richardson(lambda t: (math.exp(t), None), 1.0, math.e)
    assert estimate.converged and estimate.value == pytest.approx(math.e, rel=1e-13)

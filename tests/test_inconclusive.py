"""`inconclusive`: the methods agree, but the check could not have failed.

And the numeric method fooled where three exact methods agree is reported as
the numeric method's failure, not as a discrepancy."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from diffcheck.checking.harness import check_expr
from diffcheck.testing.assertions import assert_gradients_agree


@pytest.mark.parametrize("x", [1e38, -3e20, 2.0 ** 60])
def test_a_periodic_function_of_an_argument_beyond_2_53_is_inconclusive(x):
    # Past 2**53 neighbouring float64 numbers are 2 or more apart, wider than a
    # period of sin: the float64 methods cannot know the phase they differentiate at.
    result = check_expr("sin(x) * x", {"x": x})
    assert result.verdict == "inconclusive"
    assert "beyond 2**53" in result.reason and not result.discrepancies


def test_cos_at_the_top_of_float64_is_not_a_discrepancy():
    result = check_expr("cos(x)", {"x": 2.0 ** 1023})
    assert result.verdict in ("inconclusive", "outside_domain"), result.reason


def test_a_cancelling_derivative_smaller_than_every_tolerance_is_inconclusive():
    # d/dx [exp(x) - exp(x)*c] = exp(x)(1 - c) with c = 1 + 2**-50 (1 + 1e-15 as a
    # float64 rounds to 1 + 5 * 2**-52 = 1 + 1.11e-15): about -2.2e-14 at x = 3,
    # while rounding of the two terms of size 20 is about 20 * 2**-52 = 4.4e-15 each
    # and the numeric table cannot resolve it: no method can tell it from, say, 0.
    result = check_expr("exp(x) - exp(x)*(1+1e-15)", {"x": 3.0})
    assert result.verdict == "inconclusive"
    assert "at least the value it judges" in result.reason


def test_a_well_conditioned_agreement_stays_agree():
    # d/dx x**2 = 6 at 3; every tolerance is a few ulps of 6.
    result = check_expr("x**2", {"x": 3.0})
    assert result.verdict == "agree" and result.reason == ""


def test_the_first_step_straddling_a_pole_blames_the_numeric_method_not_the_gradient():
    # x1**5/x2**3 with x2 = 0.0315: a first step of 0.125 crosses the pole x2 = 0.
    x1, x2 = -0.9421629873898021, 0.031455984976756834
    result = check_expr("x1**5/x2**3", {"x1": x1, "x2": x2})
    assert result.verdict == "agree", result.reason
    assert not result.discrepancies
    assert result.results["numeric"].status == "skipped"
    assert "numeric failed here" in result.reason
    # By hand: d/dx2 = -3 x1**5 / x2**4.
    for method in ("symbolic", "engine", "torch"):
        assert result.gradients[method]["x2"] == pytest.approx(-3 * x1 ** 5 / x2 ** 4, rel=1e-12)


def test_a_fast_oscillation_is_no_discrepancy():
    # Period 2*pi/1850 = 0.0034, far below the numeric method's first steps.
    result = check_expr("sin(1850*x)", {"x": 0.3})
    assert result.verdict in ("agree", "inconclusive") and not result.discrepancies
    assert result.gradients["engine"]["x"] == pytest.approx(1850 * math.cos(555.0), rel=1e-12)


def test_check_exits_3_when_inconclusive():
    done = subprocess.run([sys.executable, "-m", "diffcheck", "check", "sin(x)", "--at", "x=1e38"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "inconclusive" in done.stdout


def test_an_inconclusive_example_is_rejected_by_hypothesis_not_passed():
    @settings(max_examples=5, database=None)
    @given(st.sampled_from([1e38, 3e38]))
    def always_inconclusive(x):
        assert_gradients_agree("sin(x)", {"x": x})

    with pytest.raises(Unsatisfiable):
        always_inconclusive()


def test_outside_hypothesis_an_inconclusive_check_does_not_fail_the_assertion():
    assert assert_gradients_agree("sin(x)", {"x": 1e38}).verdict == "inconclusive"

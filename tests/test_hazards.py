"""Numerical hazards end in an outcome, never an exception or a false discrepancy.

Each expected verdict is derived from the mathematics of the point:

* ``agree``: the derivative exists and is a finite float64 number (the value
  given is the hand-derived derivative);
* ``outside_domain``: the value or the derivative is not a finite float64
  number (a non-finite input, overflow, a pole or a boundary of the function's
  domain), or the point is where an op's derivative does not exist.
"""

from __future__ import annotations

import math

import pytest

from diffcheck.checking.harness import AGREE, OUTSIDE_DOMAIN, check_expr

# (expression, x, expected verdict, d/dx by hand or None, why)
SMOOTH = [
    ("exp(x)", 700.0, math.exp(700.0), "e**700 ~ 1e304 still fits in float64"),
    ("exp(x)", -1000.0, 0.0, "e**-1000 underflows to 0, and so does its derivative"),
    ("x*y", 1e-310, 2.0, "subnormal x: d/dx (x*2) = 2"),
    ("sin(x)", 1e-310, 1.0, "cos(1e-310) = 1"),
    ("x**2", 1e-310, 2e-310, "2x, a subnormal"),
    ("x**2", 1e100, 2e100, "2x at a very large x"),
    ("log(x)", 1e200, 1e-200, "1/x at a very large x"),
    ("log(x)", 1e-200, 1e200, "1/x at a very small x"),
    ("sqrt(x)", 1e200, 5e-101, "1/(2 sqrt(x)) = 1/(2e100)"),
    ("sqrt(x)", 1e-200, 5e99, "1/(2 sqrt(x)) = 1/(2e-100)"),
    ("x*y", 1e200, 2.0, "d/dx (x*y) = y = 2, at a very large x"),
    ("1/x", 1e200, -1e-400, "-1/x**2 underflows to -0"),
    ("x - x", 1e308, 0.0, "0 even at the top of the range"),
    ("x", 1e308, 1.0, "the identity near the largest float"),
    ("abs(x)", 1e-310, 1.0, "a subnormal on the positive side of the kink"),
    ("relu(x)", 1e-310, 1.0, "a subnormal on the positive side of the kink"),
    ("sigmoid(x)", 1000.0, 0.0, "sigma(1 - sigma) underflows to 0"),
    ("softplus(x)", 1000.0, 1.0, "sigmoid(1000) = 1"),
    ("x**3", -2.0, 12.0, "3x**2: an integer power of a negative base"),
    ("x**2", -3.0, -6.0, "2x at a negative x"),
    ("(-2)**3 * x", 1.0, -8.0, "a constant negative base"),
    ("x**2", 0.0, 0.0, "2x at 0"),
    ("x**1", 0.0, 1.0, "x**1 = x"),
    ("x**0", 0.0, 0.0, "x**0 = 1 for every x, 0**0 = 1 included: derivative 0"),
    ("tan(x)", math.pi / 2, 1 / math.cos(math.pi / 2) ** 2,
     "float pi/2 is 6e-17 short of the pole: a finite 2.7e32"),
]

# (expression, point, what the reason must say, why)
OUTSIDE = [
    ("x", {"x": math.nan}, "the value of x is not finite", "a NaN input"),
    ("x * y", {"x": math.inf, "y": 1.0}, "the value of x is not finite", "an infinite input"),
    ("exp(x)", {"x": 1000.0}, "exp at column 1: the value is not finite", "e**1000 overflows"),
    ("x*x*x*x", {"x": 1e100}, "the value is not finite", "1e400 overflows"),
    ("exp(x) - exp(x)", {"x": 1000.0}, "exp at column 1: the value is not finite",
     "0 mathematically, but float64 cannot compute the terms"),
    ("log(x)", {"x": 0.0}, "log at column 1: argument 1 is outside the domain", "log at 0"),
    ("log(x)", {"x": -1.0}, "outside the domain of the derivative (x > 0)", "log below 0"),
    ("sqrt(x)", {"x": 0.0}, "sqrt at column 1: argument 1 is outside the domain", "sqrt at 0"),
    ("arcsin(x)", {"x": 1.0}, "outside the domain of the derivative (-1 < x < 1)", "arcsin at 1"),
    ("arccos(x)", {"x": -1.0}, "outside the domain of the derivative (-1 < x < 1)", "arccos at -1"),
    ("x**0.5", {"x": -4.0}, "pow at column 1: argument 1 is outside the domain",
     "a non-integer power of a negative base"),
    ("x**0.5", {"x": 0.0}, "argument 1 is outside the domain", "the derivative 0.5/sqrt(x) at 0"),
    ("x**(-1)", {"x": 0.0}, "argument 1 is outside the domain", "a pole"),
    ("x**y", {"x": 0.0, "y": 0.0}, "argument 2 is outside the domain",
     "d/dy x**y = x**y log x: log 0"),
    ("x**y", {"x": 0.0, "y": 2.0}, "argument 2 is outside the domain",
     "x**y is undefined for x < 0 and most y: no neighbourhood of (0, 2)"),
    ("x**y", {"x": -2.0, "y": 3.0}, "argument 2 is outside the domain",
     "(-2)**y is not real for non-integer y"),
    ("1/x", {"x": 0.0}, "div at column 1: argument 2 is outside the domain", "a pole"),
    ("1/x", {"x": 1e-200}, "d/dx is beyond float64's range (symbolic gives -inf)",
     "-1/x**2 = -1e400 overflows although the value 1e200 does not"),
    ("log(x)", {"x": 1e-310}, "d/dx is beyond float64's range (symbolic gives inf)",
     "1/x = 1e310 overflows"),
    ("x**x", {"x": 1e-310}, "computing d/dx overflows float64 in an intermediate step",
     "x**x (log x + 1) = -712.8, but the rule's x**(x-1) = 1e310 overflows"),
]


@pytest.mark.parametrize("text,x,expected,why", SMOOTH, ids=[f"{c[0]}@{c[1]:g}" for c in SMOOTH])
def test_a_smooth_hazard_agrees_with_the_derivative_by_hand(text, x, expected, why):
    at = {"x": x, "y": 2.0} if "y" in text else {"x": x}
    result = check_expr(text, at, wrt=["x"])
    # A derivative below the comparison's absolute floor (1e-300) cannot be told
    # from 0 by any tolerance: the methods agree, but the check is inconclusive.
    verdict = "inconclusive" if 0 < abs(expected) < 1e-300 else AGREE
    assert result.verdict == verdict, f"{why}: {result.reason}"
    for backend in ("symbolic", "engine", "torch"):
        assert result.gradients[backend]["x"] == pytest.approx(expected, rel=1e-12, abs=1e-300), backend


@pytest.mark.parametrize("text,at,reason,why", OUTSIDE, ids=[f"{c[0]}@{c[1]}" for c in OUTSIDE])
def test_a_point_without_a_float64_derivative_is_outside_the_domain(text, at, reason, why):
    result = check_expr(text, at)
    assert result.verdict == OUTSIDE_DOMAIN, f"{why}: {result.verdict} {result.reason}"
    assert reason in result.reason, why


@pytest.mark.parametrize("x", [1e200, -1e200, 1e100, 1e20, 1e-20, 1e-200, -1e-200])
def test_the_numeric_step_scales_with_the_point(x):
    # d/dx log|x| = 1/x: the numeric method must reach it at every magnitude, with
    # an error bound that covers its error (not give up as 'unconverged').  With a
    # step of 0.125 sqrt(|x|) alone, x + h == x beyond 1e32; with 0.125 alone, the
    # samples near 1e-200 cross 0.
    result = check_expr("log(abs(x))", {"x": x})
    numeric = result.results["numeric"]
    assert result.verdict == AGREE, result.reason
    assert math.isfinite(float(numeric.errors["x"]))
    assert abs(float(numeric.gradients["x"]) - 1 / x) <= 1e-8 * abs(1 / x)


def test_a_pole_within_the_first_step_is_not_a_numeric_estimate():
    # tan at the float nearest pi/2: samples at x +- 0.125 straddle the pole; their
    # difference quotient (~ -1/h**2) says nothing about the derivative 2.7e32.
    result = check_expr("tan(x)", {"x": math.pi / 2})
    assert math.isinf(float(result.results["numeric"].errors["x"]))
    assert result.verdict == AGREE


def test_a_negative_base_with_a_fixed_integer_exponent_differentiates_in_the_base():
    # d/dx x**y = y x**(y-1) = 3 * 4 = 12 at x = -2, y = 3 (y held fixed).
    result = check_expr("x**y", {"x": -2.0, "y": 3.0}, wrt=["x"])
    assert result.verdict == AGREE
    assert result.gradients["symbolic"]["x"] == 12.0


def test_the_reference_keeps_its_digits_at_inputs_far_below_one():
    # d/dx (elu(x) * x) = e**x * x + (e**x - 1), which is 2x to 100 digits at
    # x = -1e-100; at a fixed 50 digits e**x - 1 comes out 0 and the reference
    # gave x, half the truth, flagging correct methods.
    result = check_expr("elu(x) * x", {"x": -1e-100})
    assert result.verdict == "agree", result.reason
    assert result.gradients["symbolic"]["x"] == pytest.approx(-2e-100, rel=1e-15)


@pytest.mark.parametrize("x", [0.5, 0.0, -1.0])
def test_a_kinked_op_of_constants_does_not_stop_the_numeric_method(x):
    # relu(-1) is the constant 0, on one branch at every sample; d/dx (0 + x) = 1.
    # (Found by the property-based test of the strategies: the numeric method
    # tried to compare branch tokens of a node whose value is not batched.)
    result = check_expr("relu(-1) + x", {"x": x})
    assert result.verdict == AGREE, result.reason
    assert float(result.gradients["numeric"]["x"]) == pytest.approx(1.0, rel=1e-10)


@pytest.mark.parametrize("x", [-1e-200, -1e-160, 1e-200, 1e-310])
def test_samples_below_the_normal_range_are_no_false_alarm(x):
    """Near elu's kink the steps stay within |x|, so at |x| = 1e-200 every sample
    of elu(x) * x (about x**2) underflows to 0 or to a few subnormal digits: the
    numeric method cannot resolve the derivative 2x there, and must say so with
    its error bar rather than report 0."""
    result = check_expr("elu(x) * x", {"x": x})
    # d/dx = 2x; at x = 1e-310 that is below the comparison's absolute floor
    # (1e-300): agreement there could not have failed, so it is inconclusive.
    assert result.verdict == ("agree" if abs(2 * x) >= 1e-300 else "inconclusive"), result.reason

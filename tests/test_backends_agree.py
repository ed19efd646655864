"""diffcheck checks itself: the four methods agree on generated expressions at
generated points, and a point on a kink or a tie is ``nondifferentiable`` (or
``agree``, where the kink does not reach the gradient), never a discrepancy.

CI runs a small number of examples, derandomized.  A large local run:

    DIFFCHECK_EXAMPLES=3000 python -m pytest -q tests/test_backends_agree.py

(``DIFFCHECK_SEED=N`` draws a different sequence of examples.)
"""

from __future__ import annotations

import os

import pytest

from hypothesis import HealthCheck, given, seed, settings, strategies as st

from diffcheck.checking.batch import check_points
from diffcheck.checking.harness import AGREE, NONDIFFERENTIABLE, check_expr
from diffcheck.testing.strategies import Drawn, expressions, points, problems

EXAMPLES = int(os.environ.get("DIFFCHECK_EXAMPLES", "100"))
SEED = os.environ.get("DIFFCHECK_SEED")
KINKED = ["add", "sub", "mul", "neg", "square", "sin", "exp", "relu", "leaky_relu", "elu", "abs",
          "maximum", "minimum", "sum", "mean", "matmul"]


def dogfood(examples: int):
    """Settings for a run of ``examples``: derandomized unless DIFFCHECK_SEED is set."""
    def decorate(test):
        test = settings(max_examples=examples, deadline=None, database=None,
                        derandomize=SEED is None, suppress_health_check=[HealthCheck.too_slow],
                        print_blob=False)(test)
        return seed(int(SEED))(test) if SEED is not None else test
    return decorate


def describe(expr, point, result) -> str:
    values = ", ".join(f"{k}={v.tolist()}" for k, v in point.items())
    return f"{result.expression} at {values}: {result.verdict}: {result.reason}"


@pytest.mark.slow
@dogfood(EXAMPLES)
@given(expressions().flatmap(
    lambda tree: st.lists(points(tree), min_size=1, max_size=3).map(
        lambda at: [Drawn(tree, point) for point in at])))
def test_the_methods_agree_on_generated_problems(drawn):
    # Several points of one expression go through check_points together, as a
    # property-based run would send them.
    results = check_points(drawn[0].expr, [d.point for d in drawn])
    for one, result in zip(drawn, results):
        assert result.verdict in (AGREE, NONDIFFERENTIABLE), describe(one.expr, one.point, result)


@pytest.mark.slow
@dogfood(max(1, EXAMPLES // 2))
@given(problems(KINKED, kink_heavy=True))
def test_points_on_kinks_are_nondifferentiable_or_agree(drawn):
    # One point at a time, through check_expr: the path that decides kinks from
    # one-sided derivatives.
    result = check_expr(drawn.expr, drawn.point)
    assert result.verdict in (AGREE, NONDIFFERENTIABLE), describe(drawn.expr, drawn.point, result)


def test_a_kink_the_gradient_does_not_feel_agrees():
    # relu(x)**2 is smooth at 0 (both one-sided derivatives are 0): diffcheck
    # says agree there, and nondifferentiable for relu(x) itself.
    assert check_expr("relu(x)**2", {"x": 0.0}).verdict == AGREE
    assert check_expr("relu(x)", {"x": 0.0}).verdict == NONDIFFERENTIABLE


def test_a_sum_whose_terms_cancel_is_not_a_false_alarm():
    # Found by `diffcheck fuzz --examples 3000 --seed 12 --kinks --ops ...`: the
    # exact sum is -8.27e-17 (NumPy's pairwise order gets it), torch's order gives
    # 0.  Both are within a rounding of the terms (about 3 * 2.2e-16), so this is
    # agreement, not a discrepancy in torch's value.
    x = [[1e-06, -1e-06, -1.000000001], [1.0, 0.0, 1e-09]]
    result = check_expr("sum(x)", {"x": x})
    assert result.verdict == AGREE, result.reason
    assert result.results["torch"].value == 0.0 and result.results["symbolic"].value < -8e-17


def test_a_detached_literal_at_several_points():
    # Found by DIFFCHECK_EXAMPLES=3000: the numeric method held detach(1) at its
    # value with a batch axis of length 1 and failed at the second point.
    # d/dx (1 + x) = 1 everywhere.
    results = check_points("detach(1) + x", [{"x": 0.0}, {"x": 2.0}])
    assert [r.verdict for r in results] == [AGREE, AGREE]
    assert [float(r.results["numeric"].gradients["x"]) for r in results] == pytest.approx([1.0, 1.0])

"""Checking many points at once: batched evaluation, batched finite differences,
and the float64-first reference of :func:`diffcheck.checking.harness.check_points`."""

import numpy as np
import pytest

from diffcheck.language import engine
from diffcheck.language import ops
from diffcheck.backends.numeric import partials
from diffcheck.language.expr import evaluate
from diffcheck.checking.batch import check_points
from diffcheck.checking.harness import check_expr, make_problem, normalise_point
from diffcheck.language.ops import UNIQUE_OPS
from diffcheck.language.parser import parse
from diffcheck.errors import PointError

from test_ops import STRUCTURAL, _elementwise_cases


def _cases(op):
    return _elementwise_cases(op) if op.elementwise else STRUCTURAL[op.name]


def _nearby(point, rng, count):
    """``count`` points around ``point``: the same shapes, entries moved a little."""
    return [{k: np.asarray(v, dtype=float) + (0.01 * rng.standard_normal(np.shape(v)) if i else 0.0)
             for k, v in point.items()} for i in range(count)]


@pytest.mark.parametrize("op", UNIQUE_OPS, ids=lambda op: op.name)
def test_batched_forward_matches_one_point_at_a_time(op, rng):
    for text, point in _cases(op):
        points = _nearby(point, rng, 5)
        tree = parse(text, point.keys())
        stacked = {k: np.stack([p[k] for p in points]) for k in point}
        batched = evaluate(tree, stacked, batch=True)
        one_by_one = np.array([evaluate(tree, p) for p in points])
        assert batched.shape == (5,)
        # Sums may be taken in another order (einsum against matmul): a few ulps.
        np.testing.assert_allclose(batched, one_by_one, rtol=1e-14, atol=1e-15)


def test_a_batched_scalar_lines_up_with_a_vector_not_with_the_batch():
    # Three points; x is a scalar at each, v a vector of 4 entries.  Unaligned,
    # NumPy would try to broadcast x's (3,) against v's (3, 4) and fail or mix
    # points.
    x = np.array([1.0, 2.0, 3.0])
    v = np.arange(12.0).reshape(3, 4)
    tree = parse("sum(x * v)", ["x", "v"])
    assert evaluate(tree, {"x": x, "v": v}, batch=True).tolist() == [6.0, 2 * 22.0, 3 * 38.0]


@pytest.mark.parametrize("op", UNIQUE_OPS, ids=lambda op: op.name)
def test_many_point_verdicts_match_single_point_verdicts(op, rng):
    for text, point in _cases(op):
        points = _nearby(point, rng, 3)
        many = check_points(text, points)
        for p, result in zip(points, many):
            assert result.verdict == check_expr(text, p).verdict == "agree", result.reason


def test_agreement_needs_no_high_precision_reference(rng):
    points = [{"x": v} for v in rng.uniform(-2, 2, 16)]
    results = check_points("sin(x) * exp(x)", points)
    assert all(r.verdict == "agree" for r in results)
    assert all(r.results["symbolic"].details["precision"] == "float64" for r in results)


def test_a_disagreement_is_settled_by_the_high_precision_reference(monkeypatch, rng):
    # A wrong engine rule for sin: the float64 reference sees the disagreement and
    # the point is judged again against mpmath, which names the engine.
    sin = ops.OPS["sin"]
    wrong = (lambda g, ans, x: g * np.cos(x) * (1 + 1e-6),)
    monkeypatch.setitem(ops.OPS, "sin", ops.Op(**{**sin.__dict__, "vjp": wrong}))
    points = [{"x": v} for v in rng.uniform(0.1, 1.0, 4)]
    for result in check_points("sin(x) * x", points):
        assert result.verdict == "discrepancy"
        assert [d.backend for d in result.discrepancies] == ["engine"]
        assert "precision" not in result.results["symbolic"].details
        assert result.results["symbolic"].details["formulas"]


def test_points_must_share_shapes():
    with pytest.raises(PointError, match="point 2: its variables or their shapes differ"):
        check_points("sum(v)", [{"v": [1.0, 2.0]}, {"v": [1.0, 2.0, 3.0]}])


def test_finite_differences_trust_no_more_digits_than_intermediate_rounding_leaves():
    # log(1 + x**2) at small x rounds like 1, not like its small value: the
    # difference quotients share an error near eps / h, and the columns of the
    # table agree with each other far better than with the truth.  The error
    # estimate must still cover the true error (0.10545363025636889, by mpmath).
    point = normalise_point({"x": 0.07559361074288512, "y": -1.4267738509897323})
    problem = make_problem("sin(x)*exp(y) + log(1 + x**2) * tanh(y)", point)
    _, value, error, _ = partials(problem, point, "x")
    assert abs(float(value) - 0.10545363025636889) <= float(error)


def test_rounding_scale_sees_cancellation_the_float64_run_missed():
    # Found by check_points on random points: torch's sigmoid rounds differently
    # from the engine's, and the engine's own float64 error at this entry is
    # zero by luck.  The float32 run measures the sensitivity.
    rng = np.random.default_rng(2)
    shapes = {"X": (12, 3), "w": (3,), "b": (), "t": (12,)}
    points = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(64)]
    results = check_points("mean((sigmoid(X @ w + b) - t)**2)", points)
    assert [r.reason for r in results if r.verdict != "agree"] == []


def test_a_kinked_op_or_a_detach_of_constants_is_no_kink_or_stop_of_the_batch():
    # relu(0) + x: relu's argument never moves, so finite differences have no
    # branch of it to follow; d/dx = 1 and abs(-2) * x has d/dx = 2 everywhere.
    # detach(1) holds a constant: nothing to hold at each point.
    for text in ("relu(0) + x", "detach(1) - detach(1) + x"):
        results = check_points(text, [{"x": 1.0}, {"x": -2.0}])
        assert [(r.verdict, r.gradients["numeric"]["x"]) for r in results] == [("agree", 1.0), ("agree", 1.0)]
    results = check_points("sum(abs(-2) * v)", [{"v": [1.0, -3.0]}])
    assert results[0].verdict == "agree"
    assert np.allclose(results[0].gradients["numeric"]["v"], [2.0, 2.0], rtol=1e-12)


def test_a_cancellation_exact_in_the_engine_but_not_in_torch_is_no_false_alarm():
    # d/dx of tanh(y) / (x / x) is 0: the engine's two terms 1/x and -(x/x)/x
    # cancel exactly in every precision, torch's (-x/x**2) leaves 2.2e-16 at
    # x = 0.6212...; found by benchmarks/mutations.py on generated pairs.
    point = {"y": [[-0.34412992575751034, -7.431803505469452e-193, 1.000000001],
                   [1e-06, -2.000000001, -1e-06]],
             "x": [1.000000001, 0.5, 0.6212220733345274]}
    results = check_points("sum(tanh(y) / (x / x))", [point])
    assert results[0].verdict == "agree", results[0].reason


def test_the_rounding_inside_a_matmul_whose_terms_cancel_bounds_finite_differences():
    # (y @ x)[1] = 2 * -1e-6 + -1e-6 * -2 + 0 * -1e-9 is exactly 0: moving the
    # matmul's result by an ulp moves nothing, yet every perturbed sample rounds
    # its terms of size 2e-6.  d/dy[1, 2] = x[2] / (1 + 0**2) = -1e-9; the numeric
    # estimate is off by 2e-21 and its error bar must say so (it said 1.6e-22).
    point = {"y": [[-1e-09, 0.0, -1.000000001], [2.0, -1e-06, 0.0]], "x": [-1e-06, -2.0, -1e-09]}
    result = check_points("sum(arctan(y @ x))", [point])[0]
    assert result.verdict == "agree", result.reason
    assert result.gradients["symbolic"]["y"][1, 2] == pytest.approx(-1e-9, rel=1e-15)


def test_an_expression_is_compiled_once_per_run_unless_its_ops_change(monkeypatch):
    import dataclasses

    from diffcheck.checking.harness import make_problem
    from diffcheck.language.ops import OPS
    first = make_problem("sum(sin(x) * y)", {"x": np.array(0.5), "y": np.array(2.0)})
    again = make_problem("sum(sin(x) * y)", {"x": np.array(0.7), "y": np.array(1.0)})
    assert again.cache is first.cache
    other_shape = make_problem("sum(sin(x) * y)", {"x": np.ones(2), "y": np.array(2.0)})
    assert other_shape.cache is not first.cache
    # A faulty copy of an op's record (as the mutation tests plant) is another expression.
    faulty = dataclasses.replace(OPS["sin"], sympy=lambda sp, x: sp.cos(x))
    monkeypatch.setitem(OPS, "sin", faulty)
    mutated = make_problem("sum(sin(x) * y)", {"x": np.array(0.5), "y": np.array(2.0)})
    assert mutated.cache is not first.cache

"""Outcomes of the cross-check, and that wrong rules are caught and named."""

import dataclasses

import numpy as np
import pytest

from diffcheck import check_expr
from diffcheck.errors import PointError, ShapeError
from diffcheck.language.ops import OPS


def _replace_op(monkeypatch, name, **changes):
    """Swap an op's record for a faulty copy, under every name it is registered by."""
    op = OPS[name]
    faulty = dataclasses.replace(op, **changes)
    for key, value in list(OPS.items()):
        if value is op:
            monkeypatch.setitem(OPS, key, faulty)
    return op


def test_wrong_engine_rule_is_a_discrepancy_naming_the_engine(monkeypatch):
    _replace_op(monkeypatch, "sin", vjp=(lambda g, ans, x: g * np.sin(x),))  # should be cos
    result = check_expr("sin(x) * y", {"x": 0.8, "y": 2.0})
    assert result.verdict == "discrepancy"
    assert [d.backend for d in result.discrepancies] == ["engine"]
    worst = result.discrepancies[0]
    assert worst.variable == "x"
    assert worst.value == pytest.approx(2 * np.sin(0.8)) and worst.reference == pytest.approx(2 * np.cos(0.8))
    # The three methods that do not use the engine's rule keep the true gradient:
    # d/dx = y cos(x) = 2 cos(0.8), d/dy = sin(x) = sin(0.8).
    for backend in ("symbolic", "numeric", "torch"):
        assert result.gradients[backend]["x"] == pytest.approx(2 * np.cos(0.8), rel=1e-10), backend
        assert result.gradients[backend]["y"] == pytest.approx(np.sin(0.8), rel=1e-10), backend
    # The faulty rule is the engine's only error: its d/dy is still right.
    assert result.gradients["engine"]["y"] == pytest.approx(np.sin(0.8), rel=1e-12)


def test_engine_rule_wrong_by_one_part_in_ten_million_is_caught(monkeypatch):
    _replace_op(monkeypatch, "exp", vjp=(lambda g, ans, x: g * ans * (1 + 1e-7),))
    result = check_expr("exp(x) + x**2", {"x": 0.3})
    assert result.verdict == "discrepancy"
    assert result.discrepancies[0].backend == "engine"
    assert result.discrepancies[0].rel_error == pytest.approx(1e-7 * np.exp(0.3) / (np.exp(0.3) + 0.6), rel=1e-3)


def test_wrong_broadcast_reduction_is_caught(monkeypatch):
    # Forgetting to sum over the broadcast axis: the scalar gets one entry's share.
    op = OPS["mul"]
    _replace_op(monkeypatch, "mul", vjp=(op.vjp[0], lambda g, ans, x, y: np.asarray(g * x).ravel()[0]))
    result = check_expr("sum(v * c)", {"v": [1.0, 2.0, 3.0], "c": 0.5})
    assert result.verdict == "discrepancy"
    assert result.discrepancies[0].backend == "engine" and result.discrepancies[0].variable == "c"
    # By hand: d/dc sum(v * c) = sum(v) = 6; the faulty rule keeps g * v[0] = 1.
    assert result.discrepancies[0].value == pytest.approx(1.0) and result.discrepancies[0].reference == pytest.approx(6.0)


def test_wrong_symbolic_form_is_blamed_on_the_symbolic_backend(monkeypatch):
    _replace_op(monkeypatch, "tanh", sympy=OPS["sinh"].sympy)
    result = check_expr("tanh(x)", {"x": 0.4})
    assert result.verdict == "discrepancy"
    assert [d.backend for d in result.discrepancies] == ["symbolic"]


def test_wrong_torch_form_is_blamed_on_torch(monkeypatch):
    _replace_op(monkeypatch, "softplus", torch=lambda t, x: t.nn.functional.softplus(x, beta=2.0))
    result = check_expr("softplus(x)", {"x": 0.4})
    assert result.verdict == "discrepancy"
    assert [d.backend for d in result.discrepancies] == ["torch"]


@pytest.mark.parametrize("expr,at", [("log(x)", {"x": 0.0}), ("sqrt(x)", {"x": -1.0}),
                                     ("arcsin(x)", {"x": 1.0}), ("x**y", {"x": 0.0, "y": 0.0}),
                                     ("x**0.5", {"x": -2.0}), ("1/x", {"x": 0.0}),
                                     ("exp(x)", {"x": float("nan")}), ("exp(exp(x))", {"x": 800.0})])
def test_points_outside_the_domain_are_reported_as_such(expr, at):
    assert check_expr(expr, at).verdict == "outside_domain"


@pytest.mark.parametrize("expr,at", [("relu(x)", {"x": 0.0}), ("abs(x)", {"x": 0.0}),
                                     ("min(x, y)", {"x": 2.0, "y": 2.0}),
                                     ("leaky_relu(x, 0.1)", {"x": 0.0})])
def test_kinks_are_nondifferentiable(expr, at):
    assert check_expr(expr, at).verdict == "nondifferentiable"


@pytest.mark.parametrize("expr,at", [("relu(x)**2", {"x": 0.0}), ("abs(x)*x", {"x": 0.0}),
                                     ("elu(x)", {"x": 0.0}), ("relu(x)", {"x": 1e-12}),
                                     ("max(x, y)", {"x": 1.0, "y": 1.0 + 2**-52}),
                                     ("abs(sin(x))", {"x": np.pi}), ("relu(y) * x", {"x": 1.0, "y": 0.0})])
def test_smooth_points_at_or_near_kinks_agree(expr, at):
    # relu(y) * x at y = 0: the kink is in y, but d/dx exists; d/dy does not, one-sided.
    result = check_expr(expr, at, wrt=["x"])
    assert result.verdict == "agree", result.reason


def test_a_kink_in_a_detached_branch_does_not_matter():
    assert check_expr("detach(relu(x)) * x", {"x": 0.0}).verdict == "agree"


def test_detach_stops_the_gradient_in_every_backend():
    result = check_expr("detach(x)**2 + x", {"x": 3.0})
    assert result.verdict == "agree"
    for backend, grads in result.gradients.items():
        assert grads["x"] == pytest.approx(1.0, rel=1e-12), backend


def test_cancellation_is_not_a_false_alarm():
    # sin(x) - x near 0: float64 loses most digits of cos(x) - 1; every float
    # method loses them the same way, and the tolerance accounts for it.
    assert check_expr("sin(x) - x", {"x": 1e-5}).verdict == "agree"
    assert check_expr("sin(exp(exp(x)))", {"x": 3.0}).verdict == "agree"


def test_non_scalar_expression_is_refused():
    with pytest.raises(ShapeError, match="wrap it in sum"):
        check_expr("v * 2", {"v": [1.0, 2.0]})


def test_shape_mismatch_names_the_op():
    with pytest.raises(ShapeError, match="matmul: cannot combine shapes"):
        check_expr("sum(A @ v)", {"A": [[1.0, 2.0]], "v": [1.0, 2.0, 3.0]})


def test_wrt_must_have_a_value():
    with pytest.raises(PointError, match="'w'"):
        check_expr("x**2", {"x": 1.0}, wrt=["w"])


def test_text_values_are_read_as_literals():
    result = check_expr("dot(w, v)", {"w": "[1, 2]", "v": "[3, -4]"})
    assert result.gradients["engine"]["w"].tolist() == [3.0, -4.0]


def test_symbolic_skips_beyond_its_size_cap_and_the_others_still_agree():
    from diffcheck.backends import symbolic
    n = 80
    A = np.linspace(-1, 1, n * n).reshape(n, n)
    result = check_expr("sum(sigmoid(A @ A @ v))", {"A": A, "v": np.ones(n)}, wrt=["v"])
    assert n * n * n * 2 > symbolic.MAX_SCALAR_OPS
    assert result.results["symbolic"].status == "skipped"
    assert "cap" in result.results["symbolic"].reason
    assert result.verdict == "agree" and result.reference == "numeric"

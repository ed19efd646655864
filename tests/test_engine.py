"""diffcheck's own reverse-mode engine, on its own."""

import numpy as np
import pytest

from diffcheck import engine
from diffcheck.expr import Apply, Const, Var
from diffcheck.ops import OPS


def test_chain_of_100000_ops_needs_no_recursion():
    # x -> x*c -> ... 100,000 times; d/dx = c**100000 with c = 1 + 1e-6.
    c = Const(np.asarray(1.0 + 1e-6), "1.000001")
    node = Var("x")
    for _ in range(100_000):
        node = Apply(OPS["mul"], (node, c))
    value, grads = engine.value_and_grad(node, {"x": np.array(2.0)}, ["x"])
    assert grads["x"] == pytest.approx((1.0 + 1e-6) ** 100_000, rel=1e-9)
    assert value == pytest.approx(2.0 * (1.0 + 1e-6) ** 100_000, rel=1e-9)


def test_shared_subexpression_gradients_accumulate():
    x = Var("x")
    sq = Apply(OPS["mul"], (x, x))
    out = Apply(OPS["add"], (sq, sq))  # 2 x^2, the square node used twice
    _, grads = engine.value_and_grad(out, {"x": np.array(3.0)}, ["x"])
    assert grads["x"] == 12.0


def test_unused_variable_gets_zero_gradient():
    _, grads = engine.value_and_grad(Var("x"), {"x": np.array(1.0), "y": np.ones(3)}, ["x", "y"])
    assert grads["y"].tolist() == [0.0, 0.0, 0.0]


def test_runs_in_extended_precision():
    x = Var("x")
    out = Apply(OPS["exp"], (x,))
    value, grads = engine.value_and_grad(out, {"x": np.array(1.0)}, ["x"], np.longdouble)
    assert grads["x"].dtype == np.longdouble


def test_backward_needs_a_scalar():
    t = engine.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="scalar"):
        engine.backward(t)

"""diffcheck's own reverse-mode engine, on its own."""

import numpy as np
import pytest

from diffcheck.language import engine
from diffcheck.language.expr import Apply, Const, Var
from diffcheck.language.ops import OPS


@pytest.mark.slow
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
    # The reverse walk seeds the output with one: it differentiates scalars only.
    with pytest.raises(ValueError, match="scalar"):
        engine.value_and_grad(Var("v"), {"v": np.ones(3)}, ["v"])
    with pytest.raises(ValueError, match="scalar"):
        engine.values_and_grads(Var("v"), {"v": np.ones((2, 3))}, ["v"])


BATCHED = [
    ("mean((sigmoid(X @ w + b) - y)**2)", {"X": (12, 3), "w": (3,), "b": (), "y": (12,)}),
    ("sum(transpose(A) @ v * 2) + mean(A, axis=1) @ v + sum(detach(v) * v)", {"A": (3, 4), "v": (3,)}),
    ("x * sum(v) + mean(v * x, axis=0) + sum([1, 2, 3] * v)", {"x": (), "v": (3,)}),
    ("sum(relu(W @ x + c) * u) + maximum(sum(x), 0.5)", {"W": (8, 4), "x": (4,), "c": (8,), "u": (8,)}),
]


@pytest.mark.parametrize("text,shapes", BATCHED)
def test_batched_walk_matches_torch_at_every_point(text, shapes):
    """Many points in one walk give, point by point, torch's gradients."""
    import torch

    from diffcheck.backends.torch_backend import lower
    from diffcheck.checking.harness import make_problem
    rng = np.random.default_rng(5)
    points = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(9)]
    expr = make_problem(text, points[0], None).expr
    stacked = {k: np.stack([p[k] for p in points]) for k in shapes}
    values, grads = engine.values_and_grads(expr, stacked, list(shapes))
    for i, point in enumerate(points):
        leaves = {k: torch.tensor(v, requires_grad=True) for k, v in point.items()}
        out = lower(torch, expr, leaves)
        out.backward()
        assert values[i] == pytest.approx(float(out), rel=1e-13)
        for k in shapes:
            expected = np.zeros(shapes[k]) if leaves[k].grad is None else leaves[k].grad.numpy()
            np.testing.assert_allclose(grads[k][i], expected, rtol=1e-12, atol=1e-14)


def test_batched_walk_uses_the_same_rules(monkeypatch):
    """A structural op's rule changed for one point changes the batched answer too:
    there is one rule per op, not a second batched copy to keep in step."""
    import dataclasses

    from diffcheck.checking.harness import make_problem
    stacked = {"v": np.arange(6.0).reshape(2, 3)}
    expr = make_problem("sum(v * v)", {"v": np.ones(3)}, None).expr
    _, before = engine.values_and_grads(expr, stacked, ["v"])
    np.testing.assert_allclose(before["v"], 2 * stacked["v"])
    wrong = (lambda g, ans, x, axis: -np.broadcast_to(g, x.shape),)
    monkeypatch.setitem(OPS, "sum", dataclasses.replace(OPS["sum"], vjp=wrong))
    expr = make_problem("sum(v * v)", {"v": np.ones(3)}, None).expr
    _, after = engine.values_and_grads(expr, stacked, ["v"])
    np.testing.assert_allclose(after["v"], -2 * stacked["v"])

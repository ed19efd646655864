"""Values stated in the seed documents, through all four backends.

Expected values are worked by hand (and quoted from the documents that the case files
in cases/ name), never taken from diffcheck's own output.
"""

import math

import numpy as np
import pytest

from diffcheck import check_expr

BACKENDS = ("symbolic", "numeric", "engine", "torch")


def test_quadratic_slope_at_three_is_sixteen():
    # 000 document, Example 2: f(x) = 3x^2 - 2x + 5, f'(x) = 6x - 2, f'(3) = 16.
    result = check_expr("3*x**2 - 2*x + 5", {"x": 3})
    assert result.verdict == "agree"
    for backend in BACKENDS:
        assert result.gradients[backend]["x"] == pytest.approx(16.0, rel=1e-12), backend
    assert result.value == 26.0


def test_sum_times_product_gradient():
    # (x + y) z at (-2, 5, -4): d/dx = z = -4, d/dy = z = -4, d/dz = x + y = 3.
    result = check_expr("(x + y)*z", {"x": -2, "y": 5, "z": -4})
    assert result.verdict == "agree"
    for backend in BACKENDS:
        got = result.gradients[backend]
        assert (got["x"], got["y"], got["z"]) == pytest.approx((-4.0, -4.0, 3.0), rel=1e-12)


@pytest.mark.parametrize("z", [-3.0, -0.5, 0.0, 0.7, 4.0])
def test_sigmoid_derivative_is_sigmoid_times_one_minus_sigmoid(z):
    s = 1.0 / (1.0 + math.exp(-z))
    result = check_expr("sigmoid(z)", {"z": z})
    assert result.verdict == "agree"
    for backend in BACKENDS:
        assert result.gradients[backend]["z"] == pytest.approx(s * (1 - s), rel=1e-12), backend


def test_max_routes_the_gradient_to_the_larger_argument():
    result = check_expr("max(x, y)", {"x": 4, "y": 2})
    assert result.verdict == "agree"
    for backend in BACKENDS:
        assert (result.gradients[backend]["x"], result.gradients[backend]["y"]) == (1.0, 0.0)


def test_max_at_a_tie_is_nondifferentiable_not_a_failure():
    result = check_expr("max(x, y)", {"x": 3, "y": 3})
    assert result.verdict == "nondifferentiable"
    assert "maximum" in result.reason and "x = y" in result.reason
    # The subgradient each method chose is still reported.  At x = y, max(x, y) is
    # (x + y)/2 on the line itself, so the symbolic reference's tie branch gives 1/2
    # to each argument; torch.maximum splits the gradient evenly at a tie (its
    # documented rule) and the engine follows it.  A central difference straddles
    # the kink and has no derivative to give: it says so with NaN, not a number.
    assert set(result.gradients) == set(BACKENDS)
    for backend in ("symbolic", "engine", "torch"):
        assert result.gradients[backend] == {"x": 0.5, "y": 0.5}, backend
    assert math.isnan(result.gradients["numeric"]["x"]) and math.isnan(result.gradients["numeric"]["y"])
    assert result.one_sided["left"]["x"] == pytest.approx(0.0, abs=1e-9)
    assert result.one_sided["right"]["x"] == pytest.approx(1.0, abs=1e-9)


def test_mean_squared_error_of_a_sigmoid_neuron():
    # By hand: the gradient of mean((s - y)^2), s = sigmoid(Xw + b), is
    # (2/m) X^T ((s - y) s (1 - s)) for w and the sum of the same for b.
    X = np.array([[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]])
    w, b, y = np.array([0.1, -0.2]), 0.3, np.array([1.0, 0.0, 1.0])
    s = 1 / (1 + np.exp(-(X @ w + b)))
    common = 2 / 3 * (s - y) * s * (1 - s)
    result = check_expr("mean((sigmoid(X @ w + b) - y)**2)", {"X": X, "w": w, "b": b, "y": y},
                        wrt=["w", "b"])
    assert result.verdict == "agree"
    for backend in BACKENDS:
        assert result.gradients[backend]["w"] == pytest.approx(X.T @ common, rel=1e-10)
        assert result.gradients[backend]["b"] == pytest.approx(common.sum(), rel=1e-10)

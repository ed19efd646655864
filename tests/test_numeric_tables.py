"""The numeric method's error estimate bounds its true error, against mpmath.

The case here is one where a Richardson table's early rows agree by coincidence:
the step is still too large for the function (the table is not yet in its
asymptotic range), two neighbouring entries happen to be close, and the estimate
they give is ten times too small.  The true derivative comes from mpmath at 50
digits, independently of diffcheck's methods.
"""

import mpmath as mp
import numpy as np
import pytest

from diffcheck.backends.numeric import richardson
from diffcheck.checking.batch import check_points

SHAPES = {"X": (12, 3), "w": (3,), "b": (), "y": (12,)}
LOSS = "mean((sigmoid(X @ w + b) - y)**2)"


def _random_points(count):
    rng = np.random.default_rng(7)
    return [{k: rng.normal(size=s) for k, s in SHAPES.items()} for _ in range(count)]


def _loss(point, i, j, t, exact=False):
    """The loss with X[i, j] replaced by t, in float64 or in mpmath."""
    X, w, b, y = point["X"], point["w"], float(point["b"]), point["y"]
    if not exact:
        Xt = X.copy()
        Xt[i, j] = t
        s = 1.0 / (1.0 + np.exp(-(Xt @ w + b)))
        return float(np.mean((s - y) ** 2))
    total = 0
    for row in range(12):
        z = sum((t if (row, col) == (i, j) else mp.mpf(X[row, col])) * mp.mpf(w[col]) for col in range(3))
        s = 1 / (1 + mp.exp(-(z + mp.mpf(b))))
        total += (s - mp.mpf(y[row])) ** 2
    return total / 12


def test_estimate_bounds_the_error_where_early_rows_agree_by_coincidence():
    mp.mp.dps = 50
    point = _random_points(17)[16]   # the point where the coincidence happens, at X[8, 0]
    failures = []
    for i, j in [(8, 0), (8, 1), (3, 0), (0, 2)]:
        x = float(point["X"][i, j])
        estimate = richardson(lambda t: (_loss(point, i, j, t), None), x, _loss(point, i, j, x))
        exact = float(mp.diff(lambda t: _loss(point, i, j, t, exact=True), mp.mpf(x)))
        if abs(estimate.value - exact) > estimate.error:
            failures.append(((i, j), estimate.value, exact, estimate.error))
    assert not failures


def test_random_sigmoid_mse_points_all_agree():
    results = check_points(LOSS, _random_points(64))
    assert {r.verdict for r in results} == {"agree"}, [r.reason for r in results if r.verdict != "agree"]


@pytest.mark.slow
def test_rounding_allowance_covers_another_correct_order_of_operations():
    """torch's sigmoid rounds one unit away from the engine's near s = 0.98, and
    its backward pass computes 1 - s from it: 7 units of relative error in
    d/dX[11, 1], where the engine's own float64 and float32 runs happen to be
    nearly exact.  Monte Carlo arithmetic on the engine sees that sensitivity."""
    from diffcheck import check_expr
    rng = np.random.default_rng(7)
    for _ in range(256):            # the draws the throughput benchmark makes first
        rng.normal(size=()), rng.normal(size=())
    for _ in range(256):
        rng.normal(size=(16,)), rng.normal(size=(16,))
    points = [{k: rng.normal(size=s) for k, s in SHAPES.items()} for _ in range(79)]
    result = check_expr(LOSS, points[78])
    assert result.verdict == "agree", result.reason

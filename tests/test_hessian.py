"""Second-derivative checks: double backward, forward-over-reverse, symbolic Hessian."""

import numpy as np
import torch

from diffcheck.checking.harness import make_problem, normalise_point
from diffcheck.usercode.hessian import _symbolic_hessian, check_expr_hessian, check_hessian


class Cube(torch.autograd.Function):
    """x**3 whose backward detaches x: first derivative right, second derivative zero."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * 3 * x.detach() ** 2


def test_correct_second_derivatives_agree_small_and_large(rng):
    def fn(x):
        return (torch.sin(x) * x).sum() ** 2

    small = torch.tensor(rng.standard_normal(5), requires_grad=True)
    result = check_hessian(fn, small)
    assert result.verdict == "agree" and result.mode == "entries"
    assert result.methods["forward-over-reverse"].status == "ok"
    large = torch.tensor(rng.standard_normal(500), requires_grad=True)
    assert check_hessian(fn, large).verdict == "agree"


def test_a_backward_that_is_not_differentiable_is_found():
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    result = check_hessian(lambda x: Cube.apply(x).sum(), x)
    assert result.verdict == "discrepancy"
    worst = result.worst
    # By hand: d2/dx2 sum(x^3) = 6 x on the diagonal; the detached rule gives 0.
    assert worst.value == 0 and worst.reference == 6 * x[worst.entry[0]].item()
    assert worst.output_entry == worst.entry and worst.quantity == "Hessian entry"
    assert result.message().startswith("Hessian check: discrepancy")


def test_expression_hessian_against_the_symbolic_one():
    result = check_expr_hessian("x**2 * y + sin(x * y)", {"x": 0.7, "y": -1.3})
    assert result.methods["symbolic"].status == "ok" and result.verdict == "agree"
    # By hand, for f = x^2 y + sin(xy):
    #   d2f/dx2  = 2y - y^2 sin(xy)
    #   d2f/dxdy = 2x + cos(xy) - xy sin(xy)
    #   d2f/dy2  = -x^2 sin(xy)
    x, y = 0.7, -1.3
    cross = 2 * x + np.cos(x * y) - x * y * np.sin(x * y)
    d2x = 2 * y - y * y * np.sin(x * y)
    d2y = -x * x * np.sin(x * y)
    hessian = np.array([[d2x, cross], [cross, d2y]])
    # The whole symbolic Hessian, entry by entry.
    point = normalise_point({"x": x, "y": y})
    exact, error = _symbolic_hessian(make_problem("x**2 * y + sin(x * y)", point, None), point)
    np.testing.assert_allclose(exact, hessian, rtol=1e-13)
    assert np.all(error < 1e-25)
    # The worst comparison is a probe: w . H[:, input] for a random sign vector w,
    # so its symbolic reference is one of the four signed sums of the reported
    # input's column, and numeric's value is within the stated tolerance of it.
    worst = result.worst
    assert worst.reference_method == "symbolic"
    column = hessian[:, worst.input]
    assert worst.input_name == ("x", "y")[worst.input]
    signed_sums = [s0 * column[0] + s1 * column[1] for s0 in (1, -1) for s1 in (1, -1)]
    assert sum(np.isclose(worst.reference, v, rtol=1e-12) for v in signed_sums) == 1
    assert abs(worst.value - worst.reference) <= worst.tolerance

"""diffcheck.check and assert_gradients on torch callables (custom Functions included)."""

import re

import numpy as np
import pytest
import torch

import diffcheck
from document_code import CustomMul, SwappedMul


def test_custom_mul_from_document_000_passes():
    # The document's own use: t_1 = 2.0, t_2 = 3.0 (float32).
    t1, t2 = torch.tensor(2.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    result = diffcheck.assert_gradients(CustomMul.apply, t1, t2)
    assert result.verdict == "agree"
    # d(t1 t2)/dt1 = t2 = 3 and d/dt2 = t1 = 2, by hand; the worst entry is one of them.
    assert (result.worst.reference, result.worst.value) in [(pytest.approx(3.0), pytest.approx(3.0)),
                                                            (pytest.approx(2.0), pytest.approx(2.0))]


def test_custom_mul_passes_on_float64_matrices(rng):
    a = torch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = torch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert diffcheck.check(CustomMul.apply, a, b).verdict == "agree"


def test_swapped_gradients_fail_naming_input_entry_and_both_values():
    a = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([4.0, 5.0, 7.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(diffcheck.GradientMismatch) as caught:
        diffcheck.assert_gradients(SwappedMul.apply, a, b)
    message = str(caught.value)
    # d(a_0 b_0)/da_0 = b_0 = 4 but the swapped rule gives a_0 = 1 (and the mirror for b).
    assert re.search(r"input (0|1), entry \[0\], output 0 entry \[0\]: autograd gives (1|4), "
                     r"numeric gives (4|1) \(Jacobian entry; abs error 3, rel error", message), message
    assert "tolerance" in message and len(message.splitlines()) <= 4
    assert caught.value.result.verdict == "discrepancy"


def test_forward_mode_on_a_ctx_style_function_is_reported_unsupported():
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    result = diffcheck.check(CustomMul.apply, a, torch.tensor(3.0, dtype=torch.float64))
    assert result.methods["forward"].status == "unsupported"
    assert "setup_context" in result.methods["forward"].reason
    assert result.verdict == "agree"


def test_tolerance_options_override_the_derived_ones():
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    assert diffcheck.check(SwappedMul.apply, a, b).verdict == "discrepancy"
    # The swapped rule is off by |3 - 2| = 1 in each entry: atol = 2 lets it through.
    loose = diffcheck.check(SwappedMul.apply, a, b, atol=2.0)
    assert loose.verdict == "agree" and loose.atol == 2.0


def test_symbolic_reference_for_an_expression():
    x = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([2.0, 0.5], dtype=torch.float64, requires_grad=True)

    def fn(x, y):
        return torch.sin(x * y).sum()

    result = diffcheck.check(fn, x, y, expression="sum(sin(x * y))")
    assert result.methods["symbolic"].status == "ok" and result.verdict == "agree"
    assert result.worst.reference_method == "symbolic"
    wrong = diffcheck.check(fn, x, y, expression="sum(cos(x * y))")
    assert wrong.methods["symbolic"].status == "error"
    assert "does not describe fn" in wrong.methods["symbolic"].reason


def test_a_kink_is_nondifferentiable_not_a_discrepancy():
    x = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    result = diffcheck.check(lambda x: torch.relu(x).sum(), x)
    assert result.verdict == "nondifferentiable" and "kink" in result.reason


def test_non_finite_value_is_outside_the_domain():
    x = torch.tensor([-1.0, 1.0], dtype=torch.float64, requires_grad=True)
    assert diffcheck.check(lambda x: torch.log(x).sum(), x).verdict == "outside_domain"


def test_a_function_that_raises_is_an_error_outcome():
    def broken(x):
        raise ValueError("no")

    result = diffcheck.check(broken, torch.ones(2, requires_grad=True))
    assert result.verdict == "error" and "ValueError: no" in result.reason


def test_no_floating_input_is_a_clear_error():
    with pytest.raises(diffcheck.CallableError, match="no input to differentiate"):
        diffcheck.check(lambda n: n, 3)


def test_a_derivative_below_what_the_samples_resolve_is_not_a_false_alarm():
    # d/dw (1.65 + 1e-49 * w) = 1e-49, which autograd gets exactly; in float64 the
    # samples 1.65 + 1e-49 * (w +- h) all round to 1.65, so finite differences see
    # 0 and can only bound the derivative by the samples' rounding (~1e-16 / h).
    import torch
    w = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    result = diffcheck.check(lambda w: 1.65 + 1e-49 * w, w)
    assert result.verdict == "agree", result.message()


class _SumOfSquaresIgnoringGradOutput(torch.autograd.Function):
    """sum(x**2) whose backward forgets to multiply by grad_output."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x * x).sum()

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x


class _SumOfSquares(_SumOfSquaresIgnoringGradOutput):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x


def test_a_scalar_backward_that_ignores_grad_output_is_caught():
    """With grad_output 1 its answer is right (2x); with 0.75 it must be 1.5x and is 2x."""
    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    assert diffcheck.check(_SumOfSquares.apply, x).verdict == "agree"
    result = diffcheck.check(_SumOfSquaresIgnoringGradOutput.apply, x)
    assert result.verdict == "discrepancy"
    assert result.worst.method == "autograd"
    # Entry i gives 2 x_i where 0.75 * 2 x_i = 1.5 x_i is due (2 against 1.5 at x_0 = 1).
    x_i = {2.0: 1.0, -4.0: -2.0, 1.0: 0.5}[round(result.worst.value, 9)]
    assert result.worst.reference == pytest.approx(1.5 * x_i)

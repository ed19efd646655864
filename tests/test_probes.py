"""Projected checks: O(1) probes for large inputs, the drill-down, float32."""

import numpy as np
import pytest
import torch

import diffcheck


def planted(index, factor):
    """sin, elementwise, with the derivative of one entry scaled by ``factor``."""

    class PlantedSin(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.sin(x)

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            derivative = torch.cos(x)
            derivative.view(-1)[index] *= factor
            return grad_output * derivative

    return PlantedSin.apply


@pytest.mark.slow
def test_single_wrong_entry_at_1000x1000_is_found_and_located():
    rng = np.random.default_rng(5)
    x = torch.tensor(rng.standard_normal((1000, 1000)), requires_grad=True)
    row, column = 617, 34
    result = diffcheck.check(planted(row * 1000 + column, 1.01), x, forward=False)
    assert result.mode == "projected" and result.verdict == "discrepancy"
    worst = result.worst
    assert (worst.input, worst.entry, worst.output, worst.output_entry) == (0, (row, column), 0, (row, column))
    # By hand: the planted derivative is 1.01 cos(x), the true one cos(x).
    true = float(np.cos(x[row, column].item()))
    assert worst.reference == pytest.approx(true, rel=1e-9)
    assert worst.value == pytest.approx(1.01 * true, rel=1e-12)
    assert len(result.mismatches) == 1


@pytest.mark.slow
def test_single_wrong_entries_are_caught_by_every_draw():
    # The docstring's argument: with Rademacher signs a single wrong entry adds exactly
    # +-e to every probe, so detection does not depend on the draw.  100 draws with one
    # probe each, errors from 1e-4 to 1 relative (the tolerance here is about 1e-9 of
    # the root sum of squares of the terms, ~4e-8), locations at random.
    rng = np.random.default_rng(11)
    x = torch.tensor(rng.standard_normal(2000), requires_grad=True)
    caught = 0
    for trial in range(100):
        index = int(rng.integers(0, 2000))
        factor = 1 + 10 ** rng.uniform(-4, 0)
        result = diffcheck.check(planted(index, factor), x, probes=1, seed=trial, forward=False,
                                 locate=False)
        caught += result.verdict == "discrepancy"
    assert caught == 100


@pytest.mark.slow
def test_correct_code_is_not_flagged_at_large_sizes_float64_and_float32():
    rng = np.random.default_rng(3)
    for dtype in (torch.float64, torch.float32):
        x = torch.tensor(rng.standard_normal((300, 300)), dtype=dtype, requires_grad=True)
        result = diffcheck.check(lambda x: torch.tanh(x) * x.exp(), x)
        assert result.verdict == "agree", result.message()


@pytest.mark.slow
def test_float32_bugs_larger_than_rounding_are_still_caught():
    rng = np.random.default_rng(4)
    x = torch.tensor(rng.standard_normal(5000), dtype=torch.float32, requires_grad=True)
    # float32 rounding is ~6e-8 relative.  One entry 1% wrong among 5000 shows in the
    # probe sum above its float32 rounding (~sqrt(5000) terms of ~6e-8 each)...
    result = diffcheck.check(planted(1234, 1.01), x, forward=False)
    assert result.verdict == "discrepancy" and result.worst.entry == (1234,)

    # ...and so does a derivative 1e-4 too large everywhere (a wrong constant).
    class Scaled(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.sin(x)

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            return grad_output * torch.cos(x) * (1 + 1e-4)

    assert diffcheck.check(Scaled.apply, x, locate=False).verdict == "discrepancy"
    # Entry by entry (small inputs), 1e-4 in one entry is far above float32 rounding.
    small = x[:20].detach().clone().requires_grad_(True)
    assert diffcheck.check(planted(7, 1 + 1e-4), small).worst.entry == (7,)


@pytest.mark.slow
def test_correct_float32_code_gives_no_false_alarm_over_many_points():
    rng = np.random.default_rng(8)
    alarms = 0
    for trial in range(25):
        x = torch.tensor(rng.standard_normal(50) * 2, dtype=torch.float32, requires_grad=True)
        alarms += diffcheck.check(lambda x: (torch.sigmoid(x) - 0.3).pow(2).mean(), x,
                                  seed=trial).verdict != "agree"
    assert alarms == 0


def test_probes_cost_does_not_grow_with_size():
    counts = []
    for n in (1_000, 100_000):
        x = torch.linspace(-2, 2, n, dtype=torch.float64, requires_grad=True)
        result = diffcheck.check(lambda x: torch.sin(x).sum(), x, forward=False)
        assert result.verdict == "agree"
        counts.append(result.evaluations)
    assert counts[1] <= counts[0] + 4

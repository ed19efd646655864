"""check_gradient_fn on the documents' hand-written gradients (001, 003).

Expected outcomes are derived by hand from the documents (see cases/INVENTORY.md,
items 1.12-1.17, 1.26-1.27 and 3.45), not from diffcheck's output."""

import numpy as np
import pytest
import torch

import diffcheck
from document_code import X003, Y003, compute_gradient, gradient, gradient_repaired, loss003

# Document 001, In [10]/[12]: X = [[2, 2], [3, 1]] (rows = samples), y = [11, 15].
X = np.array([[2.0, 2.0], [3.0, 1.0]], dtype=np.float32)
Y = np.array([11.0, 15.0], dtype=np.float32)
# Shared weights w = [3, 1], b = 1 give the document's predictions: X w + b = [9, 11].
W = np.array([3.0, 1.0], dtype=np.float32)
B = np.array(1.0, dtype=np.float32)


def mse(w, b):
    return np.mean((X @ w + b - Y) ** 2)


def test_001_compute_gradient_is_the_mse_gradient_of_a_linear_model():
    result = diffcheck.check_gradient_fn(mse, lambda w, b: compute_gradient(X, Y, X @ w + b), W, B)
    assert result.verdict == "agree"
    # By hand: (2/m) X^T (y_pred - y) = [[2, 3], [2, 1]] [-2, -4] = [-16, -8]; db = -6.
    assert result.worst.reference == pytest.approx({0: -16.0, 1: -8.0}[result.worst.entry[0]]
                                                   if result.worst.input == 0 else -6.0)


def test_001_printed_dw_over_len_x_divides_by_m_twice():
    def printed(w, b):
        dw, db = compute_gradient(X, Y, X @ w + b)
        return dw / len(X), db / len(X)

    result = diffcheck.check_gradient_fn(mse, printed, W, B, batch_size=2)
    assert result.verdict == "discrepancy"
    # [-8, -4] and -3 against [-16, -8] and -6: half of each entry.
    assert result.worst.value == pytest.approx(0.5 * result.worst.reference)
    assert any("times 1/2" in d.explanation and "extra 1/m (m = 2)" in d.explanation
               for d in result.diagnoses)


def test_001_manual_gradients_sum_over_the_per_sample_weights():
    x1, x2 = np.array([2.0, 3.0], np.float32), np.array([2.0, 1.0], np.float32)

    def loss(w1, w2, b):
        return np.mean((x1 * w1 + x2 * w2 + b - Y) ** 2)

    def manual(w1, w2, b):   # In [10]: dloss_dw1 = (dloss_dy_pred * x1).sum()
        y_pred = x1 * w1 + x2 * w2 + b
        dloss_dy_pred = 2 * (y_pred - Y) / y_pred.size
        return (dloss_dy_pred * x1).sum(), (dloss_dy_pred * x2).sum(), dloss_dy_pred.sum()

    result = diffcheck.check_gradient_fn(loss, manual, np.array([3.0, 2.0], np.float32),
                                         np.array([1.0, 4.0], np.float32), np.array(1.0, np.float32))
    assert result.verdict == "discrepancy"
    assert "has shape (), the input has shape (2,)" in result.reason
    # -16 = -4 + -12, the sum of the true gradient [-4, -12]: one shared scalar weight.
    assert [d.kind for d in result.diagnoses] == ["shared_scalar", "shared_scalar"]
    assert "sum of [-4.0, -12.0]" in result.diagnoses[0].evidence


def test_003_gradient_as_written_never_computes_b_grad():
    W3, b3 = torch.ones(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    result = diffcheck.check_gradient_fn(loss003, gradient, W3, b3, X003, Y003)
    assert result.verdict == "error"
    assert result.methods["grad_f"].reason == "NameError: name 'b_grad' is not defined"


def test_003_gradient_with_the_implied_b_grad_is_right():
    W3, b3 = torch.ones(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    result = diffcheck.check_gradient_fn(loss003, gradient_repaired, W3, b3, X003, Y003)
    assert result.verdict == "agree" and result.dtype == "float32"
    # INVENTORY 3.46: epoch-0 gradients W_grad = [0.00199412, 0.03114744], b_grad = 0.02710290.
    expected = {(0, (0,)): 0.00199412, (0, (1,)): 0.03114744, (1, (0,)): 0.02710290}
    assert result.worst.reference == pytest.approx(expected[(result.worst.input, result.worst.entry)],
                                                   rel=1e-5)

"""The documents' gradient code, transcribed as written (OCR spacing repaired only),
for the audits in test_gradient_fn.py and test_callables.py."""

import numpy as np
import torch
from torch.autograd import Function


class CustomMul(Function):
    """Document 000, cell In [2]."""

    @staticmethod
    def forward(ctx, input1, input2):
        ctx.save_for_backward(input1, input2)
        return input1 * input2

    @staticmethod
    def backward(ctx, grad_output):
        input1, input2 = ctx.saved_tensors
        grad_input1 = grad_output * input2
        grad_input2 = grad_output * input1
        return grad_input1, grad_input2


class SwappedMul(CustomMul):
    """CustomMul with its two gradients swapped."""

    @staticmethod
    def backward(ctx, grad_output):
        input1, input2 = ctx.saved_tensors
        return grad_output * input1, grad_output * input2


def compute_gradient(X, y, y_pred):
    """Document 001, cell In [11]."""
    m = X.shape[0]

    dw = (2/m) * np.dot(X.T, (y_pred - y))
    db = (2/m) * np.sum(y_pred - y)

    return dw, db


# Document 003, "Simple Dataset (1/2)" (code data, row 7 = [4.0, 0.1]), targets scaled by 0.01.
X003 = torch.tensor([[0.5, 0.9], [14.0, 12.0], [15.0, 13.6], [28.0, 22.8], [11.0, 8.1], [8.0, 7.1],
                     [3.0, 2.9], [4.0, 0.1], [6.0, 5.3], [13.0, 12.0], [21.0, 19.9], [-1.0, 1.5]])
Y003 = torch.tensor([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4, 29.1]) * 0.01


def model(X, W, b):
    u = torch.sum(X * W, dim=1) + b
    z = activate(u)
    return z


def activate(u):
    return torch.sigmoid(u)


def gradient(W, b, X, y):
    """Document 003, "Training with Backpropagation (1/3)": b_grad is never assigned."""
    y_pred = model(X, W, b)
    dl_dy = 2 * (y_pred - y)
    dl_dy = dl_dy.unsqueeze(dim=-1)
    dy_df = 1.0
    z = torch.sum(X * W, dim=-1) + b
    ds_dz = activate(z) * (1.0 - activate(z))
    ds_dz = ds_dz.unsqueeze(dim=-1)
    W_grad = torch.mean(dl_dy * dy_df * ds_dz * X, dim=0)
    return W_grad, b_grad  # noqa: F821 - as in the document


def gradient_repaired(W, b, X, y):
    """The same with the b_grad line the derivation on the slide implies."""
    y_pred = model(X, W, b)
    dl_dy = (2 * (y_pred - y)).unsqueeze(dim=-1)
    dy_df = 1.0
    z = torch.sum(X * W, dim=-1) + b
    ds_dz = (activate(z) * (1.0 - activate(z))).unsqueeze(dim=-1)
    W_grad = torch.mean(dl_dy * dy_df * ds_dz * X, dim=0)
    b_grad = torch.mean(dl_dy * dy_df * ds_dz, dim=0)
    return W_grad, b_grad


def loss003(W, b, X, y):
    return torch.mean((model(X, W, b) - y) ** 2)

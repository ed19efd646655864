"""Custom ``torch.autograd.Function``s and hand-written gradient formulas, correct and
mutated, shared by ``tests/test_mutations.py`` and the benchmarks
``benchmarks/function_mutants.py`` and ``benchmarks/mutations.py``.

Function mutants (of a CustomMul-like product and a broadcast bias-scale):
swapped inputs, a missing grad_output factor, a mean instead of a sum over the
broadcast dimension, and the gradient returned for the wrong input.  Formula
mutants of document 003's ``torch.mean(dl_dy * dy_df * ds_dz * X, dim=0)``: a sum
instead of the batch mean, a lost factor 2, a lost sigmoid derivative, a flipped
sign, and the mean over the wrong axis.  ``layer`` uses a square weight matrix, so
a transposed gradient has the right shape.
"""

from __future__ import annotations

import torch


def product(rule):
    """A CustomMul whose backward is ``rule(grad_output, input1, input2)``."""

    class Mul(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input1, input2):
            ctx.save_for_backward(input1, input2)
            return input1 * input2

        @staticmethod
        def backward(ctx, grad_output):
            return rule(grad_output, *ctx.saved_tensors)

    return Mul.apply


def scaled(reduce):
    """x * scale, scale of shape (1, d) broadcast over the batch; ``reduce`` undoes it."""

    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x, scale)
            return x * scale

        @staticmethod
        def backward(ctx, grad_output):
            x, scale = ctx.saved_tensors
            return grad_output * scale, reduce(grad_output * x)

    return Scale.apply


FUNCTIONS = {
    "product: correct": product(lambda g, a, b: (g * b, g * a)),
    "product: swapped inputs": product(lambda g, a, b: (g * a, g * b)),
    "product: missing grad_output": product(lambda g, a, b: (b, a)),
    "product: gradient for the wrong input": product(lambda g, a, b: (g * b, g * b)),
    "broadcast: correct": scaled(lambda t: t.sum(dim=0, keepdim=True)),
    "broadcast: mean, not sum": scaled(lambda t: t.mean(dim=0, keepdim=True)),
}


def formula(variant):
    """Document 003's sigmoid-MSE loss with its backward written by hand, mutated."""

    class Loss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, W, b, X, y):
            ctx.save_for_backward(W, b, X, y)
            return torch.mean((torch.sigmoid(torch.sum(X * W, dim=-1) + b) - y) ** 2)

        @staticmethod
        def backward(ctx, grad_output):
            W, b, X, y = ctx.saved_tensors
            s = torch.sigmoid(torch.sum(X * W, dim=-1) + b)
            dl_dy = (2 if variant != "lost factor 2" else 1) * (s - y)
            ds_dz = s * (1 - s) if variant != "lost sigmoid derivative" else torch.ones_like(s)
            terms = (dl_dy * ds_dz).unsqueeze(-1) * X
            W_grad = {"sum, not mean": terms.sum(dim=0), "mean over the wrong axis": terms.mean(dim=1)[:2]
                      if terms.shape[0] >= 2 else terms.mean(dim=0)}.get(variant, terms.mean(dim=0))
            b_grad = torch.mean(dl_dy * ds_dz, dim=0, keepdim=True)
            if variant == "flipped sign":
                W_grad = -W_grad
            return grad_output * W_grad, grad_output * b_grad, None, None

    return Loss.apply


FORMULAS = ["correct", "sum, not mean", "lost factor 2", "lost sigmoid derivative", "flipped sign",
            "mean over the wrong axis"]


def layer(variant):
    """The same pattern for a layer of outputs: mean((sigmoid(X @ W + b) - Y)**2) with W
    square, so a transposed weight gradient has the right shape and wrong values."""

    class Loss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, W, b, X, Y):
            ctx.save_for_backward(W, b, X, Y)
            return torch.mean((torch.sigmoid(X @ W + b) - Y) ** 2)

        @staticmethod
        def backward(ctx, grad_output):
            W, b, X, Y = ctx.saved_tensors
            s = torch.sigmoid(X @ W + b)
            delta = 2 * (s - Y) * s * (1 - s) / (Y.numel() if variant != "mean over the batch only"
                                                 else Y.shape[0])
            W_grad = delta.T @ X if variant == "transposed" else X.T @ delta
            return grad_output * W_grad, grad_output * delta.sum(dim=0), None, None

    return Loss.apply


LAYERS = ["correct", "transposed", "mean over the batch only"]

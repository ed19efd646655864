"""The ``torch`` backend: the expression lowered to torch ops in float64 and
differentiated with ``torch.autograd.grad``."""

from __future__ import annotations

import numpy as np

from diffcheck.backends.base import UNSUPPORTED, Gradient, failed
from diffcheck.language.expr import Var, fold


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def lower(torch, expr, leaves: dict, dtype=None):
    """The expression built from torch ops on the tensors ``leaves`` (name to
    tensor), its constants in ``dtype`` (default float64)."""
    dtype = dtype or torch.float64

    def leaf(node):
        return leaves[node.name] if isinstance(node, Var) else torch.tensor(node.value, dtype=dtype)

    return fold(expr, leaf, lambda node, args: node.op.torch(torch, *args, **node.params))


def batched_gradients(torch, problem, stacked: dict, dtype):
    """Values and gradients at every point of ``stacked`` (name to an array with
    points along the first axis) in one ``vmap`` of ``grad``, computed in
    ``dtype`` and returned as float64 NumPy arrays."""
    names = list(stacked)
    tensors = [torch.tensor(stacked[n], dtype=dtype) for n in names]
    positions = tuple(names.index(n) for n in problem.wrt)

    def value(*leaves):
        out = lower(torch, problem.expr, dict(zip(names, leaves)), dtype)
        return out, out.detach()

    grads, values = torch.func.vmap(torch.func.grad(value, argnums=positions, has_aux=True))(*tensors)
    return (values.numpy().astype(np.float64),
            {n: grads[k].numpy().astype(np.float64) for k, n in enumerate(problem.wrt)})


class TorchBackend:
    name = "torch"

    def gradients(self, problem, points: list[dict]) -> list[Gradient]:
        """Every point in one call: ``torch.func.vmap`` of ``torch.func.grad``, so
        torch itself keeps the points apart.  Where vmap cannot run an op, point
        by point."""
        torch = _torch()
        if torch is None or len(points) == 1 or not problem.wrt:
            return [self.gradient(problem, p) for p in points]
        names = list(points[0])
        stacked = {n: np.stack([np.asarray(p[n], dtype=np.float64) for p in points]) for n in names}
        try:
            values, grads = batched_gradients(torch, problem, stacked, torch.float64)
        except Exception:  # noqa: BLE001 - an op vmap cannot batch: fall back, answers unchanged
            return [self.gradient(problem, p) for p in points]
        out = []
        for i in range(len(points)):
            gradients = {n: grads[n][i] for n in problem.wrt}
            out.append(Gradient(self.name, value=float(values[i]), gradients=gradients,
                                errors={k: np.zeros(np.shape(v)) for k, v in gradients.items()},
                                evaluations=1))
        return out

    def gradient(self, problem, point) -> Gradient:
        torch = _torch()
        if torch is None:
            return failed(self.name, UNSUPPORTED, "torch is not installed")
        leaves = {name: torch.tensor(np.asarray(value, dtype=np.float64),
                                     requires_grad=name in problem.wrt)
                  for name, value in point.items()}
        output = lower(torch, problem.expr, leaves)
        inputs = [leaves[name] for name in problem.wrt]
        if output.requires_grad:
            grads = torch.autograd.grad(output, inputs, allow_unused=True)
        else:
            grads = [None] * len(inputs)
        gradients = {name: (np.zeros(problem.shapes[name]) if g is None
                            else g.detach().numpy().astype(np.float64))
                     for name, g in zip(problem.wrt, grads)}
        return Gradient(self.name, value=float(output.detach()), gradients=gradients,
                        errors={k: np.zeros(np.shape(v)) for k, v in gradients.items()},
                        evaluations=1)

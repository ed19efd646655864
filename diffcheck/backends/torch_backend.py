"""The ``torch`` backend: the expression lowered to torch ops in float64 and
differentiated with ``torch.autograd.grad``."""

from __future__ import annotations

import numpy as np

from ..expr import Const, Var, postorder
from . import UNSUPPORTED, Gradient, failed


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def lower(torch, expr, leaves: dict):
    """The expression built from torch ops on the tensors ``leaves`` (name to tensor)."""
    built = {}
    for node in postorder(expr):
        if isinstance(node, Var):
            built[id(node)] = leaves[node.name]
        elif isinstance(node, Const):
            built[id(node)] = torch.tensor(node.value, dtype=torch.float64)
        else:
            args = [built[id(a)] for a in node.args]
            built[id(node)] = node.op.torch(torch, *args, **node.params)
    return built[id(expr)]


class TorchBackend:
    name = "torch"

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

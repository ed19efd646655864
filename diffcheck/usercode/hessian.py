"""Second derivatives: Hessian-vector checks, compared like first derivatives.

The Hessian of a scalar ``f`` is the Jacobian of its gradient map
``x -> grad f(x)``, so a Hessian check is a first-derivative check of that map
(:mod:`diffcheck.usercode.callables`): torch's double backward (``w^T H`` by
differentiating the gradient graph) and forward-over-reverse (``H u`` by
``torch.func.jvp`` of ``torch.func.grad``, where torch supports it) are compared
with finite differences of the gradient (Richardson tables along the same lines
and random signed directions), and, for an expression, with the symbolic Hessian.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from diffcheck.backends import Gradient
from diffcheck.backends.symbolic import SymbolicBackend
from diffcheck.backends.sympy_lowering import compile_formulas, to_float
from diffcheck.backends.torch_backend import lower
from diffcheck.checking.harness import make_problem, normalise_point
from diffcheck.errors import CallableError
from diffcheck.usercode.callables import audit, options_of
from diffcheck.usercode.verdict import CallableCheck, Method
from diffcheck.usercode.entries import Values
from diffcheck.usercode.probes import Candidate
from diffcheck.usercode.wrappers import TorchCode, parameter_names

DOUBLE_BACKWARD, FORWARD_OVER_REVERSE = "double backward", "forward-over-reverse"


def gradient_map(fn, positions: list[int]):
    """``fn``'s gradient with respect to the arguments at ``positions``, as a function
    whose own derivative torch computes by double backward."""
    import torch

    def mapped(*args):
        args = list(args)
        for p in positions:
            if not args[p].requires_grad:
                args[p] = args[p].detach().requires_grad_(True)
        with torch.enable_grad():
            value = fn(*args)
            if not isinstance(value, torch.Tensor) or value.numel() != 1:
                raise CallableError("a Hessian check needs fn to return a scalar tensor")
            grads = torch.autograd.grad(value, [args[p] for p in positions], create_graph=True,
                                        allow_unused=True)
        return tuple(torch.zeros_like(args[p]) if g is None else g for g, p in zip(grads, positions))

    return mapped


def _forward_over_reverse(fn, code: TorchCode):
    """``H u`` by forward mode over reverse mode, in torch.func."""
    import torch

    def hvp(u, precision):
        primals = tuple(code._leaves(code.x, precision, False))
        tangents = tuple(torch.tensor(part, dtype=p.dtype) for part, p in zip(code.split(u), primals))

        def scalar(*leaves):
            return fn(*code._assemble(list(leaves), precision))

        _, out = torch.func.jvp(torch.func.grad(scalar, argnums=tuple(range(len(primals)))),
                                primals, tangents)
        return np.concatenate([t.detach().double().reshape(-1).numpy() for t in out])

    return hvp


def check_hessian(fn, *inputs, wrt=None, names=None, eps=None, atol=None, rtol=None, probes: int = 2,
                  mode: str = "auto", directions: str = "rademacher", seed: int = 0,
                  symbolic=None) -> CallableCheck:
    """Check the second derivatives of the scalar torch callable ``fn`` at ``inputs``.

    Options as for :func:`diffcheck.check`.  The methods are ``double backward``,
    ``forward-over-reverse`` (reported unsupported where torch.func cannot run
    ``fn``) and, with ``symbolic``, exact values; the reference is the numeric
    derivative of autograd's gradient.
    """
    options = options_of(eps, atol, rtol, probes, mode, directions, seed)
    probe_code = TorchCode(fn, inputs, wrt, names)
    positions = probe_code.positions
    code = TorchCode(gradient_map(fn, positions), inputs, positions,
                     names or parameter_names(fn, len(inputs)), no_grad=False)
    candidates = [Candidate(DOUBLE_BACKWARD, vjp=code.autograd_vjp),
                  Candidate(FORWARD_OVER_REVERSE, jvp=_forward_over_reverse(fn, code))]
    result = audit(code, candidates, options, symbolic)
    result.what = "Hessian"
    for mismatch in [*result.mismatches, *([result.worst] if result.worst else [])]:
        mismatch.quantity = mismatch.quantity.replace("Jacobian", "Hessian")
    return result


def check_expr_hessian(expr: str, at: Mapping, wrt: Iterable[str] | None = None, **options) -> CallableCheck:
    """Check the Hessian of a diffcheck expression: the symbolic Hessian (SymPy,
    evaluated with mpmath) against torch's double backward of the expression and
    finite differences of its gradient, entry by entry."""
    import torch

    point = normalise_point(at)
    problem = make_problem(expr, point, wrt)
    names = list(problem.wrt)
    fixed = {k: torch.tensor(v) for k, v in point.items() if k not in names}

    def fn(*tensors):
        return lower(torch, problem.expr, {**fixed, **dict(zip(names, tensors))})

    inputs = [torch.tensor(point[k], requires_grad=True) for k in names]
    exact = _symbolic_hessian(problem, point)
    options.setdefault("mode", "entries")
    return check_hessian(fn, *inputs, names=names, symbolic=lambda subject, w: (
        exact if isinstance(exact, Method) else Values("symbolic", exact[0].T @ w, np.abs(exact[1]).T @ np.abs(w),
                                                       np.zeros(len(w)))), **options)


def _symbolic_hessian(problem, point):
    """The Hessian (and its evaluation error bound) over the flat ``wrt`` entries."""
    compiled = SymbolicBackend().compile(problem, point)
    if isinstance(compiled, Gradient):
        return Method("symbolic", "unsupported", compiled.reason)
    import mpmath
    import sympy as sp
    symbols = [s for name in problem.wrt for s in np.ravel(compiled.symbols[name])]
    first = [d for name in problem.wrt for d in compiled.formulas[name]]
    second = [sp.diff(d, s) for d in first for s in symbols]
    evaluate = compile_formulas(sp, compiled.arguments, second, "mpmath")
    args = [mpmath.mpf(float(v)) for name in compiled.shapes for v in np.ravel(point[name])]
    with mpmath.workdps(50):
        precise = np.array([to_float(v) for v in evaluate(*args)])
    with mpmath.workdps(30):
        rough = np.array([to_float(v) for v in evaluate(*args)])
    n = len(symbols)
    return precise.reshape(n, n), np.abs(precise - rough).reshape(n, n)

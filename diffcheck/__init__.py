"""diffcheck: is this derivative right?

It differentiates one expression four independent ways (SymPy with an mpmath
reference, Richardson-extrapolated finite differences, its own reverse-mode
engine, and torch.autograd) and cross-checks them.

This module stays light: it imports the harness (and NumPy) only when one of the
names below is first used, so that ``import diffcheck`` and the pytest plugin
cost almost nothing.
"""

from __future__ import annotations

from diffcheck.errors import (  # noqa: F401
    CallableError,
    CaseFileError,
    DiffcheckError,
    ExpressionError,
    GradientMismatch,
    PointError,
    ShapeError,
)

__version__ = "0.1.0"

_LAZY = {
    "check_expr": ("checking.harness", "check_expr"),
    "check_points": ("checking.batch", "check_points"),
    "CheckResult": ("checking.harness", "CheckResult"),
    "Discrepancy": ("checking.harness", "Discrepancy"),
    "OUTCOMES": ("checking.harness", "OUTCOMES"),
    "parse": ("language.parser", "parse"),
    "OPS": ("language.ops", "OPS"),
    "BACKENDS": ("backends", "BACKENDS"),
    "check": ("usercode.callables", "check"),
    "assert_gradients": ("usercode.callables", "assert_gradients"),
    "check_gradient_fn": ("usercode.callables", "check_gradient_fn"),
    "CallableCheck": ("usercode.callables", "CallableCheck"),
    "Mismatch": ("usercode.callables", "Mismatch"),
    "check_hessian": ("usercode.hessian", "check_hessian"),
    "check_expr_hessian": ("usercode.hessian", "check_expr_hessian"),
    "assert_gradients_agree": ("testing.assertions", "assert_gradients_agree"),
    "GradientsDisagree": ("testing.assertions", "GradientsDisagree"),
}

__all__ = ["CallableError", "CaseFileError", "DiffcheckError", "ExpressionError", "GradientMismatch", "PointError",
           "ShapeError",
           *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'diffcheck' has no attribute {name!r}")

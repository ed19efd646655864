"""diffcheck: is this derivative right?

It differentiates one expression four independent ways (SymPy with an mpmath
reference, Richardson-extrapolated finite differences, its own reverse-mode
engine, and torch.autograd) and cross-checks them.

This module stays light: it imports the harness (and NumPy) only when one of the
names below is first used, so that ``import diffcheck`` and the pytest plugin
cost almost nothing.
"""

from __future__ import annotations

from .errors import (CallableError, CaseFileError, DiffcheckError, ExpressionError,  # noqa: F401
                     GradientMismatch, PointError, ShapeError)

__version__ = "0.1.0"

_LAZY = {
    "check_expr": ("harness", "check_expr"),
    "check_points": ("batch", "check_points"),
    "CheckResult": ("harness", "CheckResult"),
    "Discrepancy": ("harness", "Discrepancy"),
    "OUTCOMES": ("harness", "OUTCOMES"),
    "parse": ("parser", "parse"),
    "OPS": ("ops", "OPS"),
    "BACKENDS": ("backends", "BACKENDS"),
    "check": ("callables", "check"),
    "assert_gradients": ("callables", "assert_gradients"),
    "check_gradient_fn": ("callables", "check_gradient_fn"),
    "CallableCheck": ("callables", "CallableCheck"),
    "Mismatch": ("callables", "Mismatch"),
    "check_hessian": ("hessian", "check_hessian"),
    "check_expr_hessian": ("hessian", "check_expr_hessian"),
    "assert_gradients_agree": ("assertions", "assert_gradients_agree"),
    "GradientsDisagree": ("assertions", "GradientsDisagree"),
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

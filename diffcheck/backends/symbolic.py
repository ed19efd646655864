"""The ``symbolic`` backend: SymPy derivatives, evaluated in high precision.

Every variable entry becomes a real SymPy symbol (``W[0, 1]``), the expression is
built from the op records' SymPy forms, and each gradient entry is differentiated
exactly.  The formulas are kept for reports.  They are evaluated with mpmath at
:data:`DIGITS` significant digits, and again at :data:`CHECK_DIGITS` to bound the
evaluation's own error: this backend is the harness's reference truth.  They are
also evaluated in float64 (reported as ``details["float64"]``).

Expansion into components has a cost cap (:data:`MAX_SCALAR_OPS`); beyond it the
backend reports itself skipped, with the reason, instead of attempting it.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..expr import Const, Var, evaluate, postorder
from ..ops import as_object_array
from . import ERROR, SKIPPED, Gradient, failed

DIGITS = 50
CHECK_DIGITS = 30
MAX_SCALAR_OPS = 200_000
MAX_FORMULAS_KEPT = 16
MAX_DEPTH = 250


def _exact(sp, x: float):
    """A float as the exact binary number it is.

    Not the decimal it prints as: float backends compute with the binary value,
    and the reference must be the same function (``relu(x - 1e-9)`` at
    ``x = 1e-9`` is exactly at the kink in float arithmetic and must be there in
    exact arithmetic too).  :func:`readable` shows such numbers as decimals.
    """
    if not math.isfinite(x):
        return sp.nan
    fraction = Fraction(float(x))
    return sp.Rational(fraction.numerator, fraction.denominator)


def readable(sp, formula) -> str:
    """A formula as text, exact binary fractions shown as 17-digit decimals."""
    odd = {r: sp.Float(r, 17) for r in formula.atoms(sp.Rational) if r.q > 10**6}
    return str(formula.xreplace(odd) if odd else formula)


def _constant(sp, node: Const) -> np.ndarray:
    if node.text == "pi":
        value = sp.pi
    elif node.text == "e":
        value = sp.E
    else:
        flat = [_exact(sp, v) for v in np.ravel(node.value)]
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(np.shape(node.value))
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def symbol_array(sp, name: str, shape: tuple) -> np.ndarray:
    """Real symbols for every entry of a variable: ``x``, ``w[2]``, ``X[1, 0]``."""
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        label = name if not shape else f"{name}[{', '.join(map(str, index))}]"
        out[index] = sp.Symbol(label, real=True)
    return out


def scalar_op_count(problem, point) -> int:
    """Roughly how many scalar SymPy operations building the expression takes."""
    values = evaluate(problem.expr, point, keep=True)
    total = 0
    for node in postorder(problem.expr):
        if isinstance(node, (Var, Const)):
            continue
        size = int(np.size(values[id(node)]))
        if node.op.name == "matmul":
            size *= int(np.shape(values[id(node.args[0])])[-1]) if np.ndim(values[id(node.args[0])]) else 1
        elif not node.op.elementwise:
            size = max(size, int(np.size(values[id(node.args[0])])))
        total += size
    return total


def to_sympy(sp, root, symbols: dict) -> np.ndarray:
    """The expression as an object array of SymPy expressions over ``symbols``
    (variable name to object array of symbols, as from :func:`symbol_array`)."""
    built = {}
    for node in postorder(root):
        if isinstance(node, Var):
            built[id(node)] = symbols[node.name]
        elif isinstance(node, Const):
            built[id(node)] = _constant(sp, node)
        else:
            params = {k: (_exact(sp, v) if isinstance(v, float) else v) for k, v in node.params.items()}
            built[id(node)] = as_object_array(node.op.sympy(sp, *[built[id(a)] for a in node.args], **params))
    return built[id(root)]


_FLAT = {"add", "sub", "mul", "neg"}


def tree_depth(root) -> int:
    """Nesting depth as SymPy will see it: chains of + - * flatten into one node."""
    depth: dict[int, int] = {}
    for node in postorder(root):
        flat = getattr(getattr(node, "op", None), "name", None) in _FLAT
        depth[id(node)] = max((depth[id(c)] + (0 if flat and getattr(getattr(c, "op", None), "name", None)
                                                in _FLAT else 1) for c in node.children), default=1)
    return depth[id(root)]


class _Compiled:
    """The symbolic derivative of one problem, ready to evaluate at any point."""

    def __init__(self, problem, point):
        import sympy as sp
        from ..ops import stop_gradient

        self.symbols = {name: symbol_array(sp, name, problem.shapes[name]) for name in problem.shapes}
        self.function = to_sympy(sp, problem.expr, self.symbols)[()]
        self.formulas = {}
        entries = [self.function]
        for name in problem.wrt:
            derivs = [sp.diff(self.function, s) for s in np.ravel(self.symbols[name])]
            self.formulas[name] = derivs
            entries.extend(derivs)
        self.arguments = [s for name in problem.shapes for s in np.ravel(self.symbols[name])]
        modules = [{stop_gradient(sp).__name__: lambda x: x}, "mpmath"]
        self.evaluate = sp.lambdify(self.arguments, entries, modules=modules, cse=True, dummify=True)
        # The same formulas in float64: what a user who copies the formula into
        # NumPy code would get.  Reported beside the reference, never used as it.
        self.evaluate_float64 = sp.lambdify(
            self.arguments, entries, modules=[{stop_gradient(sp).__name__: lambda x: x}, "numpy"],
            cse=True, dummify=True)
        self.shapes = problem.shapes
        self.wrt = problem.wrt


def to_float(value) -> float:
    """An mpmath result as a float; NaN for a complex or unconvertible result."""
    import mpmath
    if isinstance(value, mpmath.mpc):
        return float(value.real) if value.imag == 0 else float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


class SymbolicBackend:
    name = "symbolic"

    def compile(self, problem, point) -> _Compiled | Gradient:
        if self.name not in problem.cache:
            cost = scalar_op_count(problem, point)
            depth = tree_depth(problem.expr)
            if depth > MAX_DEPTH:
                # SymPy's own walks are recursive: a deeper tree would hit
                # Python's recursion limit inside it.
                problem.cache[self.name] = failed(
                    self.name, SKIPPED, f"the expression is {depth} levels deep, over the "
                    f"symbolic backend's cap of {MAX_DEPTH}")
            elif cost > MAX_SCALAR_OPS:
                problem.cache[self.name] = failed(
                    self.name, SKIPPED, f"expansion into components needs about {cost:,} scalar "
                    f"operations, over the cap of {MAX_SCALAR_OPS:,}")
            else:
                problem.cache[self.name] = _Compiled(problem, point)
        return problem.cache[self.name]

    def gradient(self, problem, point) -> Gradient:
        import mpmath

        compiled = self.compile(problem, point)
        if isinstance(compiled, Gradient):
            return compiled
        args = [mpmath.mpf(float(v)) for name in compiled.shapes for v in np.ravel(point[name])]
        try:
            with mpmath.workdps(DIGITS):
                precise = compiled.evaluate(*args)
            with mpmath.workdps(CHECK_DIGITS):
                rough = compiled.evaluate(*args)
        except (ZeroDivisionError, ValueError, OverflowError, TypeError) as err:
            return failed(self.name, ERROR, f"evaluating the derivative failed: {type(err).__name__}: {err}")
        values = np.array([to_float(v) for v in precise])
        with np.errstate(all="ignore"):
            try:
                # NumPy scalars, not Python floats: 1e200**2 must be inf, not an OverflowError.
                float64 = np.array([float(v) for v in compiled.evaluate_float64(
                    *[np.float64(v) for name in compiled.shapes for v in np.ravel(point[name])])])
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                float64 = np.full(len(values), np.nan)
        with mpmath.workdps(DIGITS):
            spread = np.array([to_float(abs(p - r)) if to_float(p) == to_float(p) else 0.0
                               for p, r in zip(precise, rough)])
        gradients, errors, in_float64, offset = {}, {}, {}, 1
        for name in compiled.wrt:
            shape = compiled.shapes[name]
            count = int(np.prod(shape, dtype=int))
            gradients[name] = values[offset:offset + count].reshape(shape)
            errors[name] = spread[offset:offset + count].reshape(shape)
            in_float64[name] = float64[offset:offset + count].reshape(shape)
            offset += count
        import sympy as sp
        formulas = {name: [readable(sp, f) for f in derivs[:MAX_FORMULAS_KEPT]]
                    for name, derivs in compiled.formulas.items()}
        return Gradient(self.name, value=float(values[0]), gradients=gradients, errors=errors,
                        evaluations=2, details={"formulas": formulas, "float64": in_float64,
                                                "function": readable(sp, compiled.function)})

"""The ``symbolic`` backend: SymPy derivatives, evaluated in high precision.

Every variable entry becomes a real SymPy symbol (``W[0, 1]``), the expression is
built from the op records' SymPy forms, and each gradient entry is differentiated
exactly.  The formulas are kept for reports.  They are evaluated with mpmath at
:data:`CHECK_DIGITS` and :data:`DIGITS` significant digits, then at doubling
precision until two successive evaluations agree to :data:`SETTLED_DIGITS`
digits (cancellation amplified past the working precision shows as a spread
between them), up to :data:`MAX_DIGITS`: the last spread is the reported error
bound, and a formula that never settles is reported skipped, not as a reference
with a bound it does not have.  This backend is the harness's reference truth.
They are also evaluated in float64 (reported as ``details["float64"]``).

Expansion into components has a cost cap (:data:`MAX_SCALAR_OPS`); beyond it the
backend reports itself skipped, with the reason, instead of attempting it.
"""

from __future__ import annotations

import math

import numpy as np

from diffcheck.backends.base import ERROR, SKIPPED, Gradient, failed
from diffcheck.backends.chainrule import derivative_program
from diffcheck.language.expr import Const, postorder
from diffcheck.backends.sympy_lowering import (
    constant_array,
    deep_recursion,
    lambdify_program,
    program_text,
    readable,
    renamed,
    scalar_op_count,
    symbol_array,
    terms_by_symbol,
    to_float,
    to_sympy,
    tree_depth,
)

DIGITS = 50
CHECK_DIGITS = 30
#: Two successive evaluations must agree to this many significant digits (of the
#: largest entry, for an entry that is 0): the comparisons need about 17.
SETTLED_DIGITS = 20
#: The last precision tried (plus :func:`extra_digits`); CHECK_DIGITS, DIGITS,
#: then doubling: 100, 200, 400, 800.
MAX_DIGITS = 800
MAX_SCALAR_OPS = 200_000
MAX_FORMULAS_KEPT = 16
MAX_DEPTH = 250
#: Deeper than this, derivatives are built as a program (see chainrule.py), not
#: by ``sympy.diff`` of the whole expression.
PROGRAM_DEPTH = 24


def extra_digits(point, constants=()) -> int:
    """Digits added to every evaluation for inputs (and literal ``constants``) far
    from 1 in magnitude.

    An input meets constants of size 1 in cancellations such as ``exp(x) - 1``
    (elu) or ``1 - cos(x)``, which keep only what lies below the input's own
    scale, or below its square's: at ``x = -6.4e-214`` all 50 digits of
    ``exp(x)`` are 1, both evaluations give ``elu(x) = 0`` and agree, and the
    reference is wrong with no error to show for it.  Two digits per decade
    between the input and 1 give those digits back (at most about 650, for
    float64's smallest subnormal).  A literal meets them the same way:
    ``exp(x)*(1 + 1e-70) - exp(x)`` is 0 at 50 and at 30 digits."""
    decades = 0.0
    for value in [*point.values(), *constants]:
        magnitudes = np.abs(np.ravel(np.asarray(value, dtype=np.float64)))
        magnitudes = magnitudes[np.isfinite(magnitudes) & (magnitudes > 0)]
        if magnitudes.size:
            decades = max(decades, float(np.max(np.abs(np.log10(magnitudes)))))
    return 2 * math.ceil(decades)


class _Compiled:
    """The symbolic derivative of one problem, ready to evaluate at any point.

    The formulas are compiled into Python functions lazily, once per precision:
    the mpmath one for the reference, the float64 one for batches of points.  The
    generated code names its arguments ``_a0, _a1, ...``, never after the user's
    variables, and both functions share one common-subexpression elimination.
    """

    def __init__(self, problem, point):
        import sympy as sp

        self.symbols = {name: symbol_array(sp, name, problem.shapes[name]) for name in problem.shapes}
        self.arguments = [s for name in problem.shapes for s in np.ravel(self.symbols[name])]
        self.shapes = problem.shapes
        self.wrt = problem.wrt
        self.expr = problem.expr
        self.depth = tree_depth(problem.expr)
        # Evaluated as a program of SymPy's local derivatives (chainrule.py): linear
        # in the expression's size, where differentiating the whole expression per
        # entry is quadratic in the entries and worse in the depth.
        self.program = derivative_program(sp, problem.expr, self.symbols, problem.wrt,
                                          lambda node: constant_array(sp, node))
        entries = [self.program.value, *[d for v in problem.wrt for d in self.program.derivatives[v]]]
        self._arguments, renamed_entries, names = renamed(sp, self.arguments, entries)
        self._program = ([(s, e.xreplace(names)) for s, e in self.program.assignments], renamed_entries)
        self._compiled = {}

    def _function(self, module: str):
        if module not in self._compiled:
            import sympy as sp
            self._compiled[module] = lambdify_program(sp, self._arguments, self._program, module)
        return self._compiled[module]

    @property
    def function(self):
        """The expression as one SymPy formula over the entries' symbols (for
        reports and formulas; evaluation uses the program).  Built on first use."""
        if not hasattr(self, "_function_formula"):
            import sympy as sp
            self._function_formula = to_sympy(sp, self.expr, self.symbols)[()]
        return self._function_formula

    @property
    def formulas(self) -> dict:
        """Each ``wrt`` variable's derivative formulas (flattened), as SymPy's
        derivatives of the whole expression: the form a person reads, and what
        further symbolic work (a Hessian) starts from.  Derived on first use."""
        if not hasattr(self, "_formulas"):
            import sympy as sp
            terms = terms_by_symbol(sp, self.function)
            self._formulas = {name: [sp.Add(*[t.diff(s) for t in terms.get(s, ())])
                                     for s in np.ravel(self.symbols[name])] for name in self.wrt}
        return self._formulas

    def texts(self) -> dict:
        """The function and the first few derivative formulas as text, for reports.

        Formulas are SymPy's derivatives of the whole expression, readable as a
        person would write them (see :attr:`formulas`);
        beyond :data:`PROGRAM_DEPTH` levels, where writing the chain rule out
        swells, the derivative is shown as the program that computes it."""
        if not hasattr(self, "_texts"):
            import sympy as sp
            formulas = {}
            for name in self.wrt:
                shown = list(np.ravel(self.symbols[name]))[:MAX_FORMULAS_KEPT]
                if self.depth > PROGRAM_DEPTH:
                    formulas[name] = [program_text(sp, self.program, self.program.derivatives[name][i])
                                      for i in range(len(shown))]
                else:
                    formulas[name] = [readable(sp, f) for f in self.formulas[name][:len(shown)]]
            self._texts = {"formulas": formulas, "function": readable(sp, self.function)}
        return self._texts

    def evaluate(self, *args):
        """Function value and gradient entries, in mpmath at its working precision."""
        return self._function("mpmath")(*args)

    def evaluate_float64(self, *args):
        """The same formulas in NumPy float64 (arguments may be arrays of points):
        what a user who copies the formula into NumPy code would get."""
        return self._function("numpy")(*args)


def _settled(compiled, args, extra: int):
    """The formulas at increasing precision until two successive evaluations agree.

    Returns ``(values, spread, evaluations, digits)``: the mpmath values at the
    last precision, each entry's distance from the previous precision's (its
    error bound: each step at least doubles the digits, so the last evaluation's
    own error is far below the spread once they agree), the number of evaluations
    and the last precision.  ``spread`` is None when :data:`MAX_DIGITS` is reached
    unsettled.  An entry agrees when the spread is below 10**-SETTLED_DIGITS of
    its size, or of the largest entry's for an entry that is (nearly) 0."""
    import mpmath

    precisions = [CHECK_DIGITS, DIGITS]
    while precisions[-1] < MAX_DIGITS:
        precisions.append(2 * precisions[-1])
    previous = None
    for count, digits in enumerate(precisions, start=1):
        with mpmath.workdps(digits + extra):
            current = compiled.evaluate(*args)
            if previous is not None:
                spread = [abs(p - r) for p, r in zip(current, previous)]
                finite = [abs(v) for v in current if mpmath.isfinite(v)]
                largest = max(finite[1:], default=mpmath.mpf(0))   # gradient entries only
                allowed = mpmath.mpf(10) ** -SETTLED_DIGITS
                if all(not mpmath.isfinite(v) or d <= allowed * max(abs(v), largest if i else 0)
                       for i, (v, d) in enumerate(zip(current, spread))):
                    return current, np.array([to_float(d) if mpmath.isfinite(d) else 0.0
                                              for d in spread]), count, digits + extra
            previous = current
    return current, None, len(precisions), precisions[-1] + extra


def _too_deep(problem) -> Gradient:
    return failed("symbolic", SKIPPED, f"SymPy ran out of recursion depth on this expression "
                  f"({tree_depth(problem.expr)} levels deep)")


class SymbolicBackend:
    """The reference.  :meth:`gradient` evaluates the derivative formulas with
    mpmath; :meth:`gradients` evaluates them at many points at once in float64,
    for callers (the harness's :func:`~diffcheck.checking.harness.check_points`) that ask
    for the precise value only at the points where it decides an outcome."""

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
                try:
                    with deep_recursion():
                        problem.cache[self.name] = _Compiled(problem, point)
                except RecursionError:
                    problem.cache[self.name] = _too_deep(problem)
        return problem.cache[self.name]

    def gradient(self, problem, point) -> Gradient:
        try:
            with deep_recursion():
                return self._gradient(problem, point)
        except RecursionError:
            return _too_deep(problem)

    def gradients(self, problem, points: list[dict]) -> list[Gradient]:
        """The formulas in float64 at every point, in one vectorised call.

        Marked ``details["precision"] = "float64"`` with zero error estimates:
        good enough to confirm an agreement among independent methods, never to
        settle a disagreement (the harness then asks :meth:`gradient`).
        """
        try:
            with deep_recursion():
                return self._gradients(problem, points)
        except RecursionError:
            return [_too_deep(problem)] * len(points)

    def _gradient(self, problem, point) -> Gradient:
        import mpmath

        compiled = self.compile(problem, point)
        if isinstance(compiled, Gradient):
            return compiled
        args = [mpmath.mpf(float(v)) for name in compiled.shapes for v in np.ravel(point[name])]
        extra = extra_digits(point, [c.value for c in postorder(problem.expr) if isinstance(c, Const)])
        try:
            precise, spread, evaluations, digits = _settled(compiled, args, extra)
        except (ZeroDivisionError, ValueError, OverflowError, TypeError) as err:
            return failed(self.name, ERROR, f"evaluating the derivative failed: {type(err).__name__}: {err}")
        if spread is None:
            return failed(self.name, SKIPPED, f"the derivative did not settle: evaluations at {digits // 2} "
                          f"and {digits} digits still differ in the first {SETTLED_DIGITS} digits "
                          "(cancellation beyond the precision cap), so no error bound can be given")
        values = np.array([to_float(v) for v in precise])
        with np.errstate(all="ignore"):
            try:
                # NumPy scalars, not Python floats: 1e200**2 must be inf, not an OverflowError.
                float64 = np.array([float(v) for v in compiled.evaluate_float64(
                    *[np.float64(v) for name in compiled.shapes for v in np.ravel(point[name])])])
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                float64 = np.full(len(values), np.nan)
        gradients, errors, in_float64, offset = {}, {}, {}, 1
        for name in compiled.wrt:
            shape = compiled.shapes[name]
            count = int(np.prod(shape, dtype=int))
            gradients[name] = values[offset:offset + count].reshape(shape)
            errors[name] = spread[offset:offset + count].reshape(shape)
            in_float64[name] = float64[offset:offset + count].reshape(shape)
            offset += count
        return Gradient(self.name, value=float(values[0]), gradients=gradients, errors=errors,
                        evaluations=evaluations,
                        details={**compiled.texts(), "float64": in_float64, "digits": digits})

    def _gradients(self, problem, points: list[dict]) -> list[Gradient]:
        compiled = self.compile(problem, points[0])
        if isinstance(compiled, Gradient):
            return [compiled] * len(points)
        args = [np.array([float(np.ravel(p[name])[i]) for p in points])
                for name in compiled.shapes for i in range(int(np.prod(compiled.shapes[name], dtype=int)))]
        try:
            with np.errstate(all="ignore"):
                entries = compiled.evaluate_float64(*args)
            table = np.array([np.broadcast_to(np.asarray(e, dtype=np.float64), (len(points),))
                              for e in entries])
        except (TypeError, ValueError, ZeroDivisionError) as err:
            reason = f"evaluating the derivative in float64 failed: {type(err).__name__}: {err}"
            return [failed(self.name, ERROR, reason)] * len(points)
        out = []
        for i in range(len(points)):
            gradients, offset = {}, 1
            for name in compiled.wrt:
                shape = compiled.shapes[name]
                count = int(np.prod(shape, dtype=int))
                gradients[name] = table[offset:offset + count, i].reshape(shape)
                offset += count
            out.append(Gradient(self.name, value=float(table[0, i]), gradients=gradients,
                                errors={k: np.zeros(np.shape(v)) for k, v in gradients.items()},
                                evaluations=1, details={"precision": "float64"}))
        return out

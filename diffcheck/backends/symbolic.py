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
import sys
from contextlib import contextmanager
from fractions import Fraction

import numpy as np

from diffcheck.language.expr import Const, Var, evaluate, postorder
from diffcheck.language.ops import as_object_array
from diffcheck.backends import ERROR, SKIPPED, Gradient, failed
from diffcheck.backends.chainrule import derivative_program

DIGITS = 50
CHECK_DIGITS = 30
MAX_SCALAR_OPS = 200_000
MAX_FORMULAS_KEPT = 16
MAX_DEPTH = 250
#: Deeper than this, derivatives are built as a program (see chainrule.py), not
#: by ``sympy.diff`` of the whole expression.
PROGRAM_DEPTH = 24


def extra_digits(point) -> int:
    """Digits added to both evaluations for inputs far from 1 in magnitude.

    An input meets constants of size 1 in cancellations such as ``exp(x) - 1``
    (elu) or ``1 - cos(x)``, which keep only what lies below the input's own
    scale, or below its square's: at ``x = -6.4e-214`` all 50 digits of
    ``exp(x)`` are 1, both evaluations give ``elu(x) = 0`` and agree, and the
    reference is wrong with no error to show for it.  Two digits per decade
    between the input and 1 give those digits back (at most about 650, for
    float64's smallest subnormal)."""
    decades = 0.0
    for value in point.values():
        magnitudes = np.abs(np.ravel(np.asarray(value, dtype=np.float64)))
        magnitudes = magnitudes[np.isfinite(magnitudes) & (magnitudes > 0)]
        if magnitudes.size:
            decades = max(decades, float(np.max(np.abs(np.log10(magnitudes)))))
    return 2 * math.ceil(decades)


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


def renamed(sp, arguments, entries):
    """``arguments`` and ``entries`` with every argument symbol replaced by a
    symbol named ``_a0, _a1, ...``, and the replacement map.

    Generated code then never carries a user's variable name, and lambdify need
    not rename arguments itself: it renames names that are not identifiers
    (``W[0, 1]``), and every argument once any is a ``Dummy``, walking every
    formula once per argument (quadratic); one simultaneous substitution walks
    each once.  The intermediate results of a program stay dummies, which lambdify
    prints as ``_Dummy_<number>``, a name no argument has.
    """
    names = {s: sp.Symbol(f"_a{i}", real=True) for i, s in enumerate(arguments)}
    return (list(names.values()),
            [e.xreplace(names) if isinstance(e, sp.Basic) else e for e in entries], names)


def lambdify_program(sp, arguments, program, module: str):
    """A Python function of ``arguments`` that runs ``program`` (assignments and
    outputs, as from ``sympy.cse``) with ``module`` ("mpmath" or "numpy")."""
    from diffcheck.language.ops import stop_gradient
    return sp.lambdify(arguments, program[1], dummify=False, cse=lambda _: program,
                       modules=[{stop_gradient(sp).__name__: lambda x: x}, module])


def compile_formulas(sp, arguments, entries, module: str):
    """A Python function of ``arguments`` returning the list of ``entries``
    evaluated with ``module``, common subexpressions computed once."""
    arguments, entries, _ = renamed(sp, arguments, entries)
    return lambdify_program(sp, arguments, sp.cse(entries, list=True), module)


#: Longest program text kept in a report for one derivative.
MAX_PROGRAM_TEXT = 4000


def program_text(sp, program, output) -> str:
    """``output`` with the assignments it needs, as ``%k = formula`` steps (names
    no variable can have)."""
    needed, used = set(output.free_symbols), []
    for name, formula in reversed(program.assignments):
        if name in needed:
            needed |= formula.free_symbols
            used.append((name, formula))
    used.reverse()
    shown = {name: sp.Symbol(f"%{k}") for k, (name, _) in enumerate(used, 1)}
    steps = [f"{shown[name]} = {readable(sp, formula.xreplace(shown))}" for name, formula in used]
    text = readable(sp, output.xreplace(shown)) + (f" where {'; '.join(steps)}" if steps else "")
    return text if len(text) <= MAX_PROGRAM_TEXT else text[:MAX_PROGRAM_TEXT] + " ..."


def _terms_by_symbol(sp, function) -> dict:
    """The terms of ``function`` (a sum, or one term) that contain each symbol.

    A loss over a batch is a sum of one term per sample: differentiating only the
    terms that contain an entry keeps the cost of all derivatives near linear in
    the number of entries, where differentiating the whole sum would be quadratic.
    """
    terms = function.args if isinstance(function, sp.Add) else (function,)
    found: dict = {}
    for term in terms:
        for symbol in term.free_symbols:
            found.setdefault(symbol, []).append(term)
    return found


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
                                          lambda node: _constant(sp, node))
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
            terms = _terms_by_symbol(sp, self.function)
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


def to_float(value) -> float:
    """An mpmath result as a float; NaN for a complex or unconvertible result."""
    import mpmath
    if isinstance(value, mpmath.mpc):
        return float(value.real) if value.imag == 0 else float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


#: SymPy's walks are recursive, several Python frames per level of nesting.
RECURSION_LIMIT = 3000


@contextmanager
def deep_recursion(limit: int = RECURSION_LIMIT):
    """Room for recursive walks of nested trees: SymPy's, or pickle's (raised to
    ``limit``, never lowered)."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


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
        extra = extra_digits(point)
        try:
            with mpmath.workdps(DIGITS + extra):
                precise = compiled.evaluate(*args)
            with mpmath.workdps(CHECK_DIGITS + extra):
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
        with mpmath.workdps(DIGITS + extra):
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
        return Gradient(self.name, value=float(values[0]), gradients=gradients, errors=errors,
                        evaluations=2, details={**compiled.texts(), "float64": in_float64})

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

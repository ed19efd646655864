"""SymPy forms of expressions: what the symbolic methods share.

The symbolic backend (:mod:`diffcheck.backends.symbolic`), its chain-rule
program (:mod:`diffcheck.backends.chainrule`), formula equivalence and the
Hessian all lower expression trees to SymPy through the functions here: exact
binary constants, one real symbol per variable entry, the op records' SymPy
forms, and compilation of formulas to mpmath or NumPy functions.  SymPy itself
is passed in (``sp``) so that importing this module stays cheap.
"""

from __future__ import annotations

import math
import sys
from contextlib import contextmanager
from fractions import Fraction

import numpy as np

from diffcheck.language.expr import Const, Var, evaluate, fold, postorder
from diffcheck.language.ops import as_object_array, stop_gradient


def exact_rational(sp, x: float):
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


def constant_array(sp, node: Const) -> np.ndarray:
    if node.text == "pi":
        value = sp.pi
    elif node.text == "e":
        value = sp.E
    else:
        flat = [exact_rational(sp, v) for v in np.ravel(node.value)]
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
    # A sum over the nodes in any order, not a lowering: no fold needed.
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
    def leaf(node):
        return symbols[node.name] if isinstance(node, Var) else constant_array(sp, node)

    return fold(root, leaf, lambda node, args: sympy_form(sp, node, args))


def sympy_form(sp, node, args) -> np.ndarray:
    """One op's SymPy form over its arguments' object arrays, float parameters
    (``alpha``) read as the exact binary numbers they are."""
    params = {k: (exact_rational(sp, v) if isinstance(v, float) else v) for k, v in node.params.items()}
    return as_object_array(node.op.sympy(sp, *args, **params))


_FLAT = {"add", "sub", "mul", "neg"}


def tree_depth(root) -> int:
    """Nesting depth as SymPy will see it: chains of + - * flatten into one node."""
    def flat(node):
        return getattr(getattr(node, "op", None), "name", None) in _FLAT

    def apply(node, depths):
        return max((d + (0 if flat(node) and flat(c) else 1) for c, d in zip(node.args, depths)), default=1)

    return fold(root, lambda leaf: 1, apply)


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


def terms_by_symbol(sp, function) -> dict:
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

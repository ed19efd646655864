"""Symbolic derivatives of deep compositions, kept as a program.

``sympy.diff`` of a deeply nested expression writes the chain rule out in full:
each level multiplies in the derivative of the next, and SymPy flattens and
re-canonicalises the growing product at every step, so the work grows at least
quadratically with the depth (a composition 120 levels deep took 11 s).  Here the
expression becomes a straight-line program instead: one intermediate symbol per
op result, one assignment each, and the derivative is accumulated backwards
through the assignments, again one assignment per intermediate.  Every local
derivative is SymPy's own (``sympy.diff`` of one op's SymPy form with respect to
one of its arguments' symbols), so the method stays independent of the engine's
hand-written rules; only the chain rule's bookkeeping is done here.  The program
is in common-subexpression form by construction and evaluates in linear time.
"""

from __future__ import annotations

import numpy as np

from diffcheck.backends.sympy_lowering import sympy_form
from diffcheck.language.expr import Var, fold


class Program:
    """Assignments ``(symbol, expression)`` in evaluation order, and the outputs:
    the function's value and each derivative, as expressions over the symbols."""

    def __init__(self, assignments: list, value, derivatives: dict):
        self.assignments = assignments
        self.value = value
        self.derivatives = derivatives   # variable name -> list of expressions, flattened


def derivative_program(sp, expr, symbols: dict, wrt: list[str], constant) -> Program:
    """The value of ``expr`` and its derivatives with respect to every entry of
    the variables in ``wrt``, as a :class:`Program` over ``symbols`` (variable
    name to object array of SymPy symbols).  ``constant(node)`` gives a constant
    node as an object array of SymPy numbers."""

    assignments = []
    partials: dict = {}        # intermediate symbol -> [(argument symbol, local derivative)]

    def apply(node, args):
        # One assignment per entry of the op's result that is not already an atom.
        result = sympy_form(sp, node, args)
        out = np.empty(result.shape, dtype=object)
        for index in np.ndindex(*result.shape):
            entry = result[index] if isinstance(result[index], sp.Basic) else sp.Number(result[index])
            if entry.is_Atom:
                out[index] = entry
                continue
            name = sp.Dummy("t", real=True)
            assignments.append((name, entry))
            partials[name] = _local_partials(sp, entry)
            out[index] = name
        return out

    def leaf(node):
        return symbols[node.name] if isinstance(node, Var) else constant(node)

    output = fold(expr, leaf, apply)[()]

    adjoints: dict = {output: [sp.S.One]}
    for name, _ in reversed(list(assignments)):
        terms = adjoints.pop(name, None)
        if not terms:
            continue
        total = sp.Add(*terms)
        if not total.is_Atom:
            adjoint = sp.Dummy("g", real=True)
            assignments.append((adjoint, total))
            total = adjoint
        for argument, local in partials[name]:
            if local != 0:
                adjoints.setdefault(argument, []).append(total * local)
    derivatives = {var: [sp.Add(*adjoints.get(s, [])) for s in np.ravel(symbols[var])] for var in wrt}
    return Program(assignments, output, derivatives)


def _local_partials(sp, entry) -> list:
    """``(symbol, d entry / d symbol)`` for every symbol of ``entry``.

    A sum (a reduction over many entries) is differentiated term by term, each
    symbol through only the terms that hold it: differentiating the whole sum
    once per symbol would be quadratic in its length.
    """
    if not isinstance(entry, sp.Add):
        return [(s, entry.diff(s)) for s in entry.free_symbols]
    holding: dict = {}
    for term in entry.args:
        for symbol in term.free_symbols:
            holding.setdefault(symbol, []).append(term)
    return [(s, sp.Add(*[t.diff(s) for t in terms])) for s, terms in holding.items()]


"""A check's input made ready: the point as float64 arrays, the expression parsed
and checked to be a scalar there (a :class:`~diffcheck.backends.base.Problem`),
and the one cache of compiled forms every check of a run shares.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping

import numpy as np

from diffcheck.backends import Problem
from diffcheck.errors import ExpressionError, PointError, ShapeError
from diffcheck.language.expr import Apply, Expr, evaluate, postorder, to_text, variables
from diffcheck.language.parser import check_identifier, parse, parse_value

#: Largest number of entries one variable may have.
MAX_ENTRIES = 1_000_000


def normalise_point(at: Mapping, where: str = "point") -> dict[str, np.ndarray]:
    """Variable values as float64 arrays; text values are read as number literals."""
    point = {}
    for name, value in at.items():
        try:
            check_identifier(name)
        except ExpressionError as err:
            raise err.located(where) from None
        if isinstance(value, str):
            value = parse_value(value, where=f"{where}, value of {name}")
        try:
            # A huge array is refused below without first being copied to float64.
            oversized = isinstance(value, np.ndarray) and value.size > MAX_ENTRIES
            array = value if oversized else np.array(value, dtype=np.float64)
        except (TypeError, ValueError, RecursionError):
            raise PointError(f"{where}: the value of {name} is not a number or a "
                             f"rectangular array of numbers") from None
        if array.size > MAX_ENTRIES:
            raise PointError(f"{where}: {name} has {array.size} entries (at most {MAX_ENTRIES})")
        if array.ndim > 2:
            raise PointError(f"{where}: {name} has {array.ndim} axes; variables are scalars, "
                             "vectors or matrices")
        point[name] = array
    return point


def make_problem(expr: str | Expr, point: Mapping[str, np.ndarray],
                 wrt: Iterable[str] | None = None, where: str = "expression") -> Problem:
    """Parse (if needed) and check that the expression is a scalar at this point."""
    tree = parse(expr, point.keys(), where=where) if isinstance(expr, str) else expr
    text = expr if isinstance(expr, str) else to_text(expr)
    used = variables(tree)
    wrt = list(used if wrt is None else wrt)
    for name in wrt:
        if name not in point:
            raise PointError(f"{where}: cannot differentiate with respect to {name!r}: "
                             "it has no value")
    try:
        value = evaluate(tree, point)
    except ShapeError as err:
        raise err.located(where) from None
    if np.ndim(value) != 0:
        raise ShapeError(f"the expression's value has shape {np.shape(value)}; diffcheck "
                         "differentiates scalar expressions (wrap it in sum() or mean())",
                         where=where)
    shapes = {name: point[name].shape for name in point}
    problem = Problem(tree, wrt, shapes, text)
    if isinstance(expr, str):
        problem.cache = compiled_forms(problem)
    return problem


#: How many expressions' compiled forms a run keeps (least recently used dropped).
COMPILED_KEPT = 64
_COMPILED: OrderedDict[tuple, tuple] = OrderedDict()


def forget_compiled() -> None:
    """Drop every kept compilation (a benchmark timing compilation calls this)."""
    _COMPILED.clear()


def compiled_forms(problem: Problem) -> dict:
    """The backends' compiled forms of this expression, shared by every problem of
    the run with the same text, shapes, variables and op records.

    A property-based run asks about one expression at point after point, one call
    at a time (and Hypothesis repeats expressions while it shrinks): the symbolic
    derivation is done once.  The key holds the op records themselves, so a test
    that swaps an op's record for a faulty copy gets a fresh compilation.
    """
    ops = tuple(node.op for node in postorder(problem.expr) if isinstance(node, Apply))
    key = (problem.text, tuple(sorted(problem.shapes.items())), tuple(problem.wrt),
           tuple(id(op) for op in ops))
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
    else:
        _COMPILED[key] = (ops, {})   # the ops kept alive, so their ids cannot be reused
        while len(_COMPILED) > COMPILED_KEPT:
            _COMPILED.popitem(last=False)
    return _COMPILED[key][1]



"""Hypothesis strategies for expressions and points, for property-based checks.

::

    from hypothesis import given
    from diffcheck.strategies import problems

    @given(problems())
    def test_backends_agree(drawn):
        assert diffcheck.check_expr(drawn.expr, drawn.point).verdict != "discrepancy"

How points stay in every op's domain without filtering: :func:`expressions`
first gives each variable a shape and a box (every entry lies in ``[-3, 3]``, or
in ``[0.25, 4]`` for a positive one), then builds the tree bottom-up with
``hypothesis.strategies.recursive``, knowing the bounds of every subtree
(:mod:`diffcheck.bounds`).  An op is chosen only among those whose domain holds
on the whole box (``log`` of a subtree bounded below by 0.05, a divisor bounded
away from zero), so :func:`points` can draw any values from the boxes.

Points deliberately land on and near kinks and ties: entries are often exactly
0 or a small integer (``relu(x)``, ``abs(x - 1)``), or a hair away from one, and
a variable often takes another's value (``max(x, y)`` at ``x == y``).

Strategies shrink toward readable failures: variables before literals, small
literals, scalars before vectors, the first op of the list, fewer nodes.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .bounds import Interval, bound
from .expr import Apply, Const, Expr, Var, postorder, to_text, variables as used_variables
from .ops import OPS, UNIQUE_OPS

#: Shapes a variable may take: scalars only, or also a vector and a matrix whose
#: sizes let matmul, transpose and reductions along an axis combine them.
SCALARS: tuple = ((),)
ARRAYS: tuple = ((), (3,), (2, 3))
#: The boxes a variable's entries are drawn from: any sign (kinks at 0 inside),
#: or positive (log, sqrt and division apply to the variable itself).
SIGNED = Interval(-3.0, 3.0)
POSITIVE = Interval(0.25, 4.0)
#: Literals, simplest first.
LITERALS = ("1", "2", "0", "3", "0.5")
#: Offsets from a kink or a tie that are near it but not on it.
NEAR = (1e-9, -1e-9, 1e-6, -1e-6)

# Each tree drawn by expressions() keeps its variables' shapes and boxes here,
# for points() to draw from.
_SIGNATURES: "weakref.WeakKeyDictionary[Expr, dict]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Drawn:
    """One generated problem: an expression tree and a point inside its domain."""

    expr: Expr
    point: Mapping[str, np.ndarray]

    @property
    def text(self) -> str:
        """The expression as text diffcheck's parser reads back to the same tree."""
        return to_text(self.expr)

    @property
    def wrt(self) -> list[str]:
        return used_variables(self.expr)

    def __repr__(self) -> str:   # what Hypothesis prints for a falsifying example
        values = ", ".join(f"{k}={np.asarray(v).tolist()!r}" for k, v in self.point.items())
        return f"Drawn({self.text!r}, {{{values}}})"


@dataclass(frozen=True)
class _Node:
    tree: Expr
    bounds: Interval


def _op_names(ops: Optional[Iterable[str]]) -> list[str]:
    if ops is None:
        return [op.name for op in UNIQUE_OPS]
    if isinstance(ops, str):
        raise InvalidArgument(f"ops must be a list of op names, got the string {ops!r}")
    names = []
    for name in ops:
        if name not in OPS:
            raise InvalidArgument(f"unknown op {name!r}; choose from "
                                  f"{', '.join(op.name for op in UNIQUE_OPS)}")
        names.append(OPS[name].name)
    if not names:
        raise InvalidArgument("ops is empty: give at least one op name")
    return list(dict.fromkeys(names))


def _check_variables(variables: Sequence[str]) -> list[str]:
    from .parser import check_identifier
    names = list(variables)
    if not names or isinstance(variables, str):
        raise InvalidArgument(f"variables must be a non-empty list of names, got {variables!r}")
    for name in names:
        check_identifier(name)
    return names


def _leaves(signature: dict) -> st.SearchStrategy:
    variables = [_Node(Var(name), Interval(box.lo, box.hi, shape))
                 for name, (shape, box) in signature.items()]
    literals = [_Node(Const(np.array(float(text)), text), Interval(float(text), float(text), (), exact=True))
                for text in LITERALS]
    # Variables twice as often as literals: subtrees of literals alone test little.
    return st.one_of(st.sampled_from(variables), st.sampled_from(variables), st.sampled_from(literals))


def _params(op, arg_shapes) -> st.SearchStrategy:
    if op.name in ("sum", "mean") and len(arg_shapes[0]) == 2:
        return st.sampled_from([{"axis": None}, {"axis": 0}, {"axis": 1}])
    return st.just(dict(op.params))


def _applicable(names, args: list[_Node]) -> list[tuple]:
    """(op, bounds) for every op of ``names`` whose domain holds on ``args``."""
    out = []
    for name in names:
        op = OPS[name]
        if op.arity != len(args):
            continue
        result = bound(name, [a.bounds for a in args], dict(op.params))
        if result is not None:
            out.append(op)
    return out


def _extend(names: list[str]):
    unary = [n for n in names if OPS[n].arity == 1]
    binary = [n for n in names if OPS[n].arity == 2]

    def extend(children):
        @st.composite
        def apply(draw, arity):
            args = [draw(children) for _ in range(arity)]
            candidates = _applicable(unary if arity == 1 else binary, args)
            if not candidates:
                return args[0]   # nothing applies to these bounds: keep the first argument
            op = draw(st.sampled_from(candidates))
            params = draw(_params(op, [a.bounds.shape for a in args]))
            result = bound(op.name, [a.bounds for a in args], params)
            if result is None:   # an axis the argument does not have
                params = dict(op.params)
                result = bound(op.name, [a.bounds for a in args], params)
            return _Node(Apply(op, tuple(a.tree for a in args), params), result)

        groups = [apply(n) for n, group in ((1, unary), (2, binary)) if group]
        return st.one_of(*groups)

    return extend


def _scalar_root(node: _Node, signature: dict) -> _Node:
    """Wrap the tree so it is a scalar that depends on a variable."""
    tree, bounds = node.tree, node.bounds
    if not used_variables(tree):
        name = next(iter(signature))
        shape, box = signature[name]
        tree = Apply(OPS["add"], (tree, Var(name)), {})
        bounds = bound("add", [bounds, Interval(box.lo, box.hi, shape)], {})
    if bounds.shape:
        tree = Apply(OPS["sum"], (tree,), {"axis": None})
        bounds = bound("sum", [bounds], {"axis": None}) or Interval(-np.inf, np.inf)
    return _Node(tree, bounds)


@st.composite
def _signature(draw, names: list[str], shapes: Sequence[tuple]) -> dict:
    return {name: (draw(st.sampled_from(list(shapes))), draw(st.sampled_from([SIGNED, POSITIVE])))
            for name in names}


def expressions(ops: Optional[Iterable[str]] = None, variables: Sequence[str] = ("x", "y"),
                max_leaves: int = 8, shapes: Sequence[tuple] = ARRAYS) -> st.SearchStrategy:
    """Strategy of scalar expression trees (:mod:`diffcheck.expr` nodes) over ``ops``
    (names from :data:`diffcheck.ops.OPS`; default: all) and ``variables``, with at
    most ``max_leaves`` leaves.  Each variable takes one of ``shapes`` (default:
    scalar, a 3-vector or a 2x3 matrix; :data:`SCALARS` for scalars only); a
    non-scalar result is summed.  Use :func:`points` to draw points for a tree."""
    names = _op_names(ops)
    variable_names = _check_variables(variables)
    if max_leaves < 1:
        raise InvalidArgument(f"max_leaves must be at least 1, got {max_leaves}")
    shapes = [tuple(s) for s in shapes]
    for shape in shapes:
        if len(shape) > 2 or any(n < 1 for n in shape):
            raise InvalidArgument(f"shapes: variables are scalars, vectors or matrices, got {shape}")

    @st.composite
    def build(draw):
        signature = draw(_signature(variable_names, shapes))
        node = draw(st.recursive(_leaves(signature), _extend(names), max_leaves=max_leaves))
        node = _scalar_root(node, signature)
        used = used_variables(node.tree)
        _SIGNATURES[node.tree] = {name: signature[name] for name in used}
        return node.tree

    return build()


def _special_values(box: Interval) -> list[float]:
    """Values on kinks and near them: 0 and small integers inside the box, and
    each nudged by a hair."""
    exact = [v for v in (0.0, 1.0, -1.0, 2.0, -2.0, 0.5) if box.lo <= v <= box.hi]
    near = [v + d for v in exact for d in NEAR if box.lo <= v + d <= box.hi]
    return exact + near


def _entries(box: Interval, shape: tuple, kink_heavy: bool) -> st.SearchStrategy:
    anywhere = st.floats(box.lo, box.hi)
    special = st.sampled_from(_special_values(box))
    entry = st.one_of(special, anywhere) if kink_heavy else st.one_of(anywhere, special)
    size = int(np.prod(shape)) if shape else 1
    return st.lists(entry, min_size=size, max_size=size).map(
        lambda xs: np.array(xs, dtype=np.float64).reshape(shape))


def _signature_of(expr: Expr) -> dict:
    signature = _SIGNATURES.get(expr)
    if signature is not None:
        return signature
    # A tree from elsewhere: scalar variables in the signed box, if its domain
    # holds there.
    signature = {name: ((), SIGNED) for name in used_variables(expr)}
    if _bounds_of(expr, signature) is None:
        raise InvalidArgument(
            f"points(): the domain of {to_text(expr)!r} does not hold for every scalar "
            f"value in [{SIGNED.lo}, {SIGNED.hi}]; draw the expression with expressions()")
    return signature


def _bounds_of(expr: Expr, signature: dict) -> Optional[Interval]:
    """The bounds of an existing tree over the signature's boxes, or None when an
    op's domain does not hold there."""
    found: dict[int, Interval] = {}
    for node in postorder(expr):
        if isinstance(node, Var):
            shape, box = signature[node.name]
            found[id(node)] = Interval(box.lo, box.hi, shape)
        elif isinstance(node, Const):
            value = np.asarray(node.value, dtype=float)
            found[id(node)] = Interval(float(value.min()), float(value.max()), value.shape,
                                       exact=value.ndim == 0)
        else:
            result = bound(node.op.name, [found[id(a)] for a in node.args], node.params)
            if result is None:
                return None
            found[id(node)] = result
    return found[id(expr)]


def points(expr: Expr, kink_heavy: bool = False) -> st.SearchStrategy:
    """Strategy of points (``{name: float64 array}``) inside the domain of ``expr``,
    a tree drawn by :func:`expressions` (or any tree whose domain holds for scalar
    variables in [-3, 3]).  Entries are often exactly on a kink or a tie, or a hair
    away; with ``kink_heavy`` most of them are."""
    signature = _signature_of(expr)

    @st.composite
    def build(draw):
        point: dict[str, np.ndarray] = {}
        for name, (shape, box) in signature.items():
            earlier = [other for other, (s, b) in signature.items()
                       if other in point and s == shape and b == box]
            if earlier and draw(st.booleans() if not kink_heavy else st.sampled_from([True, True, False])):
                # A tie: the same value as an earlier variable (max(x, y) at x == y).
                point[name] = point[draw(st.sampled_from(earlier))].copy()
            else:
                point[name] = draw(_entries(box, shape, kink_heavy))
        return point

    return build()


def problems(ops: Optional[Iterable[str]] = None, variables: Sequence[str] = ("x", "y"),
             max_leaves: int = 8, shapes: Sequence[tuple] = ARRAYS,
             kink_heavy: bool = False) -> st.SearchStrategy:
    """Strategy of :class:`Drawn` problems: an expression from :func:`expressions`
    and a point from :func:`points` inside its domain."""
    trees = expressions(ops, variables, max_leaves, shapes)
    return trees.flatmap(lambda tree: points(tree, kink_heavy).map(lambda point: Drawn(tree, point)))

"""Hypothesis strategies for expressions and points, for property-based checks.

::

    import diffcheck
    from hypothesis import given
    from diffcheck.testing.strategies import problems

    @given(problems())
    def test_backends_agree(drawn):
        assert diffcheck.check_expr(drawn.expr, drawn.point).verdict != "discrepancy"

How points stay in every op's domain without filtering: :func:`expressions`
first gives each variable a shape and a box (every entry lies in ``[-3, 3]``, or
in ``[0.25, 4]`` for a positive one), then builds the tree bottom-up with
``hypothesis.strategies.recursive``, knowing the bounds of every subtree
(each op record's interval rule, ``Op.interval``).  An op is chosen only among those whose domain holds
on the whole box (``log`` of a subtree bounded below by 0.05, a divisor bounded
away from zero), so :func:`points` can draw any values from the boxes.

Points deliberately land on and near kinks and ties: entries are often exactly
0 or a small integer (``relu(x)``, ``abs(x - 1)``), or a hair away from one, and
a variable often takes another's value or its negative (``max(x, y)`` at
``x == y``, ``relu(x + y)`` at ``x == -y``).

Strategies shrink toward readable failures: variables before literals, small
literals, scalars before vectors, values towards 1, the first op of the list,
fewer nodes.
"""

from __future__ import annotations

import functools
import math
import weakref
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from diffcheck.language.bounds import Interval
from diffcheck.language.expr import Apply, Const, Expr, Var, fold, to_text
from diffcheck.language.expr import variables as used_variables
from diffcheck.language.op import Op
from diffcheck.language.ops import OPS, UNIQUE_OPS
from diffcheck.language.parser import check_identifier

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

# Each tree drawn by expressions() keeps the shapes and boxes of all the declared
# variables here, for points() to draw from.
_SIGNATURES: "weakref.WeakKeyDictionary[Expr, dict]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class Drawn:
    """One generated problem: an expression tree and a point inside its domain.
    Compared by identity, like the tree (a point's arrays have no one truth value)."""

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


def _op_records(ops: Optional[Iterable]) -> list[Op]:
    """The records to draw from: names looked up in :data:`OPS`, records as given."""
    if ops is None:
        return [op for op in UNIQUE_OPS if op.interval is not None]
    if isinstance(ops, str):
        raise InvalidArgument(f"ops must be a list of op names, got the string {ops!r}")
    records = []
    for item in ops:
        if isinstance(item, Op):
            op = item
        elif item in OPS:
            op = OPS[item]
        else:
            raise InvalidArgument(f"unknown op {item!r}; choose from "
                                  f"{', '.join(op.name for op in UNIQUE_OPS)}, or give an Op record")
        if op.interval is None:
            raise InvalidArgument(f"op {op.name!r} has no interval rule, so points in its "
                                  "domain cannot be drawn; give its record an interval")
        records.append(op)
    if not records:
        raise InvalidArgument("ops is empty: give at least one op name")
    return list(dict.fromkeys(records))


def _check_variables(variables: Sequence[str]) -> list[str]:
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
    choices = op.parameter_choices(arg_shapes)
    return st.just(choices[0]) if len(choices) == 1 else st.sampled_from(choices)


def _first_applicable(group: tuple, start: int, args: list[_Node]):
    """The first op of ``group``, from position ``start`` on (wrapping round),
    whose domain holds on ``args``, or None.

    The op is drawn as a position in the whole group, not among the ops that
    apply: so a shrink that simplifies an argument (``tanh(cosh(x))`` to
    ``tanh(x)``) keeps the op whenever it still applies."""
    for offset in range(len(group)):
        op = group[(start + offset) % len(group)]
        if op.bound([a.bounds for a in args], dict(op.params)) is not None:
            return op
    return None


@st.composite
def _apply(draw, children, group: tuple, arity: int) -> _Node:
    """An op of ``group`` applied to ``arity`` trees drawn from ``children``."""
    args = [draw(children) for _ in range(arity)]
    op = _first_applicable(group, draw(st.integers(0, len(group) - 1)), args)
    if op is None:
        return args[0]   # nothing applies to these bounds: keep the first argument
    params = draw(_params(op, [a.bounds.shape for a in args]))
    result = op.bound([a.bounds for a in args], params)
    if result is None:   # an axis the argument does not have
        params = dict(op.params)
        result = op.bound([a.bounds for a in args], params)
    return _Node(Apply(op, tuple(a.tree for a in args), params), result)


def _extend(ops: tuple):
    # Ops grouped by arity, so each draw builds exactly the arguments its op takes.
    groups: dict[int, tuple] = {}
    for op in ops:
        groups[op.arity] = groups.get(op.arity, ()) + (op,)

    def extend(children):
        return st.one_of(*[_apply(children, groups[arity], arity) for arity in sorted(groups)])

    return extend


@functools.lru_cache(maxsize=512)
def _trees(signature: tuple, ops: tuple, max_leaves: int, shapes: tuple) -> st.SearchStrategy:
    """The recursive strategy of trees over one signature, built once: building a
    strategy costs far more than drawing from it.  (``shapes`` is only part of
    the key: a tree's leaves are shared by the trees drawn with the same key, and
    a tree remembers the shapes it was drawn for.)"""
    return st.recursive(_leaves(dict(signature)), _extend(ops), max_leaves=max_leaves)


def _scalar_root(node: _Node, signature: dict) -> _Node:
    """Wrap the tree so it is a scalar that depends on a variable."""
    tree, bounds = node.tree, node.bounds
    if not used_variables(tree):
        name = next(iter(signature))
        shape, box = signature[name]
        tree = Apply(OPS["add"], (tree, Var(name)), {})
        bounds = OPS["add"].bound([bounds, Interval(box.lo, box.hi, shape)], {})
    if bounds.shape:
        tree = Apply(OPS["sum"], (tree,), {"axis": None})
        bounds = OPS["sum"].bound([bounds], {"axis": None}) or Interval(-np.inf, np.inf)
    return _Node(tree, bounds)


@st.composite
def _signature(draw, names: tuple, shapes: tuple, boxes: tuple) -> dict:
    return {name: (draw(st.sampled_from(shapes)), draw(st.sampled_from(boxes))) for name in names}


def expressions(ops: Optional[Iterable] = None, variables: Sequence[str] = ("x", "y"),
                max_leaves: int = 8, shapes: Sequence[tuple] = ARRAYS,
                boxes: Sequence[Interval] = (SIGNED, POSITIVE)) -> st.SearchStrategy:
    """Strategy of scalar expression trees (:mod:`diffcheck.language.expr` nodes) over ``ops``
    (names from :data:`diffcheck.language.ops.OPS`, or :class:`~diffcheck.language.op.Op`
    records from any registry; default: every registered op with an interval rule)
    and ``variables``, with at
    most ``max_leaves`` leaves.  Each variable takes one of ``shapes`` (default:
    scalar, a 3-vector or a 2x3 matrix; :data:`SCALARS` for scalars only); a
    non-scalar result is summed.  Each variable's entries lie in one of ``boxes``
    (:class:`~diffcheck.language.bounds.Interval`), which decide the ops that apply to it.
    Use :func:`points` to draw points for a tree."""
    records = _op_records(ops)
    variable_names = _check_variables(variables)
    if max_leaves < 1:
        raise InvalidArgument(f"max_leaves must be at least 1, got {max_leaves}")
    shapes = [tuple(s) for s in shapes]
    for shape in shapes:
        if len(shape) > 2 or any(n < 1 for n in shape):
            raise InvalidArgument(f"shapes: variables are scalars, vectors or matrices, got {shape}")

    boxes = tuple(boxes)
    if not boxes or not all(isinstance(b, Interval) and b.lo < b.hi for b in boxes):
        raise InvalidArgument(f"boxes must be Intervals with lo < hi, got {boxes!r}")
    return _expressions(tuple(records), tuple(variable_names), max_leaves, tuple(shapes), boxes)


@st.composite
def _expressions(draw, ops: tuple, variable_names: tuple, max_leaves: int, shapes: tuple,
                 boxes: tuple) -> Expr:
    signature = draw(_signature(variable_names, shapes, boxes))
    node = draw(_trees(tuple(signature.items()), ops, max_leaves, shapes))
    node = _scalar_root(node, signature)
    _SIGNATURES[node.tree] = signature, max(math.prod(shape) for shape in shapes)
    return node.tree


def _on_kinks(box: Interval) -> list[float]:
    """0 and small integers inside the box: where ``relu(x)``, ``abs(x - 1)`` and
    ``max(x, 2)`` have their kinks and ties."""
    return [v for v in (0.0, 1.0, -1.0, 2.0, -2.0, 0.5) if box.lo <= v <= box.hi]


def _near_kinks(box: Interval) -> list[float]:
    return [v + d for v in _on_kinks(box) for d in NEAR if box.lo <= v + d <= box.hi]


@functools.lru_cache(maxsize=256)
def _entries(box: Interval, shape: tuple, count: int, kink_heavy: bool) -> st.SearchStrategy:
    """An array of ``shape`` from ``count`` drawn entries (the most any shape the
    variable could have takes), using the last ones.  Drawing as many entries
    whatever the shape keeps the values in place when a shrink makes a matrix a
    vector or a scalar; using the last ones keeps the entry that matters, since
    the shrinker leaves zeros in front."""
    # Values shrink towards 1 rather than 0: many wrong rules agree with the right
    # one at 0 (1 - tanh and 1 - tanh**2), and 0 is still drawn as a kink value.
    anywhere = st.floats(box.lo - 1.0, box.hi - 1.0).map(lambda u: u + 1.0)
    kinks, near = _on_kinks(box), _near_kinks(box)
    # The first kink value (0 where the box holds it: relu, abs) half the time.
    on = st.one_of(st.just(kinks[0]), st.sampled_from(kinks))
    close = st.one_of(st.sampled_from(near[:len(NEAR)]), st.sampled_from(near))
    # One entry in three is on a kink and one in three near one (kink_heavy), or
    # one in six on and one in six near.
    entry = st.one_of(on, close, anywhere) if kink_heavy else st.one_of(anywhere, anywhere, on, close)
    size = math.prod(shape)
    return st.lists(entry, min_size=count, max_size=count).map(
        lambda xs: np.array(xs[count - size:], dtype=np.float64).reshape(shape))


def _signature_of(expr: Expr) -> dict:
    known = _SIGNATURES.get(expr)
    if known is not None:
        return known
    # A tree from elsewhere: scalar variables in the signed box, if its domain
    # holds there.
    signature = {name: ((), SIGNED) for name in used_variables(expr)}
    if _bounds_of(expr, signature) is None:
        raise InvalidArgument(
            f"points(): the domain of {to_text(expr)!r} does not hold for every scalar "
            f"value in [{SIGNED.lo}, {SIGNED.hi}]; draw the expression with expressions()")
    return signature, 1


def _bounds_of(expr: Expr, signature: dict) -> Optional[Interval]:
    """The bounds of an existing tree over the signature's boxes, or None when an
    op's domain does not hold there."""
    def leaf(node):
        if isinstance(node, Var):
            shape, box = signature[node.name]
            return Interval(box.lo, box.hi, shape)
        value = np.asarray(node.value, dtype=float)
        return Interval(float(value.min()), float(value.max()), value.shape, exact=value.ndim == 0)

    def apply(node, args):
        # None (outside a domain) propagates to the root.
        return None if None in args else node.op.bound(args, node.params)

    return fold(expr, leaf, apply)


def points(expr: Expr, kink_heavy: bool = False) -> st.SearchStrategy:
    """Strategy of points (``{name: float64 array}``) inside the domain of ``expr``,
    a tree drawn by :func:`expressions` (or any tree whose domain holds for scalar
    variables in [-3, 3]).  Entries are often exactly on a kink or a tie, or a hair
    away; with ``kink_heavy`` most of them are."""
    signature, count = _signature_of(expr)
    return _points(tuple(signature.items()), count, tuple(used_variables(expr)), kink_heavy)


@st.composite
def _points(draw, signature: tuple, count: int, used: tuple, kink_heavy: bool) -> dict:
    # Values are drawn for every declared variable, used or not, in a fixed
    # order: a shrink that drops a variable from the tree (tanh(x + y) to
    # tanh(y)) then leaves the other variables' values as they were.
    point: dict[str, np.ndarray] = {}
    for name, (shape, box) in signature:
        earlier = [other for other, (s, b) in signature if other in point and s == shape and b == box]
        if earlier and draw(_TIE_HEAVY if kink_heavy else _TIE):
            # A tie, or nearly one: an earlier variable's value (or its negative),
            # as it is or nudged (max(x, y) at x == y, and a hair away).
            value = point[draw(st.sampled_from(earlier))]
            if box.lo == -box.hi and draw(st.booleans()):
                value = -value   # x + y at x == -y: relu(x + y) on its kink
            nudge = draw(_NUDGE)
            inside = (box.lo <= value + nudge) & (value + nudge <= box.hi)
            point[name] = np.where(inside, value + nudge, value - nudge)
        else:
            point[name] = draw(_entries(box, shape, count, kink_heavy))
    return {name: point[name] for name in used}


_TIE, _TIE_HEAVY = st.booleans(), st.sampled_from([True, True, False])
_NUDGE = st.sampled_from((0.0,) + NEAR)


def problems(ops: Optional[Iterable] = None, variables: Sequence[str] = ("x", "y"),
             max_leaves: int = 8, shapes: Sequence[tuple] = ARRAYS,
             kink_heavy: bool = False) -> st.SearchStrategy:
    """Strategy of :class:`Drawn` problems: an expression from :func:`expressions`
    and a point from :func:`points` inside its domain.  With ``kink_heavy``,
    variables take signed values only (kinks at 0 are inside their boxes) and
    most entries sit on or near kinks and ties."""
    trees = expressions(ops, variables, max_leaves, shapes, (SIGNED,) if kink_heavy else (SIGNED, POSITIVE))
    return trees.flatmap(lambda tree: points(tree, kink_heavy).map(lambda point: Drawn(tree, point)))

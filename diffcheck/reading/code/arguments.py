"""How the static reader reads the arguments of a call: keywords by name,
positional tensors as operands, a reduction axis, and the two library calls
that several call sites share (`norm`, `clamp`) written in the expression language.
"""

from __future__ import annotations

from diffcheck.reading.code.factories import _concrete
from diffcheck.reading.code.values import Cannot, Val


def _keywords(node) -> dict:
    return {k.arg: k.value for k in node.keywords}


def _operands(interp, node, symbol: str) -> list[Val]:
    return [interp.operand(interp.ev(a), symbol) for a in node.args]


def _axis(interp, node, position: int) -> tuple:
    keywords = _keywords(node)
    if keywords.get("keepdim") is not None or keywords.get("keepdims") is not None:
        raise Cannot("a reduction with keepdim")
    axis_node = keywords.get("dim", keywords.get("axis"))
    if axis_node is None and len(node.args) > position:
        axis_node = node.args[position]
    if axis_node is None:
        return ()
    axis = _concrete(interp, axis_node, "a reduction axis")
    if not isinstance(axis, int):
        raise Cannot("a reduction over several axes")
    return (("axis", axis),)


def _norm(interp, value: Val) -> Val:
    """The Euclidean norm, sqrt(sum(x**2)), as the expression language writes it."""
    return interp.derived("sqrt", [interp.derived("sum", [interp.derived("pow", [value, Val(("num", 2))])])])


def _clamp(interp, node, value, skip: int = 1) -> Val:
    """clamp(x, min=0) is relu(x); other bounds are outside the expression language."""
    if value is None:
        raise Cannot("clamp() without a tensor")
    keywords = _keywords(node)
    bounds = node.args[skip:]
    low = keywords.get("min", bounds[0] if bounds else None)
    if low is None or "max" in keywords or len(bounds) > 1 or _concrete(interp, low, "a bound") != 0:
        raise Cannot("clamp() with bounds other than min=0")
    return interp.derived("relu", [value])

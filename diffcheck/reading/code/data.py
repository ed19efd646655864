"""Data the code prepares from literal data: indexing (`X[0]`, `X[:, 1]`),
reshaping, stacking (`np.stack`, `torch.cat`, `zip`). The values are computed by
diffcheck's own evaluator (the tree rendered as expression text, parsed by the
allowlist parser) and numpy indexing on the numbers read from the literals, and
kept as a new data leaf. Only for values that track no gradient and depend on no
random input or updated parameter: anything else is `Cannot`.
"""

from __future__ import annotations

import ast

import numpy as np

from diffcheck.errors import DiffcheckError
from diffcheck.language.expr import evaluate
from diffcheck.language.parser import parse
from diffcheck.reading.code.values import Cannot, Leaf, Renderer, Val, WouldFail, leaves

MAX_DATA_ENTRIES = 100_000


def data_array(value, what: str) -> np.ndarray:
    """The numbers a data value holds."""
    if not isinstance(value, Val):
        raise Cannot(f"{what} of a value the reader does not follow")
    if value.requires_grad:
        raise Cannot(f"{what} of a tensor that requires grad")
    point = {}
    renderer = Renderer(inline=True)
    for leaf, versions in leaves(value.tree).items():
        if leaf.value is None:
            raise Cannot("depends on random input")
        if versions != {0}:
            raise Cannot(f"{what} of a value after gradient steps")
        point[renderer.leaf_name(leaf)] = np.asarray(leaf.value, float)
    if value.tree[0] == "num":
        return np.asarray(value.tree[1], float)
    text = renderer.render(value.tree)
    try:
        return np.asarray(evaluate(parse(text, list(point)), point), float)
    except (DiffcheckError, ValueError, FloatingPointError) as err:
        raise Cannot(f"{what} of data the reader cannot compute ({err})") from None


def data_leaf(interp, array, like: Val) -> Val:
    """A new leaf holding `array`, in the framework and precision of `like`."""
    array = np.asarray(array, float)
    if array.size > MAX_DATA_ENTRIES:
        raise Cannot("data too large to follow")
    if array.size == 0:
        raise Cannot("an empty tensor")
    dtype = like.dtype if like.dtype != "int" else ("float32" if like.framework == "torch" else "float64")
    if like.dtype == "int" and np.all(array == np.round(array)):
        dtype = "int"
    leaf = Leaf("", array.tolist(), array.shape, False, like.framework if like.framework != "python"
                else "numpy", dtype)
    interp.leaves.append(leaf)
    return Val(("leaf", leaf, 0), array.shape, leaf.framework, False, True, dtype)


def index_of(interp, node):
    """A Python index (int, slice, tuple of them) read from a subscript."""
    if isinstance(node, ast.Tuple):
        return tuple(index_of(interp, e) for e in node.elts)
    if isinstance(node, ast.Slice):
        parts = [None if p is None else _integer(interp, p) for p in (node.lower, node.upper, node.step)]
        if parts[2] == 0:
            raise WouldFail("slice step cannot be zero")
        return slice(*parts)
    if isinstance(node, ast.Constant) and node.value is None:
        return None   # x[None]: a new axis
    return _integer(interp, node)


def _integer(interp, node) -> int:
    value = interp.ev(node)
    if isinstance(value, Val) and isinstance(value.concrete, int) and not isinstance(value.concrete, bool):
        return value.concrete
    raise Cannot("an index the reader does not compute")


def subscript(interp, value: Val, node) -> Val:
    array = data_array(value, "indexing")
    index = index_of(interp, node.slice)
    try:
        return data_leaf(interp, array[index], value)
    except IndexError as err:
        raise WouldFail(f"index out of range ({err})") from None


def reshaped(interp, value: Val, method: str, args: list) -> Val:
    array = data_array(value, f".{method}()")
    try:
        if method in ("reshape", "view"):
            shape = args[0] if len(args) == 1 and isinstance(args[0], tuple) else tuple(args)
            result = array.reshape(shape)
        elif method == "unsqueeze":
            result = np.expand_dims(array, args[0])
        elif method == "squeeze":
            result = np.squeeze(array, *args)
        else:   # flatten
            result = array.reshape(-1)
    except (ValueError, TypeError, np.exceptions.AxisError) as err:
        raise WouldFail(f".{method}(): {err}") from None
    return data_leaf(interp, result, value)


def stacked(interp, how: str, values: list, axis: int) -> Val:
    arrays = [data_array(v, how) for v in values]
    if how == "zip":   # zip stops at the shortest
        shortest = min(len(a) if a.ndim else 0 for a in arrays)
        arrays = [a[:shortest] for a in arrays]
    functions = {"stack": np.stack, "cat": np.concatenate, "concatenate": np.concatenate,
                 "column_stack": lambda a, axis: np.column_stack(a), "vstack": lambda a, axis: np.vstack(a),
                 "hstack": lambda a, axis: np.hstack(a), "zip": lambda a, axis: np.stack(a, axis=1)}
    try:
        result = functions[how](arrays, axis=axis)
    except (ValueError, np.exceptions.AxisError) as err:
        raise WouldFail(f"{how}(): {err}") from None
    return data_leaf(interp, result, values[0])

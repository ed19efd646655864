"""Tensors made from literals: `torch.tensor`, `np.array`, `ones`, `zeros`,
`arange`, `linspace`, `eye`, `full`, and the random ones whose values are never
invented. Values are read from the syntax tree; nothing is evaluated."""

from __future__ import annotations

import ast
import math

import numpy as np

from diffcheck.reading.code import library as lib
from diffcheck.reading.code.values import Cannot, Leaf, Val, WouldFail, literal_shape

MAX_LITERAL_ENTRIES = 100_000


def _keywords(node) -> dict:
    return {k.arg: k.value for k in node.keywords}


def _concrete(interp, node, what: str):
    value = interp.ev(node)
    if isinstance(value, Val) and value.concrete is not None:
        return value.concrete
    raise Cannot(f"{what} that the reader does not compute")


def literal(interp, node):
    """Nested lists of Python numbers read from a literal (names of numbers allowed)."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(interp, e) for e in node.elts]
    value = interp.ev(node)
    if isinstance(value, Val) and value.concrete is not None:
        return value.concrete
    raise Cannot("tensor data that is not a literal")


def _dtype(interp, node, framework: str, data) -> str:
    keywords = _keywords(node)
    if "dtype" in keywords:
        text = ast.unparse(keywords["dtype"]).rsplit(".", 1)[-1].strip("'\"")
        if text not in lib.DTYPES:
            raise Cannot(f"dtype {text}")
        dtype = lib.DTYPES[text]
        return "float32" if dtype == "float32" and framework == "torch" else dtype
    flat = _flatten(data)
    if flat and all(isinstance(v, int) for v in flat):
        return "int"
    return "float32" if framework == "torch" else "float64"


def _flatten(data) -> list:
    if isinstance(data, list):
        out = []
        for item in data:
            out.extend(_flatten(item))
        return out
    return [data]


def _requires_grad(interp, node) -> bool:
    keywords = _keywords(node)
    if "requires_grad" not in keywords:
        return False
    return bool(_concrete(interp, keywords["requires_grad"], "a requires_grad flag"))


def _new_leaf(interp, value, shape, framework, dtype, requires_grad, node, random=False) -> Val:
    if requires_grad and dtype == "int":
        raise WouldFail("only tensors of floating point dtype can require gradients "
                        "(the data are integers: write 2. or dtype=torch.float32)")
    leaf = Leaf("", value, shape, requires_grad, framework, dtype, random=random)
    interp.leaves.append(leaf)
    return Val(("leaf", leaf, 0), shape, framework, requires_grad, True, dtype)


def create(interp, kind: str, name: str, node):
    framework = "torch" if name.startswith("torch") else "numpy"
    requires_grad = _requires_grad(interp, node)
    maker = _MAKERS.get(kind)
    if maker is None:
        raise Cannot(f"call of {name}")
    return maker(interp, kind, name, node, framework, requires_grad)


def _from_data(interp, kind, name, node, framework, requires_grad):
    """torch.tensor(data) and np.array(data): a new leaf from a literal, else a copy of a value."""
    keywords = _keywords(node)
    data_node = node.args[0] if node.args else keywords.get("data", keywords.get("object"))
    if data_node is None:
        raise Cannot(f"{name}() without data")
    try:
        data = literal(interp, data_node)
    except Cannot:
        return _from_value(interp, name, node, framework, requires_grad, data_node)
    dtype = _dtype(interp, node, framework, data)
    shape = literal_shape(data)
    if not _rectangular(data, shape):
        raise WouldFail(f"{name}() of nested lists of unequal lengths (the data is ragged)")
    if 0 in shape:
        raise Cannot("an empty tensor")
    if len(_flatten(data)) > MAX_LITERAL_ENTRIES:
        raise Cannot("a literal too large to read")
    value = _as_float(data) if dtype != "int" else data
    return _new_leaf(interp, value, shape, framework, dtype, requires_grad, node)


def _from_value(interp, name, node, framework, requires_grad, data_node):
    """torch.tensor(x) of a value that is not a literal: the same tree, detached."""
    value = interp.ev(data_node)
    if not isinstance(value, Val):
        raise Cannot(f"{name}() of data the reader does not follow") from None
    if framework == "torch" and value.requires_grad is False and requires_grad and value.tree[0] == "leaf":
        return interp.set_requires_grad(Val(value.tree, value.shape, "torch", False, True,
                                            value.dtype), True, node)
    dtype = _dtype(interp, node, framework, None) if "dtype" in _keywords(node) else (
        "float32" if framework == "torch" and value.dtype == "float64" and name == "torch.tensor"
        else value.dtype)
    return Val(value.tree, value.shape, framework, False, True, dtype)


def _filled(interp, kind, name, node, framework, requires_grad):
    """ones(size), zeros(size), full(size, fill)."""
    keywords = _keywords(node)
    args = node.args
    fill = 1.0 if kind == "ones" else 0.0
    if kind == "full":
        if len(args) != 2:
            raise Cannot("full() with unusual arguments")
        fill = _concrete(interp, args[1], "a fill value")
        args = args[:1]
    shape = _size(interp, args or [keywords.get("size", keywords.get("shape"))])
    dtype = _dtype(interp, node, framework, [float(fill)])
    value = np.full(shape, fill, dtype=float).tolist()
    return _new_leaf(interp, value, shape, framework, dtype, requires_grad, node)


def _filled_like(interp, kind, name, node, framework, requires_grad):
    other = interp.ev(node.args[0])
    if not isinstance(other, Val) or other.shape is None:
        raise Cannot(f"{name}() of a value of unknown shape")
    value = np.full(other.shape, 1.0 if kind == "ones_like" else 0.0).tolist()
    return _new_leaf(interp, value, other.shape, framework, other.dtype if other.dtype != "int" else "float32",
                     requires_grad, node)


def _arange(interp, kind, name, node, framework, requires_grad):
    bounds = [_concrete(interp, a, "an arange() bound") for a in node.args]
    if not 1 <= len(bounds) <= 3:
        raise Cannot("arange() with unusual arguments")
    values = np.arange(*bounds)
    if values.size > MAX_LITERAL_ENTRIES:
        raise Cannot("an arange() too long to read")
    data = values.tolist()
    dtype = _dtype(interp, node, framework, data)
    return _new_leaf(interp, data, (len(data),), framework, dtype, requires_grad, node)


def _linspace(interp, kind, name, node, framework, requires_grad):
    keywords = _keywords(node)
    numbers = [_concrete(interp, a, "a linspace() argument") for a in node.args]
    if "steps" in keywords or "num" in keywords:
        numbers.append(_concrete(interp, keywords.get("steps", keywords.get("num")), "a step count"))
    if len(numbers) != 3 or not 0 < int(numbers[2]) <= MAX_LITERAL_ENTRIES:
        raise Cannot("linspace() with unusual arguments")
    data = np.linspace(numbers[0], numbers[1], int(numbers[2])).tolist()
    dtype = "float32" if framework == "torch" else "float64"
    return _new_leaf(interp, data, (len(data),), framework, dtype, requires_grad, node)


def _eye(interp, kind, name, node, framework, requires_grad):
    n = int(_concrete(interp, node.args[0], "an eye() size"))
    if n > 1000:
        raise Cannot("an eye() too large")
    return _new_leaf(interp, np.eye(n).tolist(), (n, n), framework,
                     "float32" if framework == "torch" else "float64", requires_grad, node)


_MAKERS = {"tensor": _from_data, "array": _from_data, "ones": _filled, "zeros": _filled, "full": _filled,
           "ones_like": _filled_like, "zeros_like": _filled_like, "arange": _arange, "linspace": _linspace,
           "eye": _eye}


def _rectangular(data, shape) -> bool:
    if not shape:
        return not isinstance(data, list)
    return isinstance(data, list) and len(data) == shape[0] and all(_rectangular(d, shape[1:]) for d in data)


def _as_float(data):
    if isinstance(data, list):
        return [_as_float(d) for d in data]
    return float(data)


def _size(interp, args) -> tuple:
    if not args or args[0] is None:
        raise Cannot("a tensor factory without a size")
    sizes = []
    for arg in args:
        value = interp.ev(arg)
        items = value if isinstance(value, (tuple, list)) else [value]
        for item in items:
            if not (isinstance(item, Val) and isinstance(item.concrete, int)):
                raise Cannot("a tensor size the reader does not compute")
            sizes.append(item.concrete)
    if math.prod(sizes) > MAX_LITERAL_ENTRIES:
        raise Cannot("a tensor too large to read")
    return tuple(sizes)


def random_leaf(interp, name: str, node):
    framework = "torch" if name.startswith("torch") else "numpy"
    shape = None
    if name in ("torch.randn", "torch.rand", "numpy.random.randn", "numpy.random.rand"):
        try:
            shape = _size(interp, node.args) if node.args else ()
        except Cannot:
            shape = None
    dtype = "float32" if framework == "torch" else "float64"
    return _new_leaf(interp, None, shape, framework, dtype, _requires_grad(interp, node), node, random=True)

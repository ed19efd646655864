"""Methods the static reader follows on the values of a code cell: tensor
methods (ops, reductions, conversions, shape queries, in-place updates,
`backward()`), the methods of an optimizer and of a gradient, and the errors a
method call on `None` or on an uncalled method raises.

Each tensor method has one handler in `_TENSOR_METHODS`; a handler returns the
value the call makes or raises `Cannot` / `WouldFail`.
"""

from __future__ import annotations

import ast
import math

from diffcheck.reading.code import library as lib
from diffcheck.reading.code.arguments import _axis, _clamp, _keywords, _norm, _operands
from diffcheck.reading.code.factories import _concrete
from diffcheck.reading.code.gradients import backward
from diffcheck.reading.code.values import (
    NONE,
    Cannot,
    FreshGrad,
    GradRef,
    Method,
    Optimizer,
    Unknown,
    Update,
    Val,
    WouldFail,
)
from diffcheck.reading.code.data import reshaped

# methods that leave a gradient what it is, as far as the reader's values go
_GRADIENT_CONVERSIONS = ("item", "numpy", "detach", "clone", "tolist", "cpu", "float")
_CHECKED_KEYWORDS = ("sum", "mean", "backward", "requires_grad_")


def method_call(interp, owner, attr: str, node):
    receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
    if not isinstance(owner, Val):
        return _method_of_other(interp, owner, attr, node, receiver)
    if attr in _CHECKED_KEYWORDS:
        problem = lib.check_keywords(attr, _keywords(node))
        if problem:
            raise WouldFail(problem)
    if attr == "backward":
        return backward(interp, owner, node)
    if attr in ("sum", "mean"):
        return interp.derived(attr, [owner], _axis(interp, node, 0))
    if attr in lib.METHODS:
        return _op_method(interp, owner, attr, node)
    handler = _TENSOR_METHODS.get(attr)
    if handler is None:
        raise Cannot(f"the method .{attr}()")
    return handler(interp, owner, attr, node, receiver)


def _method_of_other(interp, owner, attr: str, node, receiver):
    """A method called on something that is not a tensor: None, an optimizer, a gradient."""
    if owner is NONE:
        shown = ast.unparse(receiver) if receiver is not None else "the value"
        raise WouldFail(f"{shown} is None here (no backward() has reached it): 'NoneType' object "
                        f"has no attribute {attr!r}")
    if isinstance(owner, Unknown):
        raise Cannot(owner.reason)
    if isinstance(owner, Optimizer):
        return optimizer_method(interp, owner, attr, node)
    if isinstance(owner, FreshGrad):
        if attr in _GRADIENT_CONVERSIONS:
            return owner
        raise Cannot(f"the method .{attr}() of a gradient from torch.autograd.grad")
    if isinstance(owner, GradRef):
        return _gradient_method(owner, attr)
    if isinstance(owner, Method):
        shown = ast.unparse(receiver) if receiver is not None else "the value"
        raise WouldFail(f"'builtin_function_or_method' object has no attribute {attr!r}: {shown} is "
                        f"the method .{owner.name}, never called (write .{owner.name}())")
    raise Cannot(f"the method .{attr}() of a {type(owner).__name__.lower()}")


def _gradient_method(owner: GradRef, attr: str):
    if attr == "zero_":
        owner.leaf.grad = []
        owner.leaf.history.append(("zero",))
        return owner
    if attr in _GRADIENT_CONVERSIONS:
        return owner
    raise Cannot(f"the method .grad.{attr}()")


def _op_method(interp, owner: Val, attr: str, node) -> Val:
    args = [owner, *_operands(interp, node, attr)]
    op = lib.METHODS[attr]
    if op == "transpose":
        return interp.derived(op, [owner]) if owner.shape is None or len(owner.shape) > 1 else owner
    if op == "dot" and owner.framework == "numpy" and (owner.shape is None or len(owner.shape) != 1):
        op = "matmul"
    return interp.derived(op, args)


def _norm_method(interp, owner: Val, attr: str, node, receiver):
    if node.args or node.keywords:
        raise Cannot(f"the method .{attr}()")
    return _norm(interp, owner)


def _clamp_method(interp, owner: Val, attr: str, node, receiver):
    return _clamp(interp, node, owner, skip=0)


def _item(interp, owner: Val, attr: str, node, receiver):
    if owner.shape is not None and math.prod(owner.shape) != 1:
        raise WouldFail(f"a tensor with {math.prod(owner.shape)} elements cannot be converted to a "
                        "Python number (.item())")
    return Val(owner.tree, (), "python" if owner.framework == "torch" else "python", False, True,
               owner.dtype, None, owner.gradient_of)


def _numpy(interp, owner: Val, attr: str, node, receiver):
    if owner.requires_grad:
        raise WouldFail("can't call numpy() on a tensor that requires grad: use .detach().numpy()")
    return Val(owner.tree, owner.shape, "numpy", False, True,
               "float64" if owner.dtype == "float64" else owner.dtype, None, owner.gradient_of)


def _detach(interp, owner: Val, attr: str, node, receiver):
    if owner.tree[0] == "leaf":
        return Val(owner.tree, owner.shape, owner.framework, False, True, owner.dtype)
    return Val(("op", "detach", (owner.tree,), ()), owner.shape, owner.framework, False, True, owner.dtype)


def _copy(interp, owner: Val, attr: str, node, receiver):
    """clone(), cpu(), tolist(), float(), double(), to(): the same value, perhaps another dtype."""
    dtype = {"float": "float32", "double": "float64"}.get(attr, owner.dtype)
    framework = "python" if attr == "tolist" else owner.framework
    return Val(owner.tree, owner.shape, framework, owner.requires_grad,
               owner.is_leaf and attr != "clone" or not owner.requires_grad, dtype, owner.graph,
               owner.gradient_of)


def _requires_grad_(interp, owner: Val, attr: str, node, receiver):
    flag = True
    if node.args or node.keywords:
        flag = bool(_concrete(interp, (node.args or [node.keywords[0].value])[0], "a requires_grad flag"))
    return interp.set_requires_grad(owner, flag, node)


def _numel(interp, owner: Val, attr: str, node, receiver):
    if owner.shape is None:
        raise Cannot("numel() of a value of unknown shape")
    return Val(("num", math.prod(owner.shape)))


def _size(interp, owner: Val, attr: str, node, receiver):
    if owner.shape is None:
        raise Cannot("size() of a value of unknown shape")
    if node.args:
        return Val(("num", owner.shape[int(_concrete(interp, node.args[0], "a dimension"))]))
    return tuple(Val(("num", n)) for n in owner.shape)


def _reshape(interp, owner: Val, attr: str, node, receiver):
    sizes = []
    for arg in node.args:
        value = interp.ev(arg)
        items = value if isinstance(value, tuple) else (value,)
        numbers = [v.concrete for v in items if isinstance(v, Val) and isinstance(v.concrete, int)]
        if len(numbers) != len(items):
            raise Cannot(f"the method .{attr}() with sizes the reader does not compute")
        sizes.append(tuple(numbers) if isinstance(value, tuple) else numbers[0])
    return reshaped(interp, owner, attr, sizes)


def _in_place_step(interp, owner: Val, attr: str, node, receiver):
    """`w.sub_(lr * w.grad)` (or on `w.data`): a gradient step the reader records."""
    if owner.tree[0] == "leaf" and len(node.args) == 1 and not node.keywords:
        data = isinstance(receiver, ast.Attribute) and receiver.attr == "data"
        if interp.step(owner, node.args[0], -1 if attr == "sub_" else 1, node, in_place=not data):
            return owner
    raise Cannot(f"the method .{attr}()")


_TENSOR_METHODS = {
    "norm": _norm_method, "clamp": _clamp_method, "item": _item, "numpy": _numpy, "detach": _detach,
    **dict.fromkeys(("clone", "cpu", "tolist", "float", "double", "to"), _copy),
    "requires_grad_": _requires_grad_, "numel": _numel, "size": _size,
    **dict.fromkeys(("reshape", "view", "unsqueeze", "squeeze", "flatten"), _reshape),
    "sub_": _in_place_step, "add_": _in_place_step,
}


def optimizer_method(interp, opt: Optimizer, attr: str, node):
    if attr == "zero_grad":
        for leaf in opt.params:
            leaf.grad = None
            leaf.history.append(("zero",))
        return NONE
    if attr == "step":
        for leaf in opt.params:
            if leaf.grad is None:
                continue   # torch skips parameters without a gradient
            leaf.updates.append(Update(leaf.version, opt.lr, list(leaf.grad), None,
                                       interp.location(node.lineno)))
            leaf.version += 1
            old = _current(interp, leaf)
            interp.rebind_leaf(leaf, Val(("leaf", leaf, leaf.version), leaf.shape, leaf.framework,
                                         leaf.requires_grad, True, old.dtype if old else leaf.dtype))
        return NONE
    raise Cannot(f"the optimizer method .{attr}()")


def _current(interp, leaf):
    for scope in (interp.scopes[-1], interp.globals):
        for value in scope.values():
            if isinstance(value, Val) and value.tree[0] == "leaf" and value.tree[1] is leaf:
                return value
    return None

"""Calls the static reader follows: library functions (dispatched to `factories`
and `printing` where they make tensors or print, to `gradients` for
`torch.autograd.grad`), builtins, ops, optimizers, loss objects and small user
functions (inlined). Methods of values are in `methods`.

Every call either returns what the reader knows of its result, raises `Cannot`
naming the call it cannot follow, or raises `WouldFail` with the error the call
would raise when run.
"""

from __future__ import annotations

import ast

from diffcheck.reading.code import library as lib
from diffcheck.reading.code.arguments import _axis, _clamp, _keywords, _norm, _operands
from diffcheck.reading.code.factories import _concrete, create, random_leaf
from diffcheck.reading.code.gradients import autograd_grad
from diffcheck.reading.code.methods import method_call
from diffcheck.reading.code.printing import do_print
from diffcheck.reading.code.values import (
    NONE,
    Cannot,
    Function,
    LossFunction,
    Method,
    Module,
    Opaque,
    Optimizer,
    Unknown,
    Val,
    WouldFail,
    _Return,
)
from diffcheck.reading.code.data import stacked

MAX_CALL_DEPTH = 8   # user functions calling user functions

def call(interp, node):
    if any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
        raise Cannot("a call with *args or **kwargs")
    func = node.func
    if isinstance(func, ast.Attribute):
        dotted = interp.resolve_callee(func)
        if dotted is not None:
            return library_call(interp, dotted, node)
        owner = interp.ev(func.value)
        return method_call(interp, owner, func.attr, node)
    if isinstance(func, ast.Name):
        target = interp.lookup(func.id, func)
        if isinstance(target, Module):
            return library_call(interp, target.path, node)
        if isinstance(target, Function):
            return inline(interp, target, node)
        if isinstance(target, Unknown):
            raise Cannot(target.reason)
        if isinstance(target, Method):
            return method_call(interp, target.owner, target.name, node)
        if isinstance(target, LossFunction):
            return loss_call(interp, target, node)
        raise Cannot(f"a call of {func.id}, which is not a function the reader knows")
    raise Cannot("a call of a computed function")


def library_call(interp, name: str, node):
    problem = lib.check_keywords(name, _keywords(node))
    if problem:
        raise WouldFail(problem)
    handler = _LIBRARY_CALLS.get(name)
    if handler is not None:
        return handler(interp, name, node)
    if name in lib.CREATORS:
        return create(interp, lib.CREATORS[name], name, node)
    if name in lib.RANDOM:
        return random_leaf(interp, name, node)
    if name in lib.FUNCTIONS:
        return function(interp, lib.FUNCTIONS[name], name, node)
    if name in lib.INERT or name.startswith(lib.INERT_PREFIXES):
        return Unknown(f"call of {name}")
    if name.startswith("builtins."):
        return builtin(interp, name[len("builtins."):], node)
    raise Cannot(f"call of {name} is outside the static reader")


def _parameter(interp, name: str, node):
    if len(node.args) != 1 or set(_keywords(node)) - {"requires_grad"}:
        raise Cannot("torch.nn.Parameter with unusual arguments")
    value = interp.operand(interp.ev(node.args[0]), "Parameter")
    flag = True
    if "requires_grad" in _keywords(node):
        flag = bool(_concrete(interp, _keywords(node)["requires_grad"], "a requires_grad flag"))
    return interp.set_requires_grad(value, flag, node)


def _norm_call(interp, name: str, node):
    if len(node.args) == 1 and not node.keywords:
        return _norm(interp, interp.operand(interp.ev(node.args[0]), "norm"))
    raise Cannot(f"call of {name} is outside the static reader")


def _clamp_call(interp, name: str, node):
    return _clamp(interp, node, interp.operand(interp.ev(node.args[0]), "clamp") if node.args else None)


# -- builtins ------------------------------------------------------------------------

def builtin(interp, name: str, node):
    handler = _BUILTINS.get(name)
    if handler is not None:
        result = handler(interp, name, node)
        if result is not _NOT_HANDLED:
            return result
    if name in ("type", "id", "isinstance", "hasattr", "callable", "dir", "vars"):
        return Opaque(f"{name}()")
    raise Cannot(f"call of {name}() is outside the static reader")


_NOT_HANDLED = object()   # a builtin called in a way its handler does not follow


def _range(interp, name: str, node):
    bounds = [int(_concrete(interp, a, "a range() bound")) for a in node.args]
    if not 1 <= len(bounds) <= 3:
        raise Cannot("range() with unusual arguments")
    if bounds[2:] == [0]:
        raise WouldFail("range() arg 3 must not be zero")
    return range(*bounds)   # numbers made one by one where a loop reads them


def _len(interp, name: str, node):
    if len(node.args) != 1:
        return _NOT_HANDLED
    value = interp.ev(node.args[0])
    if isinstance(value, (list, tuple)):
        return Val(("num", len(value)))
    if isinstance(value, Val) and value.shape:
        return Val(("num", value.shape[0]))
    raise Cannot("len() of a value of unknown length")


def _number_conversion(interp, name: str, node):
    """float(x) and int(x): a number when x is known, else x.item()."""
    if len(node.args) != 1:
        return _NOT_HANDLED
    value = interp.ev(node.args[0])
    if isinstance(value, Val):
        if value.concrete is not None:
            return Val(("num", (float if name == "float" else int)(value.concrete)))
        return method_call(interp, value, "item", node)
    raise Cannot(f"{name}() of a value the reader does not follow")


def _round(interp, name: str, node):
    if node.args:
        value = interp.ev(node.args[0])
        if isinstance(value, Val) and value.concrete is None:
            return value   # rounding for display: the printed digits carry the precision
    return _arithmetic(interp, name, node)


def _arithmetic(interp, name: str, node):
    """abs(), round(), min(), max() of numbers the reader knows."""
    if not node.args:
        return _NOT_HANDLED
    values = [_concrete(interp, a, f"an argument of {name}()") for a in node.args]
    if name == "abs":
        return Val(("num", abs(values[0])))
    if name == "round":
        return Val(("num", round(values[0], int(values[1]) if len(values) > 1 else None)))
    return Val(("num", (min if name == "min" else max)(values)))


def _zip(interp, name: str, node):
    if not node.args or node.keywords:
        return _NOT_HANDLED
    return stacked(interp, "zip", [interp.operand(interp.ev(a), "zip") for a in node.args], 1)


def _list(interp, name: str, node):
    if len(node.args) != 1 or node.keywords:
        return _NOT_HANDLED
    value = interp.ev(node.args[0])
    if isinstance(value, (list, tuple, range)):
        return list(value)
    if isinstance(value, Val) and value.shape:
        return value   # a list of rows: as the array it came from
    raise Cannot("list() of a value the reader does not follow")


_BUILTINS = {
    "range": _range, "len": _len, "float": _number_conversion, "int": _number_conversion,
    "round": _round, "abs": _arithmetic, "min": _arithmetic, "max": _arithmetic,
    "display": lambda interp, name, node: Unknown("display()"), "zip": _zip, "list": _list,
}


LOSSES = {"torch.nn.MSELoss": "mse", "torch.nn.L1Loss": "l1"}
STACKERS = {"torch.stack": "stack", "torch.cat": "cat", "numpy.stack": "stack", "numpy.concatenate": "concatenate",
            "numpy.column_stack": "column_stack", "numpy.vstack": "vstack", "numpy.hstack": "hstack"}


def stack_call(interp, how: str, node):
    keywords = _keywords(node)
    if not node.args or set(keywords) - {"dim", "axis"}:
        raise Cannot(f"{how}() with unusual arguments")
    items = interp.ev(node.args[0])
    if not isinstance(items, (list, tuple)) or not items:
        raise Cannot(f"{how}() of something other than a list of tensors")
    axis_node = keywords.get("dim", keywords.get("axis", node.args[1] if len(node.args) > 1 else None))
    axis = 0 if axis_node is None else int(_concrete(interp, axis_node, "an axis"))
    return stacked(interp, how, [interp.operand(v, how) for v in items], axis)


def loss_function(interp, name: str, node):
    keywords = _keywords(node)
    problem = lib.check_keywords(name, keywords, {"reduction", "size_average", "reduce"})
    if problem:
        raise WouldFail(problem)
    reduction = "mean"
    if "reduction" in keywords:
        reduction = interp.ev(keywords["reduction"])
        if reduction not in ("mean", "sum"):
            raise Cannot(f"{name} with reduction={reduction!r}")
    if node.args or set(keywords) - {"reduction"}:
        raise Cannot(f"{name} with unusual arguments")
    return LossFunction(LOSSES[name], reduction)


def loss_call(interp, function: LossFunction, node):
    args = _operands(interp, node, "a loss")
    if len(args) != 2 or node.keywords:
        raise WouldFail(f"the loss takes 2 arguments (prediction, target), {len(args)} given")
    difference = interp.derived("sub", args)
    pointwise = (interp.derived("pow", [difference, Val(("num", 2))]) if function.kind == "mse"
                 else interp.derived("abs", [difference]))
    return interp.derived(function.reduction, [pointwise])


def function(interp, op: str, name: str, node):
    if op in ("sum", "mean"):
        args = [interp.operand(interp.ev(node.args[0]), op)] if node.args else []
        if not args:
            raise Cannot(f"{name}() without an argument")
        return interp.derived(op, args, _axis(interp, node, 1))
    args = _operands(interp, node, name)
    if op == "mse_loss":
        if len(args) != 2 or "reduction" in _keywords(node):
            raise Cannot("mse_loss() with unusual arguments")
        diff = interp.derived("sub", args)
        return interp.derived("mean", [interp.derived("pow", [diff, Val(("num", 2))])])
    if op == "transpose":
        return interp.derived("transpose", args[:1]) if args[0].shape is None or len(args[0].shape) > 1 else args[0]
    if op == "dot" and name.startswith("numpy") and any(a.shape is None or len(a.shape) != 1 for a in args):
        op = "matmul"
    if op == "leaky_relu" or op == "elu":
        raise Cannot(f"{name}() with its default slope")
    arity = 2 if op in ("add", "sub", "mul", "div", "pow", "matmul", "dot", "max", "min") else 1
    if len(args) != arity:
        raise Cannot(f"{name}() with {len(args)} arguments")
    return interp.derived(op, args)


def optimizer(interp, node):
    keywords = _keywords(node)
    params = interp.ev(node.args[0] if node.args else keywords["params"])
    if not isinstance(params, (list, tuple)) or not all(isinstance(p, Val) and p.tree[0] == "leaf" for p in params):
        raise Cannot("an optimizer over parameters the reader does not follow")
    lr_node = keywords.get("lr", node.args[1] if len(node.args) > 1 else None)
    if lr_node is None:
        raise Cannot("SGD without a learning rate")
    if "momentum" in keywords and _concrete(interp, keywords["momentum"], "a momentum") != 0:
        raise Cannot("SGD with momentum")
    if "weight_decay" in keywords and _concrete(interp, keywords["weight_decay"], "a weight decay") != 0:
        raise Cannot("SGD with weight decay")
    return Optimizer([p.tree[1] for p in params], float(_concrete(interp, lr_node, "a learning rate")))


_LIBRARY_CALLS = {
    "builtins.print": lambda interp, name, node: do_print(interp, node),
    "torch.optim.SGD": lambda interp, name, node: optimizer(interp, node),
    **{stacker: lambda interp, name, node: stack_call(interp, STACKERS[name], node) for stacker in STACKERS},
    "torch.nn.Parameter": _parameter, "torch.norm": _norm_call, "numpy.linalg.norm": _norm_call,
    "torch.clamp": _clamp_call, "torch.autograd.grad": lambda interp, name, node: autograd_grad(interp, node),
    **{loss: loss_function for loss in LOSSES},
}


# -- user functions ------------------------------------------------------------------

def inline(interp, function: Function, node):
    definition = function.node
    if interp.depth >= MAX_CALL_DEPTH:
        raise Cannot(f"calls of {definition.name} nested too deeply")
    params = definition.args
    if params.vararg or params.kwarg or params.kwonlyargs or params.posonlyargs:
        raise Cannot(f"a call of {definition.name}, which takes *args or keyword-only arguments")
    names = [a.arg for a in params.args]
    if len(node.args) > len(names):
        raise WouldFail(f"{definition.name}() takes {len(names)} arguments but {len(node.args)} were given")
    scope = {}
    for name, arg in zip(names, node.args):
        scope[name] = interp.ev(arg)
    for keyword in node.keywords:
        if keyword.arg not in names:
            raise WouldFail(f"{definition.name}() got an unexpected keyword argument {keyword.arg!r}")
        scope[keyword.arg] = interp.ev(keyword.value)
    defaults = dict(zip(names[len(names) - len(params.defaults):], params.defaults))
    for name in names:
        if name not in scope:
            if name not in defaults:
                raise WouldFail(f"{definition.name}() missing a required argument: {name!r}")
            scope[name] = interp.ev(defaults[name])
    saved = interp.block, interp.lines
    interp.scopes.append(scope)
    interp.depth += 1
    interp.block, interp.lines = function.block, function.lines
    try:
        interp.run_body(definition.body)
    except _return_type() as result:
        return result.value
    finally:
        interp.scopes.pop()
        interp.depth -= 1
        interp.block, interp.lines = saved
    return NONE


def _return_type():
    return _Return

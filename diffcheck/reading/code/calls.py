"""Calls the static reader follows: library functions (dispatched to `factories`
and `printing` where they make tensors or print), ops, tensor methods,
`backward()`, optimizers, loss objects and small user functions (inlined).

Every call either returns what the reader knows of its result, raises `Cannot`
naming the call it cannot follow, or raises `WouldFail` with the error the call
would raise when run.
"""

from __future__ import annotations

import ast
import math

from diffcheck.reading.code import library as lib
from diffcheck.reading.code.factories import _concrete, create, random_leaf
from diffcheck.reading.code.printing import do_print
from diffcheck.reading.code.values import (_Return, NONE, Cannot, FreshGrad, Function, GradRef, Leaf, LossFunction, Method, Module,
                     Opaque, Optimizer, Unknown, Update, Val, WouldFail)

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


def _keywords(node) -> dict:
    return {k.arg: k.value for k in node.keywords}


def library_call(interp, name: str, node):
    problem = lib.check_keywords(name, _keywords(node))
    if problem:
        raise WouldFail(problem)
    if name == "builtins.print":
        return do_print(interp, node)
    if name in lib.CREATORS:
        return create(interp, lib.CREATORS[name], name, node)
    if name in lib.RANDOM:
        return random_leaf(interp, name, node)
    if name in lib.FUNCTIONS:
        return function(interp, lib.FUNCTIONS[name], name, node)
    if name in lib.INERT or name.startswith(lib.INERT_PREFIXES):
        return Unknown(f"call of {name}")
    if name == "torch.optim.SGD":
        return optimizer(interp, node)
    if name in STACKERS:
        return stack_call(interp, STACKERS[name], node)
    if name == "torch.nn.Parameter":
        if len(node.args) != 1 or set(_keywords(node)) - {"requires_grad"}:
            raise Cannot("torch.nn.Parameter with unusual arguments")
        value = interp.operand(interp.ev(node.args[0]), "Parameter")
        flag = True
        if "requires_grad" in _keywords(node):
            flag = bool(_concrete(interp, _keywords(node)["requires_grad"], "a requires_grad flag"))
        return interp.set_requires_grad(value, flag, node)
    if name in ("torch.norm", "numpy.linalg.norm") and len(node.args) == 1 and not node.keywords:
        return _norm(interp, interp.operand(interp.ev(node.args[0]), "norm"))
    if name == "torch.clamp":
        return _clamp(interp, node, interp.operand(interp.ev(node.args[0]), "clamp") if node.args else None)
    if name == "torch.autograd.grad":
        return autograd_grad(interp, node)
    if name in LOSSES:
        return loss_function(interp, name, node)
    if name.startswith("builtins."):
        return builtin(interp, name[len("builtins."):], node)
    raise Cannot(f"call of {name} is outside the static reader")




def builtin(interp, name: str, node):
    args = node.args
    if name == "range":
        bounds = [int(_concrete(interp, a, "a range() bound")) for a in args]
        if not 1 <= len(bounds) <= 3:
            raise Cannot("range() with unusual arguments")
        if bounds[2:] == [0]:
            raise WouldFail("range() arg 3 must not be zero")
        return range(*bounds)   # numbers made one by one where a loop reads them
    if name == "len" and len(args) == 1:
        value = interp.ev(args[0])
        if isinstance(value, (list, tuple)):
            return Val(("num", len(value)))
        if isinstance(value, Val) and value.shape:
            return Val(("num", value.shape[0]))
        raise Cannot("len() of a value of unknown length")
    if name in ("float", "int") and len(args) == 1:
        value = interp.ev(args[0])
        if isinstance(value, Val):
            if value.concrete is not None:
                return Val(("num", (float if name == "float" else int)(value.concrete)))
            return method_call(interp, value, "item", node)
        raise Cannot(f"{name}() of a value the reader does not follow")
    if name == "round" and args:
        value = interp.ev(args[0])
        if isinstance(value, Val) and value.concrete is None:
            return value   # rounding for display: the printed digits carry the precision
    if name in ("abs", "round", "min", "max") and args:
        values = [_concrete(interp, a, f"an argument of {name}()") for a in args]
        if name == "abs":
            return Val(("num", abs(values[0])))
        if name == "round":
            return Val(("num", round(values[0], int(values[1]) if len(values) > 1 else None)))
        return Val(("num", (min if name == "min" else max)(values)))
    if name == "display":
        return Unknown("display()")
    if name == "zip" and args and not node.keywords:
        from diffcheck.reading.code.data import stacked
        return stacked(interp, "zip", [interp.operand(interp.ev(a), "zip") for a in args], 1)
    if name == "list" and len(args) == 1 and not node.keywords:
        value = interp.ev(args[0])
        if isinstance(value, (list, tuple, range)):
            return list(value)
        if isinstance(value, Val) and value.shape:
            return value   # a list of rows: as the array it came from
        raise Cannot("list() of a value the reader does not follow")
    if name in ("type", "id", "isinstance", "hasattr", "callable", "dir", "vars"):
        return Opaque(f"{name}()")
    raise Cannot(f"call of {name}() is outside the static reader")


LOSSES = {"torch.nn.MSELoss": "mse", "torch.nn.L1Loss": "l1"}
STACKERS = {"torch.stack": "stack", "torch.cat": "cat", "numpy.stack": "stack", "numpy.concatenate": "concatenate",
            "numpy.column_stack": "column_stack", "numpy.vstack": "vstack", "numpy.hstack": "hstack"}


def stack_call(interp, how: str, node):
    from diffcheck.reading.code.data import stacked
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


# -- ops -----------------------------------------------------------------------------

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


# -- methods -------------------------------------------------------------------------

def method_call(interp, owner, attr: str, node):
    receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
    if owner is NONE:
        shown = ast.unparse(receiver) if receiver is not None else "the value"
        raise WouldFail(f"{shown} is None here (no backward() has reached it): 'NoneType' object "
                        f"has no attribute {attr!r}")
    if isinstance(owner, Unknown):
        raise Cannot(owner.reason)
    if isinstance(owner, Optimizer):
        return optimizer_method(interp, owner, attr, node)
    if isinstance(owner, FreshGrad):
        if attr in ("item", "numpy", "detach", "clone", "tolist", "cpu", "float"):
            return owner
        raise Cannot(f"the method .{attr}() of a gradient from torch.autograd.grad")
    if isinstance(owner, GradRef):
        if attr == "zero_":
            owner.leaf.grad = []
            owner.leaf.history.append(("zero",))
            return owner
        if attr in ("item", "numpy", "detach", "clone", "tolist", "cpu", "float"):
            return owner
        raise Cannot(f"the method .grad.{attr}()")
    if isinstance(owner, Method):
        shown = ast.unparse(receiver) if receiver is not None else "the value"
        raise WouldFail(f"'builtin_function_or_method' object has no attribute {attr!r}: {shown} is "
                        f"the method .{owner.name}, never called (write .{owner.name}())")
    if not isinstance(owner, Val):
        raise Cannot(f"the method .{attr}() of a {type(owner).__name__.lower()}")
    if attr in ("sum", "mean", "backward", "requires_grad_"):
        problem = lib.check_keywords(attr, _keywords(node))
        if problem:
            raise WouldFail(problem)
    if attr == "backward":
        return backward(interp, owner, node)
    if attr in ("sum", "mean"):
        return interp.derived(attr, [owner], _axis(interp, node, 0))
    if attr in lib.METHODS:
        args = [owner, *_operands(interp, node, attr)]
        op = lib.METHODS[attr]
        if op == "transpose":
            return interp.derived(op, [owner]) if owner.shape is None or len(owner.shape) > 1 else owner
        if op == "dot" and owner.framework == "numpy" and (owner.shape is None or len(owner.shape) != 1):
            op = "matmul"
        return interp.derived(op, args)
    if attr == "norm" and not node.args and not node.keywords:
        return _norm(interp, owner)
    if attr == "clamp":
        return _clamp(interp, node, owner, skip=0)
    if attr == "item":
        if owner.shape is not None and math.prod(owner.shape) != 1:
            raise WouldFail(f"a tensor with {math.prod(owner.shape)} elements cannot be converted to a "
                            "Python number (.item())")
        return Val(owner.tree, (), "python" if owner.framework == "torch" else "python", False, True,
                   owner.dtype, None, owner.gradient_of)
    if attr == "numpy":
        if owner.requires_grad:
            raise WouldFail("can't call numpy() on a tensor that requires grad: use .detach().numpy()")
        return Val(owner.tree, owner.shape, "numpy", False, True,
                   "float64" if owner.dtype == "float64" else owner.dtype, None, owner.gradient_of)
    if attr == "detach":
        if owner.tree[0] == "leaf":
            return Val(owner.tree, owner.shape, owner.framework, False, True, owner.dtype)
        return Val(("op", "detach", (owner.tree,), ()), owner.shape, owner.framework, False, True, owner.dtype)
    if attr in ("clone", "cpu", "tolist", "float", "double", "to"):
        dtype = {"float": "float32", "double": "float64"}.get(attr, owner.dtype)
        framework = "python" if attr == "tolist" else owner.framework
        return Val(owner.tree, owner.shape, framework, owner.requires_grad,
                   owner.is_leaf and attr != "clone" or not owner.requires_grad, dtype, owner.graph,
                   owner.gradient_of)
    if attr == "requires_grad_":
        flag = True
        if node.args or node.keywords:
            flag = bool(_concrete(interp, (node.args or [node.keywords[0].value])[0], "a requires_grad flag"))
        return interp.set_requires_grad(owner, flag, node)
    if attr == "numel":
        if owner.shape is None:
            raise Cannot("numel() of a value of unknown shape")
        return Val(("num", math.prod(owner.shape)))
    if attr == "size":
        if owner.shape is None:
            raise Cannot("size() of a value of unknown shape")
        if node.args:
            return Val(("num", owner.shape[int(_concrete(interp, node.args[0], "a dimension"))]))
        return tuple(Val(("num", n)) for n in owner.shape)
    if attr in ("reshape", "view", "unsqueeze", "squeeze", "flatten"):
        from diffcheck.reading.code.data import reshaped
        sizes = []
        for arg in node.args:
            value = interp.ev(arg)
            items = value if isinstance(value, tuple) else (value,)
            numbers = [v.concrete for v in items if isinstance(v, Val) and isinstance(v.concrete, int)]
            if len(numbers) != len(items):
                raise Cannot(f"the method .{attr}() with sizes the reader does not compute")
            sizes.append(tuple(numbers) if isinstance(value, tuple) else numbers[0])
        return reshaped(interp, owner, attr, sizes)
    if attr in ("sub_", "add_") and owner.tree[0] == "leaf" and len(node.args) == 1 and not node.keywords:
        data = isinstance(receiver, ast.Attribute) and receiver.attr == "data"
        if interp.step(owner, node.args[0], -1 if attr == "sub_" else 1, node, in_place=not data):
            return owner
    raise Cannot(f"the method .{attr}()")


def backward(interp, y: Val, node):
    keywords = _keywords(node)
    seed_node = node.args[0] if node.args else keywords.get("gradient")
    retain = False
    if "retain_graph" in keywords:
        retain = bool(_concrete(interp, keywords["retain_graph"], "a retain_graph flag"))
    if not y.requires_grad:
        raise WouldFail("element 0 of tensors does not require grad and does not have a grad_fn "
                        "(nothing it is computed from requires grad)")
    seed = None
    if seed_node is not None:
        seed = interp.operand(interp.ev(seed_node), "backward")
        if seed.tree[0] == "leaf" and not seed.tree[1].name:
            seed.tree[1].name = "v"
        if seed.shape is not None and y.shape is not None and tuple(seed.shape) != tuple(y.shape):
            raise WouldFail(f"Mismatch in shape: the gradient passed to backward() has shape "
                            f"{list(seed.shape)} and the output has shape {list(y.shape)}")
    elif y.shape is not None and math.prod(y.shape) != 1:
        raise WouldFail(f"grad can be implicitly created only for scalar outputs (the output has "
                        f"shape {list(y.shape)}; pass a gradient or reduce it with .sum())")
    if y.graph and y.graph & interp.freed:
        raise WouldFail("Trying to backward through the graph a second time: its saved tensors were "
                        "freed by the first backward() (pass retain_graph=True to it)")
    if not retain and y.graph:
        interp.freed |= y.graph
    tree = y.tree if seed is None else ("op", "sum", (("op", "mul", (seed.tree, y.tree), ()),), ())
    event = interp.event("backward", node.lineno, val=Val(tree, (), y.framework, True, False, y.dtype))
    for leaf in _tracked_leaves(tree):
        leaf.grad = (leaf.grad or []) + [(tree, event)]
        leaf.history.append(("call", tree, event))
    return NONE


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


def autograd_grad(interp, node):
    """`torch.autograd.grad(y, [x1, x2])`: one fresh gradient per input, nothing accumulated."""
    keywords = _keywords(node)
    problem = lib.check_keywords("torch.autograd.grad", keywords, {
        "outputs", "inputs", "grad_outputs", "retain_graph", "create_graph", "allow_unused",
        "is_grads_batched", "materialize_grads", "only_inputs"})
    if problem:
        raise WouldFail(problem)
    outputs = node.args[0] if node.args else keywords.get("outputs")
    inputs = node.args[1] if len(node.args) > 1 else keywords.get("inputs")
    if outputs is None or inputs is None or len(node.args) > 2 or "grad_outputs" in keywords:
        raise Cannot("torch.autograd.grad with unusual arguments")
    y = interp.operand(interp.ev(outputs), "grad")
    targets = interp.ev(inputs)
    targets = list(targets) if isinstance(targets, (list, tuple)) else [targets]
    if not y.requires_grad:
        raise WouldFail("element 0 of tensors does not require grad and does not have a grad_fn")
    if y.shape is not None and math.prod(y.shape) != 1:
        raise WouldFail(f"grad can be implicitly created only for scalar outputs (the output has shape "
                        f"{list(y.shape)})")
    retain = "retain_graph" in keywords and bool(_concrete(interp, keywords["retain_graph"], "a flag"))
    retain = retain or ("create_graph" in keywords and bool(_concrete(interp, keywords["create_graph"], "a flag")))
    if y.graph and y.graph & interp.freed:
        raise WouldFail("Trying to backward through the graph a second time: its saved tensors were "
                        "freed by the first backward() (pass retain_graph=True to it)")
    if not retain and y.graph:
        interp.freed |= y.graph
    event = interp.event("backward", node.lineno, val=Val(y.tree, (), y.framework, True, False, y.dtype))
    reached = _tracked_leaves(y.tree)
    results = []
    for target in targets:
        if not (isinstance(target, Val) and target.tree[0] == "leaf" and target.requires_grad):
            raise Cannot("torch.autograd.grad with respect to something other than a leaf that requires grad")
        if target.tree[1] not in reached:
            raise WouldFail("one of the differentiated tensors appears to not have been used in the graph "
                            "(pass allow_unused=True)")
        results.append(FreshGrad(target.tree[1], (y.tree, event)))
    return tuple(results)


def _tracked_leaves(tree) -> list[Leaf]:
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if node[0] == "leaf":
            if node[1].requires_grad and node[1] not in found:
                found.append(node[1])
        elif node[0] == "op" and node[1] != "detach":
            stack.extend(node[2])
        elif node[0] == "named":
            stack.append(node[2])
    return found


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

"""Expressions, for the interpreter: names, literals, operators, attributes and
the tensor values they make (`Expressions.derived` is where a tree, its shape,
its framework and its gradient tracking are decided). A mixin of `Interpreter`."""

from __future__ import annotations

import ast
import math

from diffcheck.reading.code import library as lib
from diffcheck.reading.code.values import (MAX_TREE_SIZE, NONE, Cannot, FreshGrad, GradRef, Leaf, Method, Module, Opaque, Optimizer,
                     ScaledGrad, Unknown, Val, WouldFail, broadcast, matmul_shape)
from diffcheck.reading.code.data import subscript
from diffcheck.reading.code.calls import call


class Expressions:
    # -- expressions ---------------------------------------------------------------

    def ev(self, node):
        method = getattr(self, "ex_" + type(node).__name__, None)
        if method is None:
            raise Cannot(f"{type(node).__name__} expressions are outside the static reader")
        return method(node)

    def ex_Constant(self, node):
        if node.value is None:
            return NONE
        if isinstance(node.value, bool):
            return Val(("num", node.value))
        if isinstance(node.value, (int, float)):
            if isinstance(node.value, float) and not math.isfinite(node.value):
                raise Cannot("a number too large for the expression language")
            return Val(("num", node.value))
        if isinstance(node.value, str):
            return node.value
        raise Cannot(f"a {type(node.value).__name__} constant")

    def ex_Name(self, node):
        return self.lookup(node.id, node)

    def ex_List(self, node):
        return [self.ev(e) for e in node.elts]

    def ex_Tuple(self, node):
        return tuple(self.ev(e) for e in node.elts)

    def ex_JoinedStr(self, node):
        raise Cannot("an f-string outside print()")

    def ex_UnaryOp(self, node):
        operand = self.ev(node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.USub):
            value = self.operand(operand, "-")
            if value.concrete is not None:
                return Val(("num", -value.concrete))
            return self.derived("neg", [value])
        if isinstance(node.op, ast.Not):
            truth = _truth(operand)
            if truth is None:
                raise Cannot("'not' of a value the reader does not compute")
            return Val(("num", not truth))
        raise Cannot("a unary operator outside the expression language")

    def ex_BinOp(self, node):
        return self.arith(node.op, self.ev(node.left), self.ev(node.right))

    def ex_Compare(self, node):
        left = self.ev(node.left)
        result = True
        for op, right_node in zip(node.ops, node.comparators):
            right = self.ev(right_node)
            a, b = _number(left), _number(right)
            if a is None or b is None:
                raise Cannot("a comparison of values the reader does not compute")
            table = {ast.Eq: a == b, ast.NotEq: a != b, ast.Lt: a < b, ast.LtE: a <= b,
                     ast.Gt: a > b, ast.GtE: a >= b}
            if type(op) not in table:
                raise Cannot("a comparison outside ==, !=, <, <=, >, >=")
            result = result and table[type(op)]
            left = right
        return Val(("num", result))

    def ex_BoolOp(self, node):
        values = [_truth(self.ev(v)) for v in node.values]
        if None in values:
            raise Cannot("and/or over values the reader does not compute")
        return Val(("num", all(values) if isinstance(node.op, ast.And) else any(values)))

    def ex_Subscript(self, node):
        value = self.ev(node.value)
        if isinstance(value, Val):
            return subscript(self, value, node)
        index = self.ev(node.slice)
        if isinstance(value, (tuple, list)) and isinstance(index, Val) and isinstance(index.concrete, int):
            try:
                return value[index.concrete]
            except IndexError:
                raise WouldFail("index out of range") from None
        raise Cannot("indexing of a value the reader does not follow")

    def ex_Attribute(self, node):
        owner = self.ev(node.value)
        return self.attribute(owner, node.attr, node)

    def ex_Call(self, node):
        return call(self, node)

    def resolve_callee(self, func) -> str | None:
        """The dotted library name a callee is (`np.exp` -> `numpy.exp`), if it is one."""
        parts = []
        while isinstance(func, ast.Attribute):
            parts.append(func.attr)
            func = func.value
        if not isinstance(func, ast.Name):
            return None
        try:
            base = self.lookup(func.id, func)
        except (WouldFail, Cannot):
            return None
        if not isinstance(base, Module):
            return None
        return ".".join([base.path, *reversed(parts)])

    # -- values --------------------------------------------------------------------

    def attribute(self, owner, attr: str, node):
        if isinstance(owner, Module):
            return Module(f"{owner.path}.{attr}")
        if isinstance(owner, (GradRef, FreshGrad)):
            if attr in ("data",):
                return owner
            if attr in lib.ALL_METHODS:
                return Method(owner, attr)
            raise Cannot(f".grad.{attr}")
        if isinstance(owner, Val):
            return self.tensor_attribute(owner, attr, node)
        if isinstance(owner, Unknown):
            raise Cannot(owner.reason)
        if owner is NONE:
            raise WouldFail(f"'NoneType' object has no attribute {attr!r}")
        if isinstance(owner, Optimizer) and attr in ("step", "zero_grad"):
            return Method(owner, attr)
        raise Cannot(f"the attribute .{attr} of a {type(owner).__name__.lower()}")

    def tensor_attribute(self, owner: Val, attr: str, node):
        """`x.grad`, `x.data`, `x.T`, `x.shape`, flags, and methods not yet called."""
        if attr == "grad":
            return self.grad_of(owner, node)
        if attr == "data":
            return Val(owner.tree, owner.shape, owner.framework, False, True, owner.dtype)
        if attr == "T":
            return self.derived("transpose", [owner]) if owner.shape and len(owner.shape) > 1 else owner
        if attr == "shape":
            if owner.shape is None:
                raise Cannot("the shape of a value of unknown shape")
            return tuple(Val(("num", n)) for n in owner.shape)
        if attr == "requires_grad":
            return Val(("num", owner.requires_grad))
        if attr == "is_leaf":
            return Val(("num", owner.is_leaf))
        if attr in lib.ALL_METHODS:
            return Method(owner, attr)
        if attr in ("grad_fn", "dtype", "device", "ndim"):
            return Opaque(f".{attr}")
        raise Cannot(f"the attribute .{attr}")

    def grad_of(self, owner: Val, node):
        if owner.tree[0] != "leaf" or not owner.is_leaf:
            return NONE   # torch: .grad of a non-leaf is None (with a warning)
        leaf = owner.tree[1]
        return GradRef(leaf) if leaf.grad is not None else NONE

    def operand(self, value, symbol: str) -> Val:
        if isinstance(value, Val):
            return value
        if value is NONE:
            raise WouldFail(f"unsupported operand type(s) for {symbol}: 'NoneType' (a .grad that is None?)")
        if isinstance(value, Method):
            raise WouldFail(f"unsupported operand type(s) for {symbol}: the method .{value.name} is used "
                            f"without calling it (write .{value.name}())")
        if isinstance(value, GradRef):
            raise Cannot("arithmetic with a .grad outside a gradient step")
        if isinstance(value, Unknown):
            raise Cannot(value.reason)
        raise Cannot(f"arithmetic on a {type(value).__name__.lower()}")

    def arith(self, op, left, right):
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
                  ast.MatMult: "@", ast.Mod: "%", ast.FloorDiv: "//"}.get(type(op))
        if symbol is None:
            raise Cannot("an operator outside + - * / ** @")
        if isinstance(left, str) or isinstance(right, str):
            raise Cannot("string arithmetic")
        scaled = _scaled_grad(symbol, left, right)
        if scaled is not None:
            return scaled
        a, b = self.operand(left, symbol), self.operand(right, symbol)
        if a.concrete is not None and b.concrete is not None and a.framework == b.framework == "python":
            result = _python_arith(symbol, a.concrete, b.concrete)
            named = a.origin or b.origin or a.tree[0] != "num" or b.tree[0] != "num"
            if named and isinstance(result, float) and symbol not in ("%", "//"):
                # Arithmetic on named Python floats: what it prints is a claim about
                # the names, so keep the tree (and the number, for loops and rates).
                try:
                    value = self.derived({"+": "add", "-": "sub", "*": "mul", "/": "div",
                                          "**": "pow"}[symbol], [a, b])
                    value.number = result
                    return value
                except (Cannot, WouldFail):
                    pass
            return Val(("num", result))
        if symbol in ("%", "//"):
            raise Cannot(f"the operator {symbol} on tensors")
        name = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "@": "matmul"}[symbol]
        return self.derived(name, [a, b])

    def derived(self, name: str, args: list, params: tuple = ()) -> Val:
        """The value of op `name` applied to `args`: its tree, shape, framework, grad tracking."""
        args = [self.as_leaf(a) for a in args]
        size = 1 + sum(a.size for a in args)
        if size > MAX_TREE_SIZE:
            raise Cannot("an expression too large to follow (a loop that rebuilds a value from itself?)")
        shape = _result_shape(name, [a.shape for a in args], params)
        frameworks = {a.framework for a in args}
        framework = "torch" if "torch" in frameworks else "numpy" if "numpy" in frameworks else "python"
        tracked = framework == "torch" and any(a.requires_grad for a in args)
        tree = ("op", name, tuple(a.tree for a in args), tuple(params))
        if tracked and self.no_grad:
            tree, tracked = ("op", "detach", (tree,), ()), False
        graph = None
        if tracked:
            graph = frozenset().union(*(a.graph or frozenset() for a in args))
            if name in lib.SAVING_OPS:
                graph = graph | {object()}   # a tensor saved for backward: freed by backward()
        return Val(tree, shape, framework, tracked, not tracked, _result_dtype(name, args, framework), graph,
                   size=size)

    @staticmethod
    def as_leaf(value: Val) -> Val:
        """A Python number bound to a name takes part in tensor arithmetic as that name."""
        if value.origin is None:
            return value
        leaf = value.origin
        return Val(("leaf", leaf, leaf.version), (), "python", False, True, "float64")

    def set_requires_grad(self, value: Val, flag: bool, node) -> Val:
        if value.tree[0] != "leaf" or not value.is_leaf:
            if flag or value.requires_grad:
                raise WouldFail("requires_grad can only be changed on leaf tensors")
            return value
        leaf = value.tree[1]
        if flag and value.dtype == "int":
            raise WouldFail("only tensors of floating point dtype can require gradients "
                            f"({leaf.name} holds integers)")
        leaf.requires_grad = flag
        updated = Val(value.tree, value.shape, value.framework, flag, True, value.dtype)
        self.rebind_leaf(leaf, updated)
        return updated

    def rebind_leaf(self, leaf: Leaf, value: Val) -> None:
        for scope in {id(s): s for s in (self.scopes[-1], self.globals)}.values():
            for name, bound in list(scope.items()):
                if isinstance(bound, Val) and (bound.origin is leaf or
                                               (bound.tree[0] == "leaf" and bound.tree[1] is leaf)):
                    scope[name] = value


# ops whose result is a float even on integer arguments
_FLOAT_RESULTS = ("div", "mean", "exp", "log", "sqrt", "sigmoid", "tanh", "sin", "cos")


def _result_shape(name: str, shapes: list, params: tuple):
    """The shape of op `name` on arguments of `shapes` (None where unknown)."""
    if name == "matmul":
        return matmul_shape(*shapes)
    if name == "dot":
        if None not in shapes and (len(shapes[0]) != 1 or shapes[0] != shapes[1]):
            raise WouldFail(f"dot needs two 1-D tensors of the same size, got shapes "
                            f"{list(shapes[0])} and {list(shapes[1])}")
        return ()
    if name in ("sum", "mean"):
        axis = dict(params).get("axis")
        shape = shapes[0]
        if shape is not None:
            shape = () if axis is None else tuple(n for i, n in enumerate(shape) if i != axis % max(len(shape), 1))
        return shape
    if name == "transpose":
        return None if shapes[0] is None else tuple(reversed(shapes[0]))
    shape = shapes[0]
    for other in shapes[1:]:
        shape = broadcast(shape, other)
    return shape


def _result_dtype(name: str, args: list, framework: str) -> str:
    if all(a.dtype == "int" for a in args) and name not in _FLOAT_RESULTS:
        return "int"
    if any(a.dtype == "float64" and a.framework == "torch" for a in args):
        return "float64"
    return "float64" if framework != "torch" else "float32"


def _named(value: Val, name: str) -> Val:
    tree = value.tree
    if tree[0] == "named":
        tree = tree[2]
    return Val(("named", name, tree), value.shape, value.framework, value.requires_grad, value.is_leaf,
               value.dtype, value.graph)


def _number(value):
    if isinstance(value, Val) and value.concrete is not None and not isinstance(value.concrete, bool):
        return value.concrete
    if isinstance(value, Val) and isinstance(value.concrete, bool):
        return int(value.concrete)
    return None


def _truth(value):
    if isinstance(value, Val) and value.concrete is not None:
        return bool(value.concrete)
    if value is NONE:
        return False
    if isinstance(value, str):
        return bool(value)
    return None


def _scaled_grad(symbol, left, right):
    """`lr * x.grad`, `x.grad * lr`, `x.grad / n`: a step amount, or None."""
    for grad, number, ok in ((left, right, symbol in "*/"), (right, left, symbol == "*")):
        if isinstance(grad, (GradRef, ScaledGrad)) and ok and isinstance(number, Val) \
                and _number(number) is not None:
            factor = grad.factor if isinstance(grad, ScaledGrad) else 1.0
            value = _number(number)
            if symbol == "/":
                if value == 0:
                    raise WouldFail("division by zero")
                value = 1 / value
            return ScaledGrad(grad.leaf, factor * value)
    return None


def _python_arith(symbol, a, b):
    try:
        if symbol == "+": return a + b
        if symbol == "-": return a - b
        if symbol == "*": return a * b
        if symbol == "/": return a / b
        if symbol == "%": return a % b
        if symbol == "//": return a // b
        if symbol == "**":
            if abs(b) > 64 or abs(a) > 1e50:
                raise Cannot("a power too large to compute")
            return a ** b
    except ZeroDivisionError:
        raise WouldFail("division by zero") from None
    raise Cannot(f"the operator {symbol} on numbers")



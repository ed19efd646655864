"""A small abstract interpreter for the teaching subset of torch and NumPy.

It walks `ast` trees of a document's code cells in order, in one namespace as a
notebook kernel would, and records what the code does: each `print` with the
values it prints (as expressions over leaf tensors), each `backward()`, each
gradient step, each place where the code would raise when run (`WouldFail`), and
each construct it cannot follow. Nothing is executed: literals are read from the
syntax tree, arithmetic on tensors becomes expression trees, and only plain
Python numbers (loop counters, learning rates) are computed.

Contract: `Interpreter.run_cell` never raises; `Interpreter.events` is the record
`claims.py` turns into cases.
"""

from __future__ import annotations

import ast
import builtins
import math
import re
from dataclasses import dataclass, field

from ..document import Location
from . import library as lib
from .values import (MAX_TREE_SIZE, NONE, Cannot, Function, GradRef, Leaf, LossFunction, Method, Module, Opaque,
                     Optimizer, ScaledGrad,
                     Unknown, Update, Val, WouldFail, broadcast, leaves, literal_shape, matmul_shape)

#: Statements one loop may run when unrolled; a longer loop is left unread.
LOOP_STATEMENT_LIMIT = 20_000   # (a cell runs at most CELL_STATEMENT_LIMIT)
#: Statements one cell may run in all (nested loops included), and the whole document:
#: about 20 to 50 microseconds each.
CELL_STATEMENT_LIMIT = 20_000
DOCUMENT_STATEMENT_LIMIT = 100_000
MAX_CALL_DEPTH = 8
_KNOWN_GLOBALS = set(dir(builtins)) | {"display", "get_ipython", "In", "Out", "_", "__name__"}
_GRAD_NAME = re.compile(r"^(?:d(?P<loss>[A-Za-z]\w*?)_?d(?P<p1>[A-Za-z]\w*)|d(?P<p2>[A-Za-z]\w*)|"
                        r"grad_(?P<p3>\w+)|(?P<p4>\w+?)_grad|dJ_d(?P<p5>\w+)|dL_d(?P<p6>\w+))$")
LOSS_NAMES = ("loss", "cost", "J", "L", "error", "mse", "l", "E")


@dataclass
class Part:
    """One piece of a printed line: literal text, a value, a gradient, or unknown."""

    kind: str                 # "text" | "value" | "grad" | "unknown" | "opaque"
    text: str = ""
    val: Val | None = None
    leaf: Leaf | None = None
    contributions: tuple = ()
    version: int = 0
    reason: str = ""


@dataclass
class Event:
    kind: str                 # "print" | "backward" | "runs" | "unread" | "formula"
    cell: int                 # index of the code block whose output this belongs to
    location: Location
    quote: str
    parts: list = field(default_factory=list)
    sep: str = " "
    end: str = "\n"
    message: str = ""
    val: Val | None = None
    leaf: Leaf | None = None
    extra: dict = field(default_factory=dict)
    cell_line: int = 0        # the line within its code block

    def __repr__(self) -> str:
        return f"Event({self.kind}, {self.location.cell or ''} line {self.location.line}: {self.quote!r})"


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class Interpreter:
    def __init__(self, path: str):
        self.path = path
        self.globals: dict = {}
        self.scopes: list[dict] = [self.globals]
        self.events: list[Event] = []
        self.no_grad = 0
        self.names_reliable = True   # False once a cell could bind names we cannot see
        self.freed: set = set()
        self.cell = -1
        self.block = None
        self.lines: list[str] = []
        self.depth = 0
        self.leaves: list[Leaf] = []
        self.named_losses: list[tuple[str, Val]] = []   # scalar values bound to loss-like names
        self.executed = self.executed_in_document = 0

    # -- cells and statements ------------------------------------------------------

    def run_cell(self, index: int, block) -> None:
        self.cell, self.block = index, block
        self.executed = 0
        source = _without_magics(block.text)
        self.lines = source.split("\n")
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
            self.names_reliable = False
            self.event("unread", getattr(err, "lineno", 1) or 1, message=f"the cell is not valid Python "
                       f"({getattr(err, 'msg', type(err).__name__)}); it was not read")
            return
        body, shown = tree.body, None
        if body and isinstance(body[-1], ast.Expr) and not _is_print(body[-1].value):
            # A notebook displays the value of a cell's last expression.
            body, shown = body[:-1], body[-1]
        try:
            self.run_body(body)
            if shown is not None:
                self.display(shown)
        except WouldFail as err:
            line, block, lines = err.place
            self.block, self.lines = block, lines
            self.event("runs", line, message=str(err))
            self.block, self.lines = block, source.split("\n")
            self._taint_rest(tree.body, err.cell_line)
        except (_Return, _Break):
            pass
        except _Budget:
            self.event("unread", 1, message=f"the code runs more statements than the reader follows "
                       f"({CELL_STATEMENT_LIMIT} a cell, {DOCUMENT_STATEMENT_LIMIT} a document); the cell "
                       "was not followed to the end")
        except RecursionError:
            self.event("unread", 1, message="the cell is nested too deeply to read")

    def display(self, statement) -> None:
        from .calls import display_part
        try:
            part = display_part(self, statement)
        except Cannot:
            return
        if part is not None:
            self.event("print", statement.lineno, parts=[part], extra={"display": True})

    def run_body(self, body) -> None:
        for statement in body:
            self.executed += 1
            self.executed_in_document += 1
            if self.executed > CELL_STATEMENT_LIMIT or self.executed_in_document > DOCUMENT_STATEMENT_LIMIT:
                raise _Budget()
            try:
                self.statement(statement)
            except Cannot as err:
                self._taint(statement, str(err))
            except WouldFail as err:
                # The innermost statement locates the error; the cell's own line says
                # where the cell stopped.
                if not hasattr(err, "place"):
                    err.place = (statement.lineno, self.block, self.lines)
                if self.depth == 0:
                    err.cell_line = statement.lineno
                raise

    def statement(self, node) -> None:
        method = getattr(self, "st_" + type(node).__name__, None)
        if method is None:
            raise Cannot(f"{type(node).__name__} statements are outside the static reader")
        method(node)

    def st_Pass(self, node): pass
    def st_Delete(self, node): pass
    def st_Assert(self, node): pass
    def st_Global(self, node): pass

    def st_Import(self, node):
        for alias in node.names:
            if alias.asname:
                self.bind(alias.asname, Module(_canonical(alias.name)))
            else:
                self.bind(alias.name.split(".")[0], Module(_canonical(alias.name.split(".")[0])))

    def st_ImportFrom(self, node):
        for alias in node.names:
            if alias.name == "*":
                self.names_reliable = False
                continue
            self.bind(alias.asname or alias.name, Module(_canonical(f"{node.module}.{alias.name}")))

    def st_FunctionDef(self, node):
        if node.decorator_list:
            self.bind(node.name, Unknown(f"the decorated function {node.name}"))
            return
        self.bind(node.name, Function(node, self.block, self.lines))

    def st_ClassDef(self, node):
        self.bind(node.name, Unknown(f"class {node.name} (classes are outside the static reader)"))

    def st_Return(self, node):
        raise _Return(self.ev(node.value) if node.value is not None else NONE)

    def st_Expr(self, node):
        value = node.value
        if isinstance(value, ast.Attribute):
            owner = self.ev(value.value)
            if isinstance(owner, Val) and value.attr in lib.ALL_METHODS:
                name = _dotted(value) or value.attr
                self.event("runs", node.lineno, message=f"{name} is not called (write {name}()): "
                           "the statement does nothing")
                return
        if isinstance(value, ast.Constant):
            return
        self.ev(value)

    def st_Assign(self, node):
        if len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and target.attr == "data":
                if self.updates_leaf(target.value, node.value, node, data=True):
                    return
            elif self.updates_leaf(target, node.value, node):
                return
        value = self.ev(node.value)
        for target in node.targets:
            self.assign(target, value, node)

    def st_AnnAssign(self, node):
        if node.value is not None:
            self.assign(node.target, self.ev(node.value), node)

    def assign(self, target, value, node) -> None:
        if isinstance(target, ast.Name):
            if isinstance(value, Val) and value.tree[0] == "leaf" and not value.tree[1].name:
                value.tree[1].name = target.id
            if isinstance(value, Val) and value.tree[0] == "num" and value.framework == "python" \
                    and isinstance(value.concrete, float) and self.depth == 0:
                leaf = Leaf(target.id, value.concrete, (), False, "python", "float64")
                self.leaves.append(leaf)
                value = Val(value.tree, (), "python", origin=leaf)
            if isinstance(value, Val) and value.tree[0] == "op":
                value = _named(value, target.id)
                self.note_manual_gradient(target.id, value, node)
                if value.shape == () and is_loss_name(target.id):
                    self.named_losses.append((target.id, value))
            self.bind(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value if isinstance(value, tuple) else None
            if items is None or len(items) != len(target.elts):
                raise Cannot("unpacking of a value the reader cannot split")
            for sub, item in zip(target.elts, items):
                self.assign(sub, item, node)
        elif isinstance(target, ast.Attribute):
            owner = self.ev(target.value)
            self.assign_attribute(owner, target, value, node)
        else:
            raise Cannot("assignment to an indexed element")

    def assign_attribute(self, owner, target, value, node) -> None:
        if isinstance(owner, Val) and owner.tree[0] == "leaf":
            leaf = owner.tree[1]
            if target.attr == "grad" and value is NONE:
                leaf.grad = None
                leaf.history.append(("zero",))
                return
            if target.attr == "requires_grad" and isinstance(value, Val) and value.concrete is not None:
                self.set_requires_grad(owner, bool(value.concrete), target)
                return
        raise Cannot(f"assignment to .{target.attr}")

    def st_AugAssign(self, node):
        target = node.target
        data = isinstance(target, ast.Attribute) and target.attr == "data"
        base = target.value if data else target
        if not isinstance(base, ast.Name) or not isinstance(node.op, (ast.Sub, ast.Add)):
            if isinstance(target, ast.Name):
                value = self.arith(node.op, self.ev(target), self.ev(node.value))
                self.bind(target.id, _named(value, target.id) if isinstance(value, Val) and value.tree[0] == "op" else value)
                return
            raise Cannot("in-place update of an expression the reader cannot follow")
        owner = self.ev(base)
        if isinstance(owner, Val) and owner.origin is not None:
            owner = self.as_leaf(owner)
        if isinstance(owner, Val) and owner.tree[0] == "leaf":
            sign = -1 if isinstance(node.op, ast.Sub) else 1
            if self.step(owner, node.value, sign, node, in_place=not data):
                return
        value = self.arith(node.op, owner, self.ev(node.value))
        if isinstance(owner, Val) and owner.framework == "torch" and owner.is_leaf and owner.requires_grad \
                and not self.no_grad and not data:
            raise WouldFail(f"{base.id} is a leaf tensor that requires grad and is updated in place "
                            "outside torch.no_grad()")
        self.bind(base.id, _named(value, base.id) if isinstance(value, Val) and value.tree[0] == "op" else value)

    def st_Try(self, node):
        """A try block that catches the error it demonstrates: the error is expected,
        so it is not a finding; what the handler prints is unknown."""
        try:
            self.run_body(node.body)
        except WouldFail as err:
            if not node.handlers:
                raise
            handler = node.handlers[0]
            if handler.name:
                self.bind(handler.name, Unknown(f"the text of the error the code catches ({err})"))
            self.run_body(handler.body)
        else:
            self.run_body(node.orelse)
        self.run_body(node.finalbody)

    def st_If(self, node):
        test = self.ev(node.test)
        truth = _truth(test)
        if truth is None:
            raise Cannot("an if whose condition depends on values the reader does not compute")
        self.run_body(node.body if truth else node.orelse)

    def st_For(self, node):
        iterable = self.ev(node.iter)
        if not isinstance(iterable, (list, tuple, range)) or node.orelse:
            raise Cannot("a for loop over something other than range() or a literal list")
        size = sum(1 for _ in ast.walk(ast.Module(body=node.body, type_ignores=[])) if isinstance(_, ast.stmt))
        if size * len(iterable) > LOOP_STATEMENT_LIMIT:
            raise Cannot(f"a loop of {len(iterable)} iterations is too long to unroll")
        for item in iterable:
            self.assign(node.target, Val(("num", item)) if isinstance(item, int) else item, node)
            try:
                self.run_body(node.body)
            except _Break:
                break

    def st_Break(self, node):
        raise _Break()

    def st_With(self, node):
        entered = 0
        for item in node.items:
            name = _dotted(item.context_expr.func) if isinstance(item.context_expr, ast.Call) else None
            resolved = self.resolve_callee(item.context_expr.func) if name else None
            if resolved in ("torch.no_grad", "torch.inference_mode"):
                entered += 1
            else:
                raise Cannot("a with block other than torch.no_grad()")
        self.no_grad += entered
        try:
            self.run_body(node.body)
        finally:
            self.no_grad -= entered

    # -- names ---------------------------------------------------------------------

    def bind(self, name: str, value) -> None:
        self.scopes[-1][name] = value

    def lookup(self, name: str, node):
        for scope in (self.scopes[-1], self.globals):
            if name in scope:
                return scope[name]
        if name in _KNOWN_GLOBALS:
            return Module(f"builtins.{name}")
        if self.names_reliable:
            raise WouldFail(f"name {name!r} is not defined")
        raise Cannot(f"name {name!r} is defined by code the reader could not follow")

    def _taint(self, statement, reason: str) -> None:
        """Bind every name the statement would bind to an unknown value; a statement
        that prints or calls backward() is reported unread."""
        if any(isinstance(n, ast.Call) and ((isinstance(n.func, ast.Name) and n.func.id == "print") or
               (isinstance(n.func, ast.Attribute) and n.func.attr == "backward")) for n in ast.walk(statement)):
            self.event("unread", statement.lineno, message=reason)
        for name in _stored_names(statement):
            self.bind(name, Unknown(reason))
        for receiver in _mutated_names(statement):
            self.bind(receiver, Unknown(reason))
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in
               ("step", "backward", "sub_") for n in ast.walk(statement)):
            for scope in (self.scopes[-1], self.globals):
                for name, value in list(scope.items()):
                    if isinstance(value, Val) and any(l.requires_grad for l in leaves(value.tree)):
                        scope[name] = Unknown(reason)

    def _taint_rest(self, body, line: int) -> None:
        for statement in body:
            if statement.lineno >= line:
                for name in _stored_names(statement):
                    self.scopes[-1].setdefault(name, Unknown(f"the cell stops at the error in line {line}"))

    # -- events --------------------------------------------------------------------

    def location(self, line: int) -> Location:
        start = self.block.location.line if self.block is not None else 1
        cell = self.block.location.cell if self.block is not None else None
        return Location(self.path, line if cell else start + line - 1, cell)

    def event(self, kind: str, line: int, **fields) -> Event:
        quote = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        event = Event(kind, self.cell, self.location(line), quote, cell_line=line, **fields)
        self.events.append(event)
        return event

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
        index = self.ev(node.slice)
        if isinstance(value, (tuple, list)) and isinstance(index, Val) and isinstance(index.concrete, int):
            try:
                return value[index.concrete]
            except IndexError:
                raise WouldFail("index out of range") from None
        raise Cannot("indexing of tensors")

    def ex_Attribute(self, node):
        owner = self.ev(node.value)
        return self.attribute(owner, node.attr, node)

    def ex_Call(self, node):
        from .calls import call
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
        if isinstance(owner, GradRef):
            if attr in ("data",):
                return owner
            if attr in lib.ALL_METHODS:
                return Method(owner, attr)
            raise Cannot(f".grad.{attr}")
        if isinstance(owner, Val):
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
        if isinstance(owner, Unknown):
            raise Cannot(owner.reason)
        if owner is NONE:
            raise WouldFail(f"'NoneType' object has no attribute {attr!r}")
        if isinstance(owner, Optimizer) and attr in ("step", "zero_grad"):
            return Method(owner, attr)
        raise Cannot(f"the attribute .{attr} of a {type(owner).__name__.lower()}")

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
            return Val(("num", _python_arith(symbol, a.concrete, b.concrete)))
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
        shapes = [a.shape for a in args]
        if name == "matmul":
            shape = matmul_shape(*shapes)
        elif name == "dot":
            if None not in shapes and (len(shapes[0]) != 1 or shapes[0] != shapes[1]):
                raise WouldFail(f"dot needs two 1-D tensors of the same size, got shapes "
                                f"{list(shapes[0])} and {list(shapes[1])}")
            shape = ()
        elif name in ("sum", "mean"):
            axis = dict(params).get("axis")
            shape = shapes[0]
            if shape is not None:
                shape = () if axis is None else tuple(n for i, n in enumerate(shape) if i != axis % max(len(shape), 1))
        elif name == "transpose":
            shape = None if shapes[0] is None else tuple(reversed(shapes[0]))
        else:
            shape = shapes[0]
            for other in shapes[1:]:
                shape = broadcast(shape, other)
        frameworks = {a.framework for a in args}
        framework = "torch" if "torch" in frameworks else "numpy" if "numpy" in frameworks else "python"
        tracked = framework == "torch" and any(a.requires_grad for a in args)
        tree = ("op", name, tuple(a.tree for a in args), tuple(params))
        if tracked and self.no_grad:
            tree, tracked = ("op", "detach", (tree,), ()), False
        dtype = "float64" if framework != "torch" else "float32"
        if all(a.dtype == "int" for a in args) and name not in ("div", "mean", "exp", "log", "sqrt",
                                                                "sigmoid", "tanh", "sin", "cos"):
            dtype = "int"
        elif any(a.dtype == "float64" and a.framework == "torch" for a in args):
            dtype = "float64"
        graph = frozenset().union(*(a.graph or frozenset() for a in args)) if tracked else None
        if tracked and name in lib.SAVING_OPS:
            graph = graph | {object()}
        return Val(tree, shape, framework, tracked, not tracked, dtype, graph, size=size)

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

    # -- gradient steps ------------------------------------------------------------

    def updates_leaf(self, target, value_node, node, data: bool = False) -> bool:
        """`p = p - lr * p.grad` (or `p.data = p.data - ...`): a step on leaf p."""
        if not (isinstance(value_node, ast.BinOp) and isinstance(value_node.op, (ast.Sub, ast.Add))):
            return False
        base = value_node.left.value if (isinstance(value_node.left, ast.Attribute)
                                         and value_node.left.attr == "data") else value_node.left
        if not (isinstance(base, ast.Name) and isinstance(target, ast.Name) and base.id == target.id):
            return False
        try:
            owner = self.lookup(base.id, base)
        except (Cannot, WouldFail):
            return False
        if isinstance(owner, Val) and owner.origin is not None:
            owner = self.as_leaf(owner)
        if not (isinstance(owner, Val) and owner.tree[0] == "leaf"):
            return False
        sign = -1 if isinstance(value_node.op, ast.Sub) else 1
        return self.step(owner, value_node.right, sign, node, in_place=False, rebinds=not data)

    def step(self, owner: Val, amount, sign: int, node, in_place: bool, rebinds: bool = False) -> bool:
        """Record p <- p + sign * amount when amount is `lr * p.grad` or `lr * g`; False otherwise."""
        leaf = owner.tree[1]
        try:
            evaluated = self.ev(amount)
        except (Cannot, WouldFail):
            evaluated = None
        if isinstance(evaluated, ScaledGrad) and evaluated.leaf is leaf:
            return self._record_step(owner, evaluated.factor, sign, node, in_place, rebinds, None, None)
        factors = _product_factors(amount)
        grad_nodes = [f for f in factors if _is_grad_of(f, leaf, self)]
        rest = [f for f in factors if f not in grad_nodes]
        rate = 1.0
        for factor in rest if grad_nodes else rest[:-1] if len(rest) > 1 else []:
            number = _number(self.ev(factor))
            if number is None:
                return False
            rate *= number
        manual = loss = None
        if grad_nodes:
            if len(grad_nodes) != 1:
                return False
            if leaf.grad is None:
                raise WouldFail(f"{leaf.name}.grad is None here (no backward() has reached it): "
                                "unsupported operand type(s) for *: 'NoneType'")
            if not owner.is_leaf:
                return False
        else:
            if len(rest) < 2:
                return False
            gradient = self.ev(rest[-1])
            if not isinstance(gradient, Val) or gradient.concrete is not None:
                return False
            manual = gradient.tree
            loss = gradient.gradient_of[0].tree if gradient.gradient_of else None
        return self._record_step(owner, rate, sign, node, in_place, rebinds, manual, loss)

    def _record_step(self, owner, rate, sign, node, in_place, rebinds, manual, loss) -> bool:
        leaf = owner.tree[1]
        if manual is None and leaf.grad is None:
            raise WouldFail(f"{leaf.name}.grad is None here (no backward() has reached it): "
                            "unsupported operand type(s) for *: 'NoneType'")
        if in_place and owner.requires_grad and not self.no_grad:
            raise WouldFail(f"{leaf.name} is a leaf tensor that requires grad and is updated in place "
                            "outside torch.no_grad()")
        rate = -sign * rate
        quote = self.lines[node.lineno - 1].strip() if 0 < node.lineno <= len(self.lines) else ""
        leaf.updates.append(Update(leaf.version, rate, list(leaf.grad or []), manual, loss,
                                   self.location(node.lineno), quote))
        leaf.version += 1
        tracked = owner.requires_grad and (in_place or not rebinds or not self.no_grad)
        if rebinds and not self.no_grad and owner.requires_grad:
            # p = p - lr * p.grad outside no_grad: p is now a non-leaf, its .grad stays None.
            self.rebind_leaf(leaf, Val(("leaf", leaf, leaf.version), owner.shape, owner.framework, True,
                                       False, owner.dtype, frozenset({object()})))
            return True
        self.rebind_leaf(leaf, Val(("leaf", leaf, leaf.version), owner.shape, owner.framework,
                                   tracked, True, owner.dtype))
        return True

    def note_manual_gradient(self, name: str, value: Val, node) -> None:
        """A hand-written gradient (`dw = ...`, `dloss_dw = ...`): remember what it claims to be."""
        match = _GRAD_NAME.match(name)
        if not match:
            return
        param = next(g for g in match.groups()[1:] if g) if any(match.groups()[1:]) else None
        scope = {**self.globals, **self.scopes[-1]}
        target = scope.get(param)
        if isinstance(target, Val) and target.origin is not None:
            target = self.as_leaf(target)
        if not (isinstance(target, Val) and target.tree[0] == "leaf"):
            return
        loss_names = [match.group("loss")] if match.group("loss") else list(LOSS_NAMES)
        for loss_name in loss_names:
            loss = scope.get(loss_name)
            if isinstance(loss, Val) and loss.shape == () and target.tree[1] in leaves(loss.tree) \
                    and target.tree[2] in leaves(loss.tree)[target.tree[1]]:
                value.gradient_of = (loss, target.tree[1])
                self.event("formula", node.lineno, val=value, leaf=target.tree[1],
                           extra={"loss": loss, "name": name})
                return


def is_loss_name(name: str) -> bool:
    lowered = name.lower()
    return name in LOSS_NAMES or lowered.startswith(("loss", "cost", "mse", "error")) or lowered.endswith("_loss")


class _Break(Exception):
    pass


class _Budget(Exception):
    pass


def _is_print(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"


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


def _product_factors(node) -> list:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _product_factors(node.left) + _product_factors(node.right)
    return [node]


def _is_grad_of(node, leaf: Leaf, interp: Interpreter) -> bool:
    while isinstance(node, ast.Attribute) and node.attr == "data":
        node = node.value
    if not (isinstance(node, ast.Attribute) and node.attr == "grad"):
        return False
    try:
        owner = interp.ev(node.value)
    except (Cannot, WouldFail):
        return False
    return isinstance(owner, Val) and owner.tree[0] == "leaf" and owner.tree[1] is leaf


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _canonical(module: str) -> str:
    module = module.replace("torch.nn.functional", "torch.nn.functional")
    return "numpy" + module[len("numpy"):] if module.startswith("numpy") else module


def _stored_names(statement) -> set[str]:
    return {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} | \
           {n.name for n in ast.walk(statement) if isinstance(n, (ast.FunctionDef, ast.ClassDef))} | \
           {(a.asname or a.name).split(".")[0] for n in ast.walk(statement)
            if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}


def _mutated_names(statement) -> set[str]:
    names = set()
    for node in ast.walk(statement):
        targets = [node.target] if isinstance(node, ast.AugAssign) else (
            [t for t in node.targets if isinstance(t, (ast.Attribute, ast.Subscript))]
            if isinstance(node, ast.Assign) else [])
        for base in targets:
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                names.add(base.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.endswith("_"):
            base = node.func.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name):
                names.add(base.id)
    return names


def _without_magics(source: str) -> str:
    """IPython magics and shell escapes are not Python: blank them, keeping line numbers."""
    lines = source.split("\n")
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)

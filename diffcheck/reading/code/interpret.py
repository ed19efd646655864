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
from dataclasses import dataclass, field

from diffcheck.reading.document import Location
from diffcheck.reading.code import library as lib
from diffcheck.reading.code.expressions import Expressions, _named, _truth
from diffcheck.reading.code.printing import display_part
from diffcheck.reading.code.steps import Steps, is_loss_name
from diffcheck.reading.code.syntax import (_canonical, _changes_parameters, _dotted, _is_print, _is_printed_listing,
                                          _mutated_names, _prints_or_backward, _stored_names, _without_magics)
from diffcheck.reading.code.values import (NONE, Cannot, Function, Leaf, Module, Part, Unknown, Val, WouldFail,  # noqa: F401
                                          _Return, leaves)

#: Statements one loop may run when unrolled; a longer loop is left unread.
LOOP_STATEMENT_LIMIT = 20_000   # (a cell runs at most CELL_STATEMENT_LIMIT)
#: Statements one cell may run in all (nested loops included), and the whole document:
#: about 20 to 50 microseconds each.
CELL_STATEMENT_LIMIT = 20_000
DOCUMENT_STATEMENT_LIMIT = 100_000
_KNOWN_GLOBALS = set(dir(builtins)) | {"display", "get_ipython", "In", "Out", "_", "__name__"}


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


class Interpreter(Expressions, Steps):
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
        if _is_printed_listing(tree):
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
                self.bind(target.id, _named_if_op(value, target.id))
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
        if isinstance(owner, Val):
            self._change_in_place(owner, base.id, data)
        self.bind(base.id, _named_if_op(value, base.id))

    def _change_in_place(self, owner: Val, name: str, data: bool) -> None:
        """`name += ...` on a tensor or array: torch's error for a leaf that requires
        grad, and every other name for the same value becomes unknown."""
        if owner.framework == "torch" and owner.is_leaf and owner.requires_grad and not self.no_grad and not data:
            raise WouldFail(f"{name} is a leaf tensor that requires grad and is updated in place "
                            "outside torch.no_grad()")
        if owner.framework in ("torch", "numpy"):
            # `+=` on a tensor or array changes it in place: every other name for it changes too.
            for scope in (self.scopes[-1], self.globals):
                for other, bound in list(scope.items()):
                    if other != name and isinstance(bound, Val) and bound.tree is owner.tree:
                        scope[other] = Unknown(f"{other} is changed in place through {name}")

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
        if _prints_or_backward(statement):
            self.event("unread", statement.lineno, message=reason)
        for name in _stored_names(statement):
            self.bind(name, Unknown(reason))
        for receiver in _mutated_names(statement):
            self.bind(receiver, Unknown(reason))
        if _changes_parameters(statement):
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

class _Break(Exception):
    pass


class _Budget(Exception):
    pass


def _named_if_op(value, name: str):
    """A computed value bound to a name renders as that name."""
    return _named(value, name) if isinstance(value, Val) and value.tree[0] == "op" else value

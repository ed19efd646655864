"""Expression text to :mod:`diffcheck.language.expr` trees, through an allowlist over ``ast``.

Python's ``ast.parse`` only builds a syntax tree; nothing in the text is run.  The
walk below accepts numbers, nested lists of numbers, declared variables, the
constants ``pi`` and ``e``, the operators ``+ - * / ** @`` and calls of the ops in
:data:`diffcheck.language.ops.OPS`.  Everything else is refused with a message that names the
construct and its column.  No ``eval``, ``exec``, ``sympify`` or ``parse_expr``
ever sees user text.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import warnings
from typing import Iterable, Mapping

import numpy as np

from diffcheck.errors import ExpressionError, ShapeError
from diffcheck.language.expr import Apply, Const, Var, apply_numpy, fold, postorder
from diffcheck.language.op import Op
from diffcheck.language.ops import CONSTANTS, OPS

#: Limits that keep a hostile or mistaken expression from exhausting the machine.
MAX_TEXT_LENGTH = 20_000
MAX_NODES = 5_000
MAX_DEPTH = 1_000
MAX_LITERAL = 1e100
#: Largest magnitude of a variable's value written as text (``--at x=1e300``).
MAX_VALUE = float.fromhex("0x1.fffffffffffffp+1023")
#: Non-finite values, written as Python and NumPy print them: the API and case
#: files accept them, so ``--at`` does too (the check then says outside_domain).
SPECIAL_VALUES = {"nan": float("nan"), "inf": float("inf"), "+inf": float("inf"), "-inf": float("-inf"),
                  "infinity": float("inf"), "-infinity": float("-inf")}
#: Largest axis number accepted: variables are scalars, vectors or matrices.
MAX_AXIS = 2
MAX_CONSTANT_EXPONENT = 1024
MAX_LIST_ENTRIES = 100_000

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
           ast.Pow: "pow", ast.MatMult: "matmul"}
_UNARY = {ast.USub: "neg"}
_SYMBOL = {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>",
           ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Invert: "~", ast.Not: "not"}
_REFUSED = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "indexing is not supported",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Compare: "comparisons are not supported",
    ast.BoolOp: "'and' and 'or' are not supported",
    ast.IfExp: "conditional expressions are not supported",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment is not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.Set: "sets are not allowed",
    ast.Tuple: "tuples are not allowed (write lists with [ ])",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slices are not allowed",
}


def check_identifier(name: str, what: str = "variable name") -> str:
    """Refuse names that are not plain identifiers or that look like Python internals.

    Names reach generated code (SymPy's lambdify) and reports, so only this narrow
    form is let through.
    """
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise ExpressionError(f"{what} {name!r} is not a plain identifier "
                              "(letters, digits and _, not starting with a digit)")
    if name.startswith("__"):
        raise ExpressionError(f"{what} {name!r}: names starting with '__' are not allowed")
    if keyword.iskeyword(name):
        raise ExpressionError(f"{what} {name!r} is a Python keyword and cannot be a name")
    return name


def parse(text: str, variables: Iterable[str] = (), *, where: str = "expression",
          ops: Mapping[str, Op] | None = None):
    """Parse ``text`` into an expression tree.

    ``variables`` are the names the user declares; they win over the constants
    ``pi`` and ``e`` and over any meaning a library gives the name.  ``ops`` is
    the registry op names are read from (default :data:`OPS`; see
    :func:`diffcheck.language.ops.extended`).  Raises :class:`ExpressionError`
    naming ``where`` and the column of the problem.
    """
    declared = {check_identifier(v) for v in variables}
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__}", where=where)
    if len(text) > MAX_TEXT_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; the limit is "
                              f"{MAX_TEXT_LENGTH}", where=where)
    if not text.strip():
        raise ExpressionError("expression is empty", where=where)
    _check_ascii(text.strip(), where)
    try:
        with warnings.catch_warnings():
            # "invalid decimal literal" and the like would reach the user's terminal.
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        column = err.offset if err.lineno in (None, 1) else None
        if column is not None and not 1 <= column <= len(text.strip()) + 1:
            column = len(text.strip()) + 1  # Python gives 0 for "+": the text ended early
        raise ExpressionError(f"invalid syntax: {err.msg}", text=text, column=column,
                              where=where) from None
    except (ValueError, RecursionError, MemoryError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else type(err).__name__
        raise ExpressionError(f"expression cannot be read: {reason}", text=text, where=where) from None
    return _Builder(text.strip(), declared, where, OPS if ops is None else ops).build(tree.body)


def _check_ascii(text: str, where: str) -> None:
    # Python reads names in NFKC form, so a lookalike (fullwidth 'ｓｉｎ', italic
    # '𝑥') would silently become another name than the one the reader sees.
    for index, char in enumerate(text):
        if not char.isascii():
            raise ExpressionError(f"character {char!r} (U+{ord(char):04X}) is not ASCII; "
                                  "expressions are written in ASCII", text=text,
                                  column=index + 1, where=where)


class _Builder:
    def __init__(self, text: str, declared: set[str], where: str, ops: Mapping[str, Op],
                 largest: float = MAX_LITERAL):
        self.ops = ops
        # Literals in an expression stay below MAX_LITERAL (their powers would
        # overflow); a variable's value may be any finite float64, as in the API.
        self.largest = largest
        self.text = text
        self.declared = declared
        self.where = where
        self.nodes = 0

    def fail(self, message: str, node: ast.AST | None = None) -> ExpressionError:
        return ExpressionError(message, text=self.text, column=self.column(node), where=self.where)

    def column(self, node: ast.AST | None) -> int | None:
        if node is None or not hasattr(node, "col_offset"):
            return None
        lines = self.text.split("\n")
        line = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
        # ast reports UTF-8 byte offsets; report characters.
        chars = len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace"))
        return sum(len(l) + 1 for l in lines[: node.lineno - 1]) + chars + 1

    def build(self, root: ast.AST):
        # Iterative post-order walk: a left-deep chain such as x+x+...+x must not hit
        # Python's recursion limit.  A walk of Python's syntax tree, not of an
        # Expr, so not expr.fold: it also counts nodes as it first meets them, to
        # refuse an oversized text before building any of it.
        self._check_depth(root)
        built: dict[int, object] = {}
        stack: list[tuple[ast.AST, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            children = self._operands(node)
            if not expanded:
                self.nodes += 1
                if self.nodes > MAX_NODES:
                    raise self.fail(f"expression has more than {MAX_NODES} nodes", node)
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(children))
                continue
            built[id(node)] = self._make(node, [built[id(c)] for c in children])
        return built[id(root)]

    def _check_depth(self, root: ast.AST) -> None:
        stack = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise self.fail(f"expression is nested more than {MAX_DEPTH} levels deep", node)
            if isinstance(node, ast.List):
                continue  # list literals are read whole by _literal
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                         if isinstance(child, ast.expr))

    def _operands(self, node: ast.AST) -> list[ast.AST]:
        """The sub-expressions that become argument nodes (validated in _make)."""
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp) and type(node.op) in (ast.USub, ast.UAdd):
            return [node.operand]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.ops:
            arity = self.ops[node.func.id].arity
            return [a for a in node.args[:arity] if not isinstance(a, ast.Starred)]
        return []

    def _make(self, node: ast.AST, args: list):
        column = self.column(node)
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise self.fail(f"operator '{_SYMBOL.get(type(node.op), '?')}' is not supported", node)
            name = _BINARY[type(node.op)]
            if name == "pow":
                self._check_exponent(node.right, args[1])
            return Apply(self.ops[name], tuple(args), {}, column)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return args[0]
            if type(node.op) not in _UNARY:
                raise self.fail(f"operator '{_SYMBOL.get(type(node.op), '?')}' is not supported", node)
            return Apply(self.ops["neg"], tuple(args), {}, column)
        if isinstance(node, ast.Call):
            return self._call(node, args)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Constant):
            return Const(np.asarray(self._number(node), dtype=float),
                         ast.get_source_segment(self.text, node) or repr(node.value), column)
        if isinstance(node, ast.List):
            value = np.asarray(self._literal(node), dtype=float)
            return Const(value, ast.get_source_segment(self.text, node) or str(value.tolist()), column)
        raise self.fail(_REFUSED.get(type(node), f"{type(node).__name__} is not allowed"), node)

    def _name(self, node: ast.Name):
        name = node.id
        if name.startswith("__"):
            raise self.fail(f"names starting with '__' are not allowed: '{name}'", node)
        if name in self.declared:
            return Var(name, self.column(node))
        if name in CONSTANTS:
            return Const(np.asarray(CONSTANTS[name]), name, self.column(node))
        if name in self.ops:
            raise self.fail(f"'{name}' is a function; call it as {name}(...)", node)
        raise self.fail(f"unknown name '{name}' (declare it as a variable, e.g. --at {name}=1)", node)

    def _call(self, node: ast.Call, args: list):
        func = node.func
        if not isinstance(func, ast.Name):
            if isinstance(func, ast.Attribute):
                raise self.fail("attribute access is not allowed", func)
            raise self.fail("only diffcheck's ops can be called", func)
        name = func.id
        if name.startswith("__"):
            raise self.fail(f"names starting with '__' are not allowed: '{name}'", func)
        if name not in self.ops:
            known = ", ".join(sorted(n for n in self.ops if n.isidentifier()))
            raise self.fail(f"unknown function '{name}' (the functions are: {known})", func)
        op = self.ops[name]
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail("starred arguments are not allowed", arg)
        positional = node.args[op.arity:]
        if len(node.args) < op.arity or len(positional) > len(op.params):
            expected = f"{op.arity}" + (f" (plus {', '.join(op.params)})" if op.params else "")
            raise self.fail(f"{name}() takes {expected} arguments, got {len(node.args)}", node)
        params = dict(op.params)
        for key, value in zip(op.params, positional):
            params[key] = self._parameter(name, key, value)
        for given in node.keywords:
            if given.arg not in op.params:
                raise self.fail(f"{name}() has no parameter '{given.arg}'", given.value)
            params[given.arg] = self._parameter(name, given.arg, given.value)
        return Apply(op, tuple(args), params, self.column(node))

    def _parameter(self, op_name: str, key: str, node: ast.AST):
        if key == "axis":
            if isinstance(node, ast.Constant) and node.value is None:
                return None
            value = self._signed_number(node, f"{op_name}(): axis must be a whole number")
            if value != int(value):
                raise self.fail(f"{op_name}(): axis must be a whole number", node)
            if abs(value) > MAX_AXIS:   # variables have at most two axes; a huge one overflows NumPy's C long
                raise self.fail(f"{op_name}(): axis {value:g} does not exist (variables have at most 2 axes)", node)
            return int(value)
        return self._signed_number(node, f"{op_name}(): {key} must be a number")

    def _signed_number(self, node: ast.AST, message: str) -> float:
        sign = 1.0
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1.0, node.operand
        if not (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
            raise self.fail(message, node)
        return sign * self._number(node)

    def _number(self, node: ast.Constant) -> float:
        value = node.value
        if type(value) not in (int, float):
            kind = {str: "strings", bytes: "bytes", bool: "booleans", complex: "complex numbers",
                    type(None): "None", type(...): "..."}.get(type(value), type(value).__name__)
            raise self.fail(f"{kind} are not allowed", node)
        largest = self.largest
        if isinstance(value, int) and value.bit_length() > 1100:
            raise self.fail(f"number is larger than {largest:g}", node)
        if not math.isfinite(float(value)) or abs(value) > largest:
            raise self.fail(f"number is larger than {largest:g}", node)
        return float(value)

    def _literal(self, root: ast.List):
        """A nested list of numbers, read iteratively and checked for a regular shape."""
        count = 0

        def read(node):
            nonlocal count
            if isinstance(node, ast.List):
                return [None] * len(node.elts)
            count += 1
            return self._signed_number(node, "list entries must be numbers")

        out = read(root)
        stack = [(root, out)]
        while stack:
            node, target = stack.pop()
            for i, elt in enumerate(node.elts):
                target[i] = read(elt)
                if count > MAX_LIST_ENTRIES:
                    raise self.fail(f"list literal has more than {MAX_LIST_ENTRIES} entries", root)
                if isinstance(elt, ast.List):
                    stack.append((elt, target[i]))
        try:
            return np.array(out, dtype=float)
        except ValueError:
            raise self.fail("list literal is not rectangular (rows of different lengths)", root) from None

    def _check_exponent(self, node: ast.AST, built) -> None:
        # A constant exponent is folded here in float arithmetic (never in SymPy's
        # exact integers), so 2**2**2**10 is refused instead of hanging.
        if isinstance(built, Var) or _has_variable(built):
            return
        try:
            with np.errstate(all="ignore"):
                value = _constant_value(built)
        except ShapeError as err:  # such as (1 @ 0) in an exponent
            raise self.fail(err.reason, node) from None
        if not np.all(np.isfinite(value)) or np.any(np.abs(value) > MAX_CONSTANT_EXPONENT):
            raise self.fail(f"exponent is too large (limit {MAX_CONSTANT_EXPONENT})", node)


def _has_variable(node) -> bool:
    return any(isinstance(n, Var) for n in postorder(node))


def _constant_value(node) -> np.ndarray:
    return fold(node, lambda leaf: leaf.value, apply_numpy)


def parse_value(text: str, *, where: str = "value"):
    """A number or nested list of numbers written as in an expression: ``-2``, ``[1, 2.5]``.

    Read with the same allowlist as expressions; nothing is evaluated.
    """
    if len(text) > MAX_TEXT_LENGTH * 50:
        raise ExpressionError("value text is too long", where=where)
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"cannot read {text[:40]!r} as a number or a list of numbers",
                              where=where) from None
    special = SPECIAL_VALUES.get(text.strip().lower())
    if special is not None:
        return special
    builder = _Builder(text.strip(), set(), where, OPS, largest=MAX_VALUE)
    if isinstance(node, ast.List):
        return builder._literal(node)
    return builder._signed_number(node, "a value must be a number or a list of numbers")

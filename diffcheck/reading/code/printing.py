"""`print` and a cell's displayed last value, as parts: literal text (string
constants, separators, numbers the reader computed) and the values, gradients
or unknowns whose printed text `outputs.py` finds. f-strings, `%`-formats and
`str.format` are read from the syntax tree, never evaluated."""

from __future__ import annotations

import ast
import re
import string

from diffcheck.reading.code.values import NONE, Cannot, FreshGrad, GradRef, Method, Opaque, Part, Unknown, Val, WouldFail


def _keywords(node) -> dict:
    return {k.arg: k.value for k in node.keywords}


def do_print(interp, node):
    keywords = _keywords(node)
    sep = _text_keyword(interp, keywords.get("sep"), " ")
    end = _text_keyword(interp, keywords.get("end"), "\n")
    parts = []
    for number, arg in enumerate(node.args):
        if number:
            parts.append(Part("text", sep))
        formatted = _old_style_format(interp, arg) or _concatenation(interp, arg)
        if formatted is not None:
            parts.extend(formatted)
        elif isinstance(arg, ast.JoinedStr):
            for piece in arg.values:
                if isinstance(piece, ast.Constant):
                    parts.append(Part("text", str(piece.value)))
                else:
                    spec = _format_spec(piece.format_spec)
                    parts.append(_part(interp, piece.value, spec, piece.conversion))
        else:
            parts.append(_part(interp, arg, "", -1))
    event = interp.event("print", node.lineno, parts=parts, sep=sep, end=end)
    for part in parts:
        if part.kind == "grad":
            part.leaf.history.append(("print", event))
    return NONE


_PERCENT = re.compile(r"%(?:\((\w+)\))?([-+ #0]*\d*(?:\.\d+)?)([diouxXeEfFgGcrsa%])")


def _old_style_format(interp, arg):
    """The parts of `'...' % (a, b)` and `'...'.format(a, b)`, or None when `arg` is neither."""
    if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mod) and isinstance(arg.left, ast.Constant) \
            and isinstance(arg.left.value, str):
        return _percent_format(interp, arg)
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format" \
            and isinstance(arg.func.value, ast.Constant) and isinstance(arg.func.value.value, str):
        return _format_call(interp, arg)
    return None


def _percent_format(interp, arg) -> list:
    """The parts of `'...' % (a, b)`."""
    values = arg.right.elts if isinstance(arg.right, ast.Tuple) else [arg.right]
    parts, position, used = [], 0, 0
    for match in _PERCENT.finditer(arg.left.value):
        parts.append(Part("text", arg.left.value[position:match.start()]))
        position = match.end()
        if match.group(3) == "%":
            parts.append(Part("text", "%"))
            continue
        if match.group(1) or used >= len(values):
            raise Cannot("a %-format the reader cannot apply")
        spec = match.group(2) + ("" if match.group(3) in "sra" else match.group(3).replace("i", "d").replace("u", "d"))
        parts.append(_part(interp, values[used], spec, ord("r") if match.group(3) == "r" else -1))
        used += 1
    parts.append(Part("text", arg.left.value[position:]))
    return parts


def _format_call(interp, arg) -> list:
    """The parts of `'...'.format(a, b)`."""
    keywords = _keywords(arg)
    parts, automatic = [], 0
    try:
        fields = list(string.Formatter().parse(arg.func.value.value))
    except ValueError:
        raise Cannot("a format string the reader cannot read") from None
    for literal, field_name, spec, conversion in fields:
        parts.append(Part("text", literal))
        if field_name is None:
            continue
        if field_name == "":
            field_name, automatic = str(automatic), automatic + 1
        if field_name.isdigit() and int(field_name) < len(arg.args):
            value_node = arg.args[int(field_name)]
        elif field_name in keywords:
            value_node = keywords[field_name]
        else:
            raise Cannot("a format field the reader cannot resolve")
        if "{" in (spec or ""):
            raise Cannot("a nested format specification")
        parts.append(_part(interp, value_node, spec or "", ord(conversion) if conversion else -1))
    return parts


def _concatenation(interp, arg):
    """The parts of `"text" + str(value) + ...`, or None when `arg` is not one."""
    pieces, stack = [], [arg]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            stack.extend([node.right, node.left])
        else:
            pieces.append(node)
    if len(pieces) < 2:
        return None
    parts = []
    for piece in pieces:
        if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
            parts.append(Part("text", piece.value))
        elif isinstance(piece, ast.Call) and isinstance(piece.func, ast.Name) and piece.func.id == "str" \
                and len(piece.args) == 1 and not piece.keywords:
            parts.append(_part(interp, piece.args[0], "", -1))
        else:
            return None
    return parts


def _text_keyword(interp, node, default: str) -> str:
    if node is None:
        return default
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise Cannot("print() with a computed sep or end")


def _format_spec(spec) -> str:
    if spec is None:
        return ""
    if all(isinstance(v, ast.Constant) for v in spec.values):
        return "".join(str(v.value) for v in spec.values)
    return "?"


def display_part(interp, statement):
    """What a cell's last expression displays, as a printed part (None: nothing claimable)."""
    if isinstance(statement.value, ast.Constant):
        return None
    try:
        statement_value = interp.ev(statement.value)
    except WouldFail as err:
        err.place = (statement.lineno, interp.block, interp.lines)
        err.cell_line = statement.lineno
        raise
    if isinstance(statement_value, (Val, GradRef, FreshGrad)):
        part = _part(interp, statement.value, "", -1, statement_value)
        return part if part.kind in ("value", "grad") else None
    if isinstance(statement_value, Method) and isinstance(statement.value, ast.Attribute):
        interp.event("runs", statement.lineno, message=f"{ast.unparse(statement.value)} is not called "
                     f"(write {ast.unparse(statement.value)}()): the cell shows the method, not its value")
    return None


def _part(interp, arg, spec: str, conversion: int, evaluated=None):
    try:
        value = interp.ev(arg) if evaluated is None else evaluated
    except Cannot as err:
        return Part("unknown", reason=str(err))
    if isinstance(value, str):
        return Part("text", _formatted(value, spec, conversion))
    if isinstance(value, Val) and value.concrete is not None and value.framework == "python" \
            and not value.gradient_of and value.tree[0] != "op":
        return Part("text", _formatted(value.concrete, spec, conversion))
    if isinstance(value, Val):
        return Part("value", spec, val=value)
    if isinstance(value, FreshGrad):
        return Part("grad", spec, leaf=value.leaf, contributions=(value.contribution,), version=value.leaf.version)
    if isinstance(value, GradRef):
        leaf = value.leaf
        if leaf.grad is None:
            return Part("text", "None")
        return Part("grad", spec, leaf=leaf, contributions=tuple(leaf.grad), version=leaf.version)
    if value is NONE:
        return Part("text", "None")
    if isinstance(value, Method):
        shown = ast.unparse(arg) if isinstance(arg, ast.Attribute) else f".{value.name}"
        holder = shown if isinstance(arg, ast.Attribute) else f"{ast.unparse(arg)} (the method {shown})"
        interp.event("runs", arg.lineno, message=f"{holder} is printed without being called: the line "
                     f"shows the method object, not its value (write {shown}())")
        return Part("opaque", reason="a method object")
    if isinstance(value, Unknown):
        return Part("unknown", reason=value.reason)
    if isinstance(value, Opaque):
        return Part("opaque", reason=value.what)
    return Part("opaque", reason=f"a {type(value).__name__.lower()}")


def _formatted(value, spec: str, conversion: int) -> str:
    if conversion == ord("r"):
        value = repr(value)
    try:
        return format(value, spec) if spec and spec != "?" else str(value)
    except (ValueError, TypeError):
        raise Cannot("a format specification the reader cannot apply") from None

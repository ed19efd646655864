"""What the interpreter reads off a code cell's syntax tree without interpreting
it: whether a block is printed output rather than code, IPython magics, dotted
names, the canonical name of an imported module, and the names a statement
binds or changes in place (which become unknown when the statement is not followed).
"""

from __future__ import annotations

import ast


def _is_print(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"


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


_REPR_CALLS = {"tensor", "array", "Parameter", "Size", "Tensor"}


def _is_printed_listing(tree) -> bool:
    """A block that only holds printed values (`tensor([1., 2.])`, `[0.5 0.25]`), as
    Markdown shows output in an unlabelled fence: output, not code to run."""
    def printed(node) -> bool:
        if isinstance(node, ast.Call):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            return func in _REPR_CALLS
        return isinstance(node, (ast.Constant, ast.List, ast.Tuple, ast.UnaryOp))
    return bool(tree.body) and all(isinstance(s, ast.Expr) and printed(s.value) for s in tree.body)


def _without_magics(source: str) -> str:
    """IPython magics and shell escapes are not Python: blank them, keeping line numbers."""
    lines = source.split("\n")
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def _prints_or_backward(statement) -> bool:
    """Whether the statement calls print() or .backward() anywhere inside it."""
    return any(isinstance(n, ast.Call) and ((isinstance(n.func, ast.Name) and n.func.id == "print") or
               (isinstance(n.func, ast.Attribute) and n.func.attr == "backward")) for n in ast.walk(statement))


def _changes_parameters(statement) -> bool:
    """Whether the statement calls .step(), .backward() or .sub_(), which change
    parameters or their gradients."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in
               ("step", "backward", "sub_") for n in ast.walk(statement))

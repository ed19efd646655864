"""The package's layers, kept honest: every import goes downward.

Each subpackage is a layer; a module may import from its own layer and the
layers below it, never from a layer above, and modules may not import each
other in a cycle, even from inside a function (a function-local import that
only dodges a cycle hides a responsibility in the wrong place).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "diffcheck"

#: Bottom to top.  Top-level modules not listed are the application layer.
LAYERS = [
    {"diffcheck.errors", "diffcheck.vocabulary", "diffcheck.plaindata", "diffcheck.printable"},
    {"diffcheck.language"},
    {"diffcheck.backends"},
    {"diffcheck.checking"},
    {"diffcheck.usercode"},
    {"diffcheck.reading"},
    {"diffcheck.documents"},
    {"diffcheck.reports"},
    {"diffcheck.testing"},
    {"diffcheck.scale"},
]
APPLICATION = len(LAYERS)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    for rank, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return APPLICATION


def imports_of(path: Path) -> set[str]:
    """Every diffcheck module this file imports, at top level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("diffcheck")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("diffcheck"):
            assert node.level == 0, f"{path}: relative import"
            for alias in node.names:   # `from diffcheck.reports import records` names a module
                sub = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists() or \
                    (PACKAGE.parent / sub.replace(".", "/") / "__init__.py").exists()
                found.add(sub if is_module else node.module)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: {m for m in imports_of(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def test_layers_name_every_subpackage():
    packages = {m for m, p in MODULES.items() if p.name == "__init__.py" and m != "diffcheck"}
    placed = {m for m in packages if layer_of(m) != APPLICATION}
    assert placed == packages, f"subpackages with no layer: {sorted(packages - placed)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_downward(module):
    upward = sorted(m for m in GRAPH[module] if layer_of(m) > layer_of(module)
                    and not (m == "diffcheck" and module != "diffcheck"))
    upward += sorted(m for m in GRAPH[module] if m == "diffcheck" and layer_of(module) < APPLICATION)
    assert not upward, f"{module} (layer {layer_of(module)}) imports from above: {upward}"


def test_no_import_cycles():
    # Tarjan's strongly connected components over the whole import graph.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_a_planted_upward_import_is_caught(tmp_path):
    fake = tmp_path / "diffcheck" / "language" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from diffcheck.reports.records import audit_record\n")
    assert "diffcheck.reports.records" in imports_of(fake)
    assert layer_of("diffcheck.reports.records") > layer_of("diffcheck.language.fake")

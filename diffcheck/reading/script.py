"""Python tutorial scripts: `# %%` cells (jupytext percent format, sphinx-gallery).

A `# %% [markdown]` cell, and every run of `#` comment lines in a code cell, is
Markdown prose (the comment marks stripped); module, class and function
docstrings are prose too, found with `ast.parse` (nothing is run).  The code of
each cell is a code block, with its output comments.
"""

from __future__ import annotations

import ast
import re
import warnings

from diffcheck.reading.codeblocks import OUTPUT_COMMENT, add_code
from diffcheck.reading.document import Document, Location
from diffcheck.reading.markdown import add_markdown, as_text

CELL = re.compile(r"^#\s*%%(.*)$")


def read(path: str, text: str | bytes) -> Document:
    document = Document(path)
    lines = as_text(text).split("\n")
    starts = [i for i, line in enumerate(lines) if CELL.match(line)]
    if not starts or starts[0] != 0:
        starts.insert(0, -1)            # code before the first marker is a cell of its own
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        header = CELL.match(lines[start]).group(1) if start >= 0 else ""
        cell = f"%% {number + 1}" if len(starts) > 1 else None
        body = lines[start + 1:end]
        if "markdown" in header or "[md]" in header:
            _comments_as_markdown(document, body, start + 2, cell)
        else:
            _code_cell(document, body, start + 2, cell)
    return document


def _comments_as_markdown(document: Document, body: list[str], first_line: int, cell) -> None:
    text = "\n".join(re.sub(r"^# ?", "", line) for line in body)
    if text.strip():
        add_markdown(document, text, first_line, cell)


def _code_cell(document: Document, body: list[str], first_line: int, cell) -> None:
    source = "\n".join(body).strip("\n")
    if not source.strip():
        return
    offset = next(i for i, line in enumerate(body) if line.strip())
    add_code(document, source, Location(document.path, first_line + offset, cell))
    run: list[int] = []
    for index, line in enumerate(body + [""]):
        stripped = line.strip()
        if stripped.startswith("#") and not OUTPUT_COMMENT.match(stripped):
            run.append(index)
            continue
        if run:
            _comments_as_markdown(document, [body[i].strip() for i in run], first_line + run[0], cell)
            run = []
    for text, line in _docstrings(source):
        add_markdown(document, text, first_line + offset + line - 1, cell)


def _docstrings(source: str) -> list[tuple[str, int]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                # the text as written: a docstring's escapes would turn "\\tanh" into a tab
                written = ast.get_source_segment(source, body[0].value) or ""
                found.append((_dedent(_unquote(written)), body[0].lineno))
    return found


def _unquote(literal: str) -> str:
    literal = literal.lstrip("rRuUbBfF")
    for quote in ('"""', "'''", '"', "'"):
        if literal.startswith(quote) and literal.endswith(quote) and len(literal) >= 2 * len(quote):
            return literal[len(quote):-len(quote)]
    return literal


def _dedent(text: str) -> str:
    import inspect
    return inspect.cleandoc(text)

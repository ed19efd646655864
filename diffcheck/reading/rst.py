"""reStructuredText through docutils: parse to a doctree, walk its nodes.

`.. math::` directives become display math, `:math:` roles inline math,
`.. code-block:: python` and `::` literal blocks code, paragraphs prose.  File
inclusion and raw passthrough are switched off, and docutils' own messages go
nowhere: a malformed passage is at worst prose.
"""

from __future__ import annotations

import io

from docutils import nodes
from docutils.core import publish_doctree

from diffcheck.reading.codeblocks import add_code
from diffcheck.reading.document import Block, Document, Location
from diffcheck.reading.markdown import as_text

_SETTINGS = {"report_level": 5, "halt_level": 5, "file_insertion_enabled": False,
             "raw_enabled": False, "warning_stream": io.StringIO(), "input_encoding": "unicode",
             "syntax_highlight": "none"}


MAX_INDENT = 160   # columns; docutils takes minutes over lists nested thousands deep


def read(path: str, text: str | bytes) -> Document:
    document = Document(path)
    text = as_text(text)
    for number, line in enumerate(text.split("\n"), start=1):
        indent = len(line) - len(line.lstrip(" \t"))
        if indent > MAX_INDENT and line.strip():
            document.problems.append(f"{path}: line {number}: indented {indent} columns (more than "
                                     f"{MAX_INDENT}); reStructuredText nested this deep is not read")
            return document
    try:
        tree = publish_doctree(as_text(text), settings_overrides=dict(_SETTINGS, warning_stream=io.StringIO()))
    except RecursionError:
        document.problems.append(f"{path}: line 1: reStructuredText nested too deeply; not read")
        return document
    except Exception as err:   # docutils raises SystemMessage and others on hostile input
        document.problems.append(f"{path}: line 1: reStructuredText not read: {str(err).splitlines()[0][:160]}")
        return document
    for title in tree.findall(nodes.title):
        document.title = title.astext()
        break
    last = 1
    source = text.split("\n")
    for node in tree.findall(lambda n: isinstance(n, (nodes.paragraph, nodes.math_block,
                                                      nodes.literal_block, nodes.math))):
        line = _anchored(source, _line(node) or last, node.astext())
        last = line
        where = Location(path, line)
        if isinstance(node, nodes.math_block):
            for formula in node.astext().split("\n\n"):
                if formula.strip():
                    document.add(Block("math", formula.strip(), where, display=True))
        elif isinstance(node, nodes.math):
            document.add(Block("math", node.astext().strip(), where))
        elif isinstance(node, nodes.literal_block):
            classes = node.get("classes", [])
            language = node.get("language") or next((c for c in classes if c != "code"), None)
            add_code(document, node.astext(), Location(path, line), language or "python")
        else:
            document.add(Block("prose", node.astext(), where))
    return document


def _anchored(source: list[str], approximate: int, text: str) -> int:
    """The line where ``text`` starts in the source, near docutils' ``approximate``
    line: versions of docutils place a directive's content on its directive line,
    the line after, or the line after the blank one; the text itself is the anchor."""
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not first:
        return approximate
    for number in range(max(1, approximate - 3), min(len(source), approximate + 8) + 1):
        if first in source[number - 1]:
            return number
    return approximate


def _line(node) -> int | None:
    # docutils puts `line` on some nodes only, and on paragraphs the line after them
    while node is not None:
        if getattr(node, "line", None):
            line = node.line
            if isinstance(node, nodes.paragraph):
                line = max(1, line - node.astext().count("\n") - 1) if node.line else line
            return line
        node = node.parent
    return None

"""LaTeX notes (`.tex`) through pylatexenc's LatexWalker.

The walker gives the node tree with character positions; math nodes (`$ $`,
`\\( \\)`, `\\[ \\]`, `$$ $$`) and math environments (`equation`, `align`, ...)
become math blocks, text becomes prose (one block per paragraph), `verbatim` /
`lstlisting` / `minted` code blocks.  Other environments (document, itemize,
theorem...) are walked into.  Parsing is tolerant: a broken passage costs that
passage, reported as a located problem.
"""

from __future__ import annotations

import bisect

from pylatexenc.latexwalker import (LatexCharsNode, LatexEnvironmentNode, LatexGroupNode,
                                    LatexMacroNode, LatexMathNode, LatexWalker)

from diffcheck.reading.codeblocks import add_code
from diffcheck.reading.document import Block, Document, Location
from diffcheck.reading.markdown import as_text

MATH_ENVIRONMENTS = {"equation", "equation*", "align", "align*", "gather", "gather*",
                     "multline", "multline*", "eqnarray", "eqnarray*", "displaymath", "math"}
CODE_ENVIRONMENTS = {"verbatim", "lstlisting", "minted"}
_TITLE_MACROS = {"title", "section", "section*"}


def read(path: str, text: str | bytes) -> Document:
    source = as_text(text)
    document = Document(path)
    newlines = [i for i, c in enumerate(source) if c == "\n"]

    def line_of(position: int) -> int:
        return bisect.bisect_right(newlines, position - 1) + 1

    try:
        nodes, _, _ = LatexWalker(source, tolerant_parsing=True).get_latex_nodes()
    except RecursionError:
        document.problems.append(f"{path}: line 1: LaTeX nested too deeply; not read")
        return document
    except Exception as err:    # pylatexenc raises its own parse errors even when tolerant
        document.problems.append(f"{path}: line 1: LaTeX not read: {str(err).splitlines()[0][:160]}")
        return document
    _Walk(document, source, line_of).nodes(nodes)
    return document


class _Walk:
    def __init__(self, document: Document, source: str, line_of):
        self.document, self.source, self.line_of = document, source, line_of
        self.prose: list[tuple[int, str]] = []

    def nodes(self, nodes) -> None:
        for node in nodes or []:
            self.node(node)
        self.flush()

    def node(self, node) -> None:
        """One node: math and code become blocks, text gathers into prose."""
        where = Location(self.document.path, self.line_of(node.pos))
        if isinstance(node, LatexMathNode):
            self._math(node, where)
        elif isinstance(node, LatexEnvironmentNode):
            self._environment(node, where)
        elif isinstance(node, LatexCharsNode):
            self._chars(node)
        elif isinstance(node, LatexMacroNode):
            self._macro(node)
        elif isinstance(node, LatexGroupNode):
            for child in node.nodelist or []:
                self.node(child)

    def _math(self, node, where: Location) -> None:
        inner = self.source[node.pos:node.pos + node.len]
        opening, closing = node.delimiters
        formula = inner[len(opening):len(inner) - len(closing)].strip()
        self.prose.append((node.pos, inner))
        if node.displaytype == "display":
            self.flush()
        self.document.add(Block("math", formula, where, display=node.displaytype == "display"))

    def _environment(self, node, where: Location) -> None:
        self.flush()
        name = node.environmentname
        body = self._body(node)
        if name in MATH_ENVIRONMENTS:
            self.document.add(Block("math", body.strip(), where, display=True))
        elif name in CODE_ENVIRONMENTS:
            add_code(self.document, body.strip("\n"), Location(where.path, where.line + 1), "python")
        else:
            self.nodes(node.nodelist)

    def _chars(self, node) -> None:
        for part_number, part in enumerate(node.chars.split("\n\n")):
            if part_number:
                self.flush()
            if part.strip():
                self.prose.append((node.pos + node.chars.find(part), part))

    def _macro(self, node) -> None:
        if node.macroname in _TITLE_MACROS and self.document.title is None and node.nodeargd:
            args = [a for a in node.nodeargd.argnlist if a is not None]
            if args:
                self.document.title = self.source[args[-1].pos:args[-1].pos + args[-1].len].strip("{}")
        if node.macroname in ("section", "subsection", "paragraph", "par"):
            self.flush()

    def _body(self, node) -> str:
        full = self.source[node.pos:node.pos + node.len]
        begin = full.find("}") + 1
        end = full.rfind("\\end")
        body = full[begin:end if end >= 0 else len(full)]
        if node.environmentname == "minted" and body.startswith("{"):
            body = body[body.find("}") + 1:]
        return body

    def flush(self) -> None:
        if self.prose:
            text = "".join(part for _, part in self.prose).strip()
            if text:
                self.document.add(Block("prose", text, Location(self.document.path,
                                                                 self.line_of(self.prose[0][0]))))
            self.prose = []

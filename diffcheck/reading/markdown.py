"""Markdown (and plain-text notebook exports, handed to `textexport`).

markdown-it-py with the `dollarmath` and `amsmath` plugins gives the token
stream and each token's line range (`token.map`); paragraphs become prose,
`$...$` inline math, `$$...$$` and `\\begin{align}` display math, fenced code
code blocks.  `\\(...\\)` and `\\[...\\]`, which CommonMark reads as escaped
brackets, are found in the raw text of each paragraph.  An unbalanced `$` stays
prose: the plugin leaves it as text.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from diffcheck.reading.codeblocks import add_code
from diffcheck.reading.document import Block, Document, Location

_BRACKET_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)


def _parser() -> MarkdownIt:
    return (MarkdownIt("commonmark")
            .use(dollarmath_plugin, allow_space=True, allow_digits=True, double_inline=True)
            .use(amsmath_plugin))


_MARKDOWN = _parser()


def read(path: str, text: str | bytes) -> Document:
    """Read Markdown (a notebook's plain-text export is told apart, and read by
    :mod:`textexport`, in :mod:`detect`)."""
    text = as_text(text)
    document = Document(path)
    add_markdown(document, text, first_line=1)
    return document


def as_text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    return text


def add_markdown(document: Document, text: str, first_line: int, cell: str | None = None) -> None:
    """Append the blocks of Markdown `text` whose first line is `first_line` of the
    file (or of `cell`)."""
    def where(offset: int) -> Location:
        return Location(document.path, first_line + offset, cell)

    try:
        tokens = _MARKDOWN.parse(text)
    except RecursionError:
        document.problems.append(f"{where(0).describe()}: Markdown nested too deeply; not read")
        return
    heading = False
    for token in tokens:
        start = token.map[0] if token.map else 0
        if token.type == "heading_open":
            heading = True
        elif token.type == "heading_close":
            heading = False
        elif token.type == "inline":
            if heading and document.title is None:
                document.title = _plain_title(token)
            _add_inline(document, token, where(start))
        elif token.type in ("math_block", "math_block_eqno", "amsmath"):
            document.add(Block("math", token.content.strip(), where(start), display=True))
        elif token.type == "fence":
            language = token.info.split()[0].lower() if token.info.strip() else None
            add_code(document, token.content.rstrip("\n"), where(start + 1), language)
        elif token.type == "code_block":
            add_code(document, token.content.rstrip("\n"), where(start), None)


def _add_inline(document: Document, token, location: Location) -> None:
    document.add(Block("prose", token.content, location))
    line = location.line
    for child in token.children or []:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type in ("math_inline", "math_inline_double"):
            display = child.type == "math_inline_double"
            document.add(Block("math", child.content.strip(),
                               Location(location.path, line, location.cell), display=display))
        elif child.type == "text" and "\n" in child.content:
            line += child.content.count("\n")
    for match in _BRACKET_MATH.finditer(token.content):
        formula = match.group(1) if match.group(1) is not None else match.group(2)
        offset = token.content.count("\n", 0, match.start())
        document.add(Block("math", formula.strip(),
                           Location(location.path, location.line + offset, location.cell),
                           display=match.group(2) is not None))


def _plain_title(token) -> str:
    parts = [c.content for c in token.children or [] if c.type in ("text", "code_inline", "math_inline")]
    title = "".join(parts).strip()
    return title or token.content.strip()

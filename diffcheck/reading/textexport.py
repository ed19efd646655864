"""Notebooks exported as plain text: `In [n]:` markers, code, printed output, Markdown.

An export keeps no cell boundaries, so where a cell's code ends and its output
or the next Markdown cell starts is decided here, paragraph by paragraph (a
paragraph is a run of lines between blank lines):

* the paragraph after the marker is code;
* a later paragraph is still code when the code so far plus it parses with
  `ast.parse` (nothing is run) and it reads as code: it is indented, holds a
  statement other than a bare expression, calls a method or `print`, or is a
  comment with no Markdown in it;
* the first paragraph after the code is the cell's output when the cell ran
  (`In [3]`, not `In [ ]`/`In [None]`) and it does not read as Markdown or as a
  sentence; output continues up to the next blank line;
* everything else, up to the next marker, is Markdown.
"""

from __future__ import annotations

import ast
import re
import warnings

from diffcheck.reading.codeblocks import add_code
from diffcheck.reading.document import Block, Document, Location
from diffcheck.reading.markdown import add_markdown

MAX_CODE_PARAGRAPH = 2_000     # lines
MARKER = re.compile(r"^In\s*\[\s*(\d*|None|\s*)\s*\]\s*:\s*$")
_MARKDOWN_SIGNS = re.compile(r"^\s*(#{2,6}\s|[-*+]\s|\d+\.\s|>\s|<[a-zA-Z/!]|\$|\|)|\]\(|\*\*|\$.*\$|<a id=")
_SENTENCE = re.compile(r"[A-Za-z]{2,}[^.!?:]*[.!?:]\s*$")


def looks_like_export(text: str) -> bool:
    """Whether `text` is a notebook export: an `In [n]:` line on its own."""
    return any(MARKER.match(line) for line in text.splitlines())


def read(path: str, text: str) -> Document:
    document = Document(path)
    lines = text.split("\n")
    markers = [i for i, line in enumerate(lines) if MARKER.match(line)]
    _markdown(document, lines, 0, markers[0] if markers else len(lines))
    for number, start in enumerate(markers):
        end = markers[number + 1] if number + 1 < len(markers) else len(lines)
        label = MARKER.match(lines[start]).group(1).strip()
        cell = f"In [{label}]" if label.isdigit() else f"In [ ] (line {start + 1})"
        _cell(document, lines, start + 1, end, cell, ran=label.isdigit())
    if document.title is None:
        document.title = None
    return document


def _cell(document: Document, lines: list[str], start: int, end: int, cell: str, ran: bool) -> None:
    paragraphs = _paragraphs(lines, start, end)
    if not paragraphs:
        return
    code_end = paragraphs[0][1]
    taken = 1
    for first, last in paragraphs[1:]:
        if not _continues_code(lines, start, code_end, first, last):
            break
        code_end, taken = last, taken + 1
    source = "\n".join(lines[paragraphs[0][0]:code_end]).rstrip()
    code = add_code(document, source, Location(document.path, paragraphs[0][0] + 1, cell))
    rest = paragraphs[taken:]
    if ran and rest and _reads_as_output(lines[rest[0][0]:rest[0][1]]):
        first, last = rest[0]
        document.add(Block("output", "\n".join(lines[first:last]).strip(),
                           Location(document.path, first + 1, cell), of=code))
        rest = rest[1:]
    if rest:
        _markdown(document, lines, rest[0][0], end)


def _markdown(document: Document, lines: list[str], start: int, end: int) -> None:
    text = "\n".join(lines[start:end])
    if text.strip():
        add_markdown(document, text, first_line=start + 1)


def _paragraphs(lines: list[str], start: int, end: int) -> list[tuple[int, int]]:
    """[first, last) line ranges of the non-blank runs in lines[start:end]."""
    found, first = [], None
    for index in range(start, end):
        if lines[index].strip():
            if first is None:
                first = index
        elif first is not None:
            found.append((first, index))
            first = None
    if first is not None:
        found.append((first, end))
    return found


def _parses(source: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _continues_code(lines, code_start, code_end, first, last) -> bool:
    paragraph = lines[first:last]
    if _MARKDOWN_SIGNS.search(paragraph[0]) and not paragraph[0].startswith((" ", "\t")):
        return False
    if len(paragraph) > MAX_CODE_PARAGRAPH:
        return False          # a cell's code comes in short paragraphs; printed output can be huge
    if paragraph[0].startswith((" ", "\t")):
        return _parses("\n".join(lines[code_start:last])) is not None
    if all(line.lstrip().startswith("#") for line in paragraph):
        return not any(_MARKDOWN_SIGNS.search(line.lstrip("#")) for line in paragraph)
    alone = _parses("\n".join(paragraph))
    if alone is None or not any(_reads_as_code(statement) for statement in alone.body):
        return False
    return _parses("\n".join(lines[code_start:last])) is not None


def _reads_as_code(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.Expr):
        return True
    call = statement.value
    if not isinstance(call, ast.Call):
        return False
    return isinstance(call.func, ast.Attribute) or (
        isinstance(call.func, ast.Name) and call.func.id in ("print", "display"))


def _reads_as_output(paragraph: list[str]) -> bool:
    first = paragraph[0]
    if _MARKDOWN_SIGNS.search(first) or first.startswith("#"):
        return False
    words = first.split()
    # a sentence of words is Markdown; printed values are short or full of digits and brackets
    return not (len(words) >= 6 and _SENTENCE.search(paragraph[-1]) and not re.search(r"tensor\(|array\(", first))

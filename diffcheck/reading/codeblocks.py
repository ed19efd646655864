"""Code blocks and the outputs written inside them as comments.

Teaching code often shows what a line prints in a comment instead of a stored
output: `print(y)  # >>> tensor(41.)`, `# Output: 22`, `# prints 0.7`.  Every
reader adds code through `add_code`, so such comments become `output` blocks
attached to their code block, located on their own line, in every format.
"""

from __future__ import annotations

import re

from diffcheck.reading.document import Block, Document, Location

# "# >>> x", "# Output: x", "# output = x", "# prints x", "# => x", "# -> x"
OUTPUT_COMMENT = re.compile(r"#\s*(?:>>>|=>|->|[Oo]utput\s*[:=]|[Rr]esult\s*:|prints?\s*:|"
                            r"prints?\s+(?=[-+\d.\[]|tensor|array))\s?(.*\S)\s*$")
_CONTINUATION = re.compile(r"^\s*#\s?(.*\S)\s*$")


def comment_outputs(source: str) -> list[tuple[int, str]]:
    """(0-based line within `source`, printed text) for each output comment.

    A printed tensor left open on its line (`# >>> tensor([0.8, 1.0,`) takes the
    comment lines after it until its brackets close."""
    lines = source.split("\n")
    found: list[tuple[int, str]] = []
    index = 0
    while index < len(lines):
        match = OUTPUT_COMMENT.search(lines[index])
        if not match or _inside_string(lines[index], match.start()):
            index += 1
            continue
        text, start = match.group(1), index
        while _open_brackets(text) > 0 and index + 1 < len(lines):
            more = _CONTINUATION.match(lines[index + 1])
            if not more:
                break
            text += " " + more.group(1)
            index += 1
        found.append((start, text))
        index += 1
    return found


def add_code(document: Document, source: str, location: Location, language: str | None = "python") -> int:
    """Add a code block and an output block for each output comment in it; return
    the code block's index."""
    index = document.add(Block("code", source, location, language=language))
    for offset, text in comment_outputs(source):
        where = Location(location.path, location.line + offset, location.cell)
        document.add(Block("output", text, where, of=index))
    return index


def _open_brackets(text: str) -> int:
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def _inside_string(line: str, column: int) -> bool:
    # a "#" inside a string literal is not a comment; an odd count of quotes before it says so
    before = line[:column]
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1

"""Documents built straight from blocks, for the code finder's tests (no reader involved)."""

from __future__ import annotations

from diffcheck.reading.document import Block, Document, Location

PATH = "lesson.ipynb"


def notebook(*cells) -> Document:
    """A document of code cells `In [1]`, `In [2]`, ...; each cell is `code` or
    `(code, output)` with the text the cell printed."""
    document = Document(PATH)
    for number, cell in enumerate(cells, start=1):
        code, output = (cell, None) if isinstance(cell, str) else cell
        index = document.add(Block("code", code, Location(PATH, 1, f"In [{number}]"), language="python"))
        if output is not None:
            document.add(Block("output", output, Location(PATH, 1, f"In [{number}]"), of=index))
    return document


def claims(found, kind: str) -> list[dict]:
    return [claim for case in found.cases for claim in case.get("claim", []) if claim["kind"] == kind]


def case_with(found, kind: str) -> dict:
    """The (first) case holding a claim of `kind`."""
    return next(case for case in found.cases if any(c["kind"] == kind for c in case.get("claim", [])))

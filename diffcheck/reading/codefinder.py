"""The static code claim finder: what a document's code cells print, as claims.

`find(document)` reads the `code` blocks in order, in one namespace (as a
notebook kernel runs them), with the `output` blocks attached to each, and
returns the cases the printed values, gradients, accumulations and descent steps
make, plus code that would not run (claims of the new kind `runs`, see
`diffcheck.reading.code.claims`) and the passages it could not follow
(`Unread`). Python is read with `ast.parse` only; nothing is executed.

The parts live in `diffcheck.reading.code`: `interpret`/`calls` (the abstract
interpreter), `outputs` (printed text to prints), `assemble`/`claims` (cases).
"""

from __future__ import annotations

import re

from diffcheck.reading.code.assemble import assemble
from diffcheck.reading.code.interpret import Interpreter
from diffcheck.reading.code.outputs import match_cell
from diffcheck.reading.document import Document, Found, Location, Unread

CODE_LANGUAGES = {None, "", "python", "python3", "py", "ipython", "ipython3", "pycon"}


def find(document: Document) -> Found:
    """Cases and unread passages from the code of `document`. Never raises: a
    problem in the finder itself becomes one unread entry naming it."""
    try:
        return _find(document)
    except Exception as err:   # the finder's own bug must not stop the other finders
        location = Location(document.path, 1)
        return Found([], [Unread(location, "", f"the code finder failed: {type(err).__name__}: {err}")])


def _find(document: Document) -> Found:
    interp = Interpreter(document.path)
    outputs: dict[int, list[str]] = {}
    for block in document.blocks:
        if block.kind == "output" and block.of is not None:
            outputs.setdefault(block.of, []).append(block.text)
    matches = {}
    for index, block in enumerate(document.blocks):
        if block.kind != "code" or (block.language or "").lower() not in CODE_LANGUAGES:
            continue
        first = len(interp.events)
        interp.run_cell(index, block)
        prints = [e for e in interp.events[first:] if e.kind == "print"]
        if prints and index in outputs:
            text = "\n".join(t.rstrip("\n") for t in outputs[index]) + "\n"
            matches.update(match_cell(prints, text))
    cases, unread = assemble(interp, matches, lambda event: _error_expected(document, outputs, event))
    disorder = _execution_disorder(document)
    if disorder:
        for case in cases:
            case["note"] = "; ".join(filter(None, [case.get("note"), disorder]))
            for claim in case.get("claim", []):
                if claim["kind"] != "runs":
                    claim["review"] = True
    # A loop reports the same passage once per iteration: keep one.
    unread = list({(u.location, u.quote, u.reason): u for u in unread}.values())
    return Found(cases, unread)


def _execution_disorder(document: Document) -> str | None:
    """Why the cells' stored outputs may not come from running them in order: the
    execution counts (`In [7]`) go backwards or skip runs."""
    counts = []
    for block in document.blocks:
        if block.kind == "code" and block.location.cell:
            match = re.fullmatch(r"In \[(\d+)\]:?", block.location.cell.strip())
            if match:
                counts.append(int(match.group(1)))
    if any(b <= a for a, b in zip(counts, counts[1:])):
        return "the cells were run out of order (execution counts go backwards): outputs may not follow from the code in order"
    if any(b > a + 1 for a, b in zip(counts, counts[1:])):
        return "execution counts skip numbers: cells were run that the document does not show, or run again"
    return None


_ERROR_OUTPUT = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b", re.M)
# Words that announce an error, not ones that merely contain it ("mean squared error").
_ERROR_WORDS = re.compile(r"(?<!\w)(raises?|throws?|will fail|fails|gives? an? error|an error|error:|errors? out|"
                          r"\w+Error|will not work|won't work|does not work|doesn't work)(?!\w)", re.I)


def _error_expected(document: Document, outputs: dict, event) -> bool:
    """Whether the document shows the error (a traceback in the cell's output) or
    announces it (a comment at the failing line or just below it, or the prose
    just before the cell): a demonstration, not a claim that the code runs."""
    if any(_ERROR_OUTPUT.search(text) for text in outputs.get(event.cell, [])):
        return True
    lines = document.blocks[event.cell].text.split("\n")
    nearby = lines[max(event.cell_line - 1, 0):event.cell_line + 2]
    if any("#" in line and _ERROR_WORDS.search(line.split("#", 1)[1]) for line in nearby):
        return True
    before = document.blocks[event.cell - 1] if event.cell > 0 else None
    return bool(before is not None and before.kind == "prose" and _ERROR_WORDS.search(before.text[-300:]))


def as_case_file(found: Found, document: str, title: str | None = None, *, schema_only: bool = True) -> dict:
    """The tables of a case file holding `found.cases`.

    With `schema_only` (the default), what today's case-file schema does not know
    is left out: `review` flags (kept as a note) and `runs` claims (a case left
    without claims is dropped)."""
    cases = []
    for case in found.cases:
        case = {k: v for k, v in case.items() if k != "claim"}
        claims = []
        for claim in next(c for c in found.cases if c["name"] == case["name"]).get("claim", []):
            claim = dict(claim)
            if schema_only:
                if claim["kind"] == "runs":
                    continue
                if claim.pop("review", False):
                    claim["note"] = (claim.get("note", "") + " (found by the static reader: review)").strip()
            claims.append(claim)
        if claims or not schema_only:
            cases.append({**case, "claim": claims})
    table = {"format": 1, "document": document}
    if title:
        table["title"] = title
    table["case"] = cases
    return table

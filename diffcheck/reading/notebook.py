"""Jupyter notebooks (`.ipynb`, any nbformat version) through nbformat.

Markdown cells go through the Markdown reader, code cells become code blocks
(with their output comments), and stored outputs (stream text, `text/plain` of
`execute_result` / `display_data`) become output blocks attached to their cell.
Locations are the cell (`In [n]` when it has an execution count, else `cell n`)
and the line within it.  A notebook that cannot be read (invalid or deeply
nested JSON) and an output too large to read are located problems, never a
traceback.
"""

from __future__ import annotations

import json
import warnings

import nbformat

from diffcheck.reading.codeblocks import add_code
from diffcheck.reading.document import Block, Document, Location
from diffcheck.reading.markdown import add_markdown, as_text

MAX_OUTPUT_CHARS = 100_000


def read(path: str, text: str | bytes) -> Document:
    document = Document(path)
    notebook = _load(document, as_text(text))
    if notebook is None:
        return document
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        count = cell.get("execution_count")
        label = f"In [{count}]" if isinstance(count, int) else f"cell {number}"
        if cell.get("cell_type") == "markdown":
            add_markdown(document, source, first_line=1, cell=label)
        elif cell.get("cell_type") == "code":
            code = add_code(document, source, Location(path, 1, label))
            _outputs(document, cell.get("outputs", []), code, label)
    return document


def _load(document: Document, text: str):
    path = document.path
    try:
        json.loads(text)     # first, so that a JSON error is located by line and column
        with warnings.catch_warnings():   # nbformat warns about missing cell ids on stderr
            warnings.simplefilter("ignore")
            return nbformat.reads(text, as_version=4, capture_validation_error={})
    except RecursionError:
        document.problems.append(f"{path}: line 1: not read: the notebook's JSON is nested too deeply")
    except json.JSONDecodeError as err:
        document.problems.append(f"{path}: line {err.lineno}: not read: invalid JSON ({err.msg}, "
                                 f"column {err.colno})")
    except Exception as err:    # nbformat raises its own types for unknown versions and shapes
        first = (str(err).splitlines() or [type(err).__name__])[0][:160]
        document.problems.append(f"{path}: line 1: not read as a notebook: {first}")
    return None


def _outputs(document: Document, outputs, code: int, label: str) -> None:
    for output in outputs or []:
        kind = output.get("output_type")
        if kind == "stream":
            text = output.get("text", "")
        elif kind in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain", "")
        elif kind in ("error", "pyerr"):
            # The cell failed when its author ran it: what the document shows is
            # the error itself (ename: evalue), so code that cannot run there is
            # no mistake of the document's.
            text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        else:
            continue
        text = "".join(text) if isinstance(text, list) else str(text)
        where = Location(document.path, 1, label)
        if len(text) > MAX_OUTPUT_CHARS:
            document.problems.append(f"{where.describe()}: output of {len(text)} characters not read "
                                     f"(the limit is {MAX_OUTPUT_CHARS})")
            continue
        if text.strip():
            document.add(Block("output", text.rstrip("\n"), where, of=code))

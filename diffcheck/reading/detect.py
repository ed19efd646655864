"""Which reader reads a file: by extension, and by content for `.txt`.

`read_document(path)` never raises for a bad file: a file that cannot be read
is a Document with one located problem.
"""

from __future__ import annotations

import os
from pathlib import Path

from diffcheck.reading import latex, markdown, notebook, rst, script, textexport
from diffcheck.reading.document import Document

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
READERS = {".ipynb": notebook.read, ".md": markdown.read, ".markdown": markdown.read,
           ".txt": markdown.read, ".py": script.read, ".tex": latex.read, ".rst": rst.read}


def is_document(path) -> bool:
    """Whether the audit should read `path` as a teaching document (not a case file)."""
    return Path(path).suffix.lower() in READERS


def read_document(path) -> Document:
    shown = os.fsencode(path).decode("utf-8", "backslashreplace")
    suffix = Path(path).suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        return _problem(shown, f"not a document diffcheck reads (extension {suffix or 'none'!r})")
    try:
        if Path(path).stat().st_size > MAX_DOCUMENT_BYTES:
            return _problem(shown, f"larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB; not read")
        raw = Path(path).read_bytes()
    except OSError as err:
        return _problem(shown, f"cannot read: {err.strerror or err}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return _problem(shown, f"not UTF-8 text (byte {err.start}); not read")
    if suffix == ".txt" and textexport.looks_like_export(text):
        return textexport.read(shown, text)
    return reader(shown, text)


def _problem(path: str, message: str) -> Document:
    document = Document(path)
    document.problems.append(f"{path}: line 1: {message}")
    return document

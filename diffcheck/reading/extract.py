"""From a document file to case data: read it, run every claim finder, name the cases.

`extract(path)` never raises for a bad document: reading problems are in
`Extraction.problems`, passages not understood in `Extraction.unread`.
`to_case_file(extraction)` writes the cases in the `cases/` TOML format, with
the unread passages as a comment section, through tomli-w.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from . import mathfinder
from .detect import read_document
from .document import Document, Found, Unread

# Fields the case-file schema (format 1) does not know yet; `strict` output moves them into notes.
EXTENSION_FIELDS = ("review", "order")


@dataclass
class Extraction:
    document: Document
    cases: list[dict] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def extract(path) -> Extraction:
    """Read `path` and collect the claims every finder makes of it, uniquely named."""
    document = read_document(path)
    result = Extraction(document, problems=list(document.problems))
    for name, finder in _finders():
        try:
            found: Found = finder(document)
        except RecursionError:
            result.problems.append(f"{document.path}: the {name} finder gave up: nested too deeply")
            continue
        result.cases.extend(found.cases)
        result.unread.extend(found.unread)
    _name_uniquely(result.cases)
    return result


def _finders():
    yield "math", mathfinder.find
    try:
        from . import codefinder
    except ImportError:      # written in parallel; absent until merged
        return
    yield "code", codefinder.find


def _name_uniquely(cases: list[dict]) -> None:
    seen: dict[str, int] = {}
    for case in cases:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(case.get("name") or "case")).strip("-._")[:90] or "case"
        if not base[0].isalnum():
            base = "c" + base
        count = seen.get(base, 0) + 1
        seen[base] = count
        case["name"] = base if count == 1 else f"{base}-{count}"


def to_case_file(extraction: Extraction, strict: bool = False) -> str:
    """The case file text: `format = 1`, `document`, `title`, `[[case]]` tables, and a
    leading `# unread:` comment section.  `strict` moves `review` and `order`, which
    the format-1 schema does not allow, into each note."""
    document = extraction.document
    data = {"format": 1, "document": Path(document.path).name,
            "title": document.title or Path(document.path).stem,
            "case": [_strict(c) if strict else c for c in extraction.cases]}
    lines = [f"# Cases extracted from {Path(document.path).name} by diffcheck.reading.", "#"]
    if extraction.problems:
        lines.append("# problems:")
        lines += [f"# - {_one_line(p)}" for p in extraction.problems]
    if extraction.unread:
        lines.append("# unread:")
        for item in extraction.unread:
            where = f"{item.location.cell}, line {item.location.line}" if item.location.cell \
                else f"line {item.location.line}"
            lines.append(f"# - {where}: {_one_line(item.quote)[:160]!r}: {_one_line(item.reason)}")
    header = "\n".join(lines) + "\n\n"
    if not data["case"]:
        return header + "# no cases found\n"
    return header + tomli_w.dumps(data)


def _strict(case: dict) -> dict:
    case = dict(case)
    notes = [case.get("note", "")] if case.get("note") else []
    if case.pop("review", False):
        notes.append("REVIEW: the reader was unsure of this case")
    claims = []
    for claim in case.get("claim", []):
        claim = dict(claim)
        order = claim.pop("order", None)
        if order:
            claim["note"] = "; ".join(filter(None, [claim.get("note"), f"order {order} derivative"]))
        claims.append(claim)
    if "claim" in case:
        case["claim"] = claims
    if notes:
        case["note"] = "; ".join(dict.fromkeys(notes))
    return case


def _one_line(text: str) -> str:
    return " ".join(str(text).split())

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

from diffcheck.reading import mathfinder
from diffcheck.reading.detect import read_document
from diffcheck.reading.document import Document, Found, Location, Unread
from diffcheck.reading import codefinder

# Fields the case-file schema (format 1) does not know yet; `strict` output leaves them out.
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
        except Exception as err:     # one finder's failure must not cost the other's cases
            result.problems.append(f"{document.path}: the {name} finder failed: {type(err).__name__}: {err}")
            continue
        result.cases.extend(found.cases)
        result.unread.extend(found.unread)
    _name_uniquely(result.cases)
    return result


def _finders():
    yield "math", mathfinder.find
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
    leading comment section listing reading problems and unread passages.

    Unsure cases and claims carry `review = true`; claims about higher derivatives,
    which format 1 would check as first derivatives, move to the unread list.
    `strict` also turns `review` into a note."""
    document = extraction.document
    unread = [_unread_line(u.location, u.quote, u.reason) for u in extraction.unread]
    data, higher = case_tables(extraction)
    cases = data["case"]
    unread += [_unread_line(u.location, u.quote, u.reason) for u in higher]
    if strict:
        cases = []
        for case in extraction.cases:
            kept, dropped = _strict(case)
            unread += dropped
            if kept.get("claim"):
                cases.append(kept)
    lines = [f"# Cases extracted from {Path(document.path).name} by diffcheck.reading.", "#"]
    if extraction.problems:
        lines.append("# problems:")
        lines += [f"# - {_one_line(p)}" for p in extraction.problems]
    if unread:
        lines.append("# unread:")
        lines += unread
    header = "\n".join(lines) + "\n\n"
    if not cases:
        return header + "# no cases found\n"
    data = {"format": 1, "document": Path(document.path).name,
            "title": document.title or Path(document.path).stem, "case": cases}
    return header + tomli_w.dumps(data)


def case_tables(extraction: Extraction) -> tuple[dict, list[Unread]]:
    """The case file's tables as the audit checks them, and the claims it cannot
    check yet (derivatives of order 2 and higher) as unread passages."""
    document = extraction.document
    cases, unread = [], []
    for case in extraction.cases:
        claims = []
        for claim in case.get("claim", []):
            if claim.get("order", 1) > 1:
                location = Location(document.path, _line_of(case.get("where", "")), _cell_of(case.get("where", "")))
                unread.append(Unread(location, claim.get("quote") or case.get("quote", ""),
                                     f"a derivative of order {claim['order']}: the audit checks first derivatives"))
                continue
            claims.append({k: v for k, v in claim.items() if k != "order"})
        if claims:
            cases.append({**case, "claim": claims})
    data = {"format": 1, "document": Path(document.path).name,
            "title": document.title or Path(document.path).stem, "case": cases}
    return data, unread


def _line_of(where: str) -> int:
    found = re.search(r"line (\d+)", where)
    return int(found.group(1)) if found else 0


def _cell_of(where: str) -> str | None:
    cell = where.split(",")[0].strip()
    return cell if cell and not cell.startswith("line") else None


def _unread_line(location, quote: str, reason: str) -> str:
    where = f"{location.cell}, line {location.line}" if location.cell else f"line {location.line}"
    return f"# - {where}: {_one_line(quote)[:160]!r}: {_one_line(reason)}"


def _strict(case: dict) -> tuple[dict, list[str]]:
    """The case as format 1 accepts it, and unread lines for the claims it cannot hold."""
    case = dict(case)
    notes = [case["note"]] if case.get("note") else []
    if case.pop("review", False):
        notes.append("REVIEW: the reader was unsure of this case")
    claims, dropped = [], []
    for claim in case.get("claim", []):
        if claim.get("order", 1) > 1:
            dropped.append(f"# - {case['where']}: {_one_line(case.get('quote', ''))[:160]!r}: a derivative "
                           f"of order {claim['order']}; case format 1 checks first derivatives only")
            continue
        claims.append({k: v for k, v in claim.items() if k != "order"})
    case["claim"] = claims
    if notes:
        case["note"] = "; ".join(dict.fromkeys(notes))
    return case, dropped


def _one_line(text: str) -> str:
    return " ".join(str(text).split())

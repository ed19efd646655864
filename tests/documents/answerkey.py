"""The answer key of the teaching-document corpus, and how a tool's output is held against it.

Shared by the corpus tests and `benchmarks/extraction.py`.  Only the standard
library is used here, so the key can be checked without diffcheck.

Matching is tolerant of where a reader says a claim is (a line within
`LINE_SLACK` of the key's, a cell named by index, index + 1 or execution
count, a quote that is part of the key's or contains it) and strict on
verdicts: a planted mistake counts as found only through a *refuted* finding
(or, for code that cannot run, a located unread entry or problem), and every
refuted finding must be explained by a planted mistake.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEY_PATH = HERE / "expected.toml"
LINE_SLACK = 2
MIN_QUOTE = 6          # a finding's quote shorter than this never matches by containment


@dataclass(frozen=True)
class KeyClaim:
    file: str
    line: int
    quote: str
    kind: str
    right: bool
    cell: int | None = None
    output: bool = False
    occurrence: int = 1
    why: str = ""
    true_value: str = ""
    reason: str = ""
    mistake: str = ""
    note: str = ""

    @property
    def planted(self) -> bool:
        return not self.right

    def describe(self) -> str:
        where = f"cell {self.cell}{' output' if self.output else ''}, line {self.line}" \
            if self.cell is not None else f"line {self.line}"
        return f"{self.file}: {where}: {self.kind} {self.quote!r}"


@dataclass
class KeyDocument:
    file: str
    format: str
    claims: list[KeyClaim] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return HERE / self.file

    def mistakes(self) -> dict[str, list[KeyClaim]]:
        """Planted mistakes, claims stating the same mistake grouped under one id."""
        groups: dict[str, list[KeyClaim]] = {}
        for i, c in enumerate(self.claims):
            if c.planted and c.kind != "unread":
                groups.setdefault(c.mistake or f"#{i}", []).append(c)
        return groups

    def unread(self) -> list[KeyClaim]:
        return [c for c in self.claims if c.kind == "unread"]


def load_key(path: Path = KEY_PATH) -> list[KeyDocument]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    docs = []
    for d in data["document"]:
        doc = KeyDocument(d["file"], d["format"])
        for c in d.get("claim", []):
            doc.claims.append(KeyClaim(**{**c, "file": c.get("file", d["file"])}))
        docs.append(doc)
    return docs


# ---------------------------------------------------------------- documents

def notebook_cells(path: Path) -> list[dict]:
    """Cells of a v3 or v4 notebook as {source, outputs, execution_count} (read as plain JSON)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    raw = nb["worksheets"][0]["cells"] if nb.get("nbformat") == 3 else nb["cells"]
    cells = []
    for c in raw:
        src = c.get("input", c.get("source", ""))
        texts = []
        for o in c.get("outputs", []):
            t = o.get("text") or o.get("data", {}).get("text/plain", "")
            t = "".join(t) if isinstance(t, list) else t
            texts.append(t if t.endswith("\n") else t + "\n")
        cells.append({"source": "".join(src) if isinstance(src, list) else src,
                      "outputs": "".join(texts),
                      "execution_count": c.get("execution_count", c.get("prompt_number"))})
    return cells


def text_at(claim: KeyClaim) -> str:
    """The line of the document the key points at (for the key's own consistency test)."""
    path = HERE / claim.file
    if claim.cell is not None:
        cell = notebook_cells(path)[claim.cell]
        text = cell["outputs"] if claim.output else cell["source"]
    else:
        text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    return lines[claim.line - 1] if 0 < claim.line <= len(lines) else ""


# ---------------------------------------------------------------- locations

@dataclass(frozen=True)
class Where:
    """Where a tool put something: a line, and a cell label as the tool wrote it."""

    line: int | None = None
    cell: str | None = None
    quote: str = ""


_LINE = re.compile(r"\blines?\s+(\d+)|:(\d+)\b|\bL(\d+)\b")
_CELL = re.compile(r"\bcell\s*#?\s*(\d+)|In\s*\[\s*(\d+)\s*\]|%%\s*(\d+)")


def parse_where(text: str) -> tuple[int | None, str | None]:
    """Line and cell label from free text such as "In [4], line 3" or "doc.md: line 14"."""
    line = cell = None
    m = _LINE.search(text or "")
    if m:
        line = int(next(g for g in m.groups() if g))
    m = _CELL.search(text or "")
    if m:
        cell = m.group(0)
    return line, cell


def where_of_finding(finding: dict) -> Where:
    """Read a finding's location from whatever fields it has (`location`, `line`, `cell`, `where`)."""
    loc = finding.get("location")
    line = cell = None
    if isinstance(loc, dict):
        line, cell = loc.get("line"), loc.get("cell")
    elif isinstance(loc, str):
        line, cell = parse_where(loc)
    line = finding.get("line", line)
    cell = finding.get("cell", cell)
    if line is None or cell is None:
        l2, c2 = parse_where(str(finding.get("where", "")))
        line = line if line is not None else l2
        cell = cell if cell is not None else c2
    return Where(int(line) if line is not None else None,
                 str(cell) if cell is not None else None, finding.get("quote", "") or "")


def where_of_unread(entry) -> Where:
    """An `Unread`-like object (`.location.line`, `.location.cell`, `.quote`)."""
    loc = getattr(entry, "location", None)
    return Where(getattr(loc, "line", None), getattr(loc, "cell", None),
                 getattr(entry, "quote", "") or "")


def where_of_problem(problem: str) -> Where:
    line, cell = parse_where(problem)
    return Where(line, cell, "")


def _norm(s: str) -> str:
    s = s.replace("\\\\", "\\")
    return re.sub(r"\s+", " ", s).strip().strip("$").strip()


def quote_matches(key_quote: str, quote: str) -> bool:
    a, b = _norm(key_quote), _norm(quote)
    if not a or not b:
        return False
    return a in b or (len(b) >= MIN_QUOTE and b in a)


def cell_matches(claim: KeyClaim, label: str | None, cells: list[dict] | None) -> bool:
    """A notebook cell label matches the key's 0-based index as index, index + 1 or execution count."""
    if label is None:
        return False
    label = str(label)
    m = re.search(r"In\s*\[\s*(\d+)\s*\]", label)
    if m and cells is not None:
        return cells[claim.cell]["execution_count"] == int(m.group(1))
    m = re.search(r"(\d+)", label)
    return bool(m) and int(m.group(1)) in (claim.cell, claim.cell + 1)


def location_matches(claim: KeyClaim, where: Where, cells: list[dict] | None) -> bool:
    if claim.cell is not None:
        # In a notebook the line may count within the source or the output: the cell decides.
        return cell_matches(claim, where.cell, cells)
    return where.line is not None and abs(where.line - claim.line) <= LINE_SLACK


def candidates(doc: KeyDocument, where: Where, cells: list[dict] | None) -> list[KeyClaim]:
    """The key's claims a located, quoted item can be about; quote matches win over location."""
    by_quote = [c for c in doc.claims if quote_matches(c.quote, where.quote)
                and (c.cell is None or where.cell is None or cell_matches(c, where.cell, cells))]
    if by_quote:
        # The same words can stand at several places (a printed tensor repeated):
        # the location decides between them when it can.
        here = [c for c in by_quote if location_matches(c, where, cells)]
        return _nearest(here, where) or by_quote
    return [c for c in doc.claims if location_matches(c, where, cells)]


def _nearest(claims: list[KeyClaim], where: Where) -> list[KeyClaim]:
    """Of claims with the same words, the ones closest to the stated line (a repeated
    printed tensor two lines apart must not be taken for its neighbour)."""
    if where.line is None or len(claims) < 2:
        return claims
    best = min(abs(c.line - where.line) for c in claims)
    return [c for c in claims if abs(c.line - where.line) == best]


# ---------------------------------------------------------------- audit reports

def findings_by_document(report: dict) -> dict[str, list[dict]]:
    """Findings of an audit report, keyed by the base name of the document they are about."""
    out: dict[str, list[dict]] = {}
    for case in report.get("cases", []):
        names = {Path(str(case.get(k, ""))).name for k in ("document", "file") if case.get(k)}
        for f in case.get("findings", []):
            for name in names or {""}:
                out.setdefault(name, []).append({**f, "_case": case.get("name", "")})
    return out


@dataclass
class Score:
    """How one document's audit compares with its key."""

    document: str
    found: list[str] = field(default_factory=list)          # mistake ids found
    missed: list[KeyClaim] = field(default_factory=list)     # one claim per missed mistake
    false_alarms: list[tuple[dict, list[KeyClaim]]] = field(default_factory=list)
    unexplained: list[dict] = field(default_factory=list)    # refuted, on nothing in the key
    unread_listed: list[KeyClaim] = field(default_factory=list)
    unread_missing: list[KeyClaim] = field(default_factory=list)


def score(doc: KeyDocument, findings: list[dict], unread: list = (), problems: list[str] = ()) -> Score:
    cells = notebook_cells(doc.path) if doc.file.endswith(".ipynb") else None
    s = Score(doc.file)
    refuted = [f for f in findings if f.get("status") == "refuted"]
    explained_by: dict[int, list[KeyClaim]] = {}
    for i, f in enumerate(refuted):
        cands = candidates(doc, where_of_finding(f), cells)
        explained_by[i] = cands
        if not cands:
            s.unexplained.append(f)
        elif not any(c.planted for c in cands):
            s.false_alarms.append((f, cands))
    unread_wheres = [where_of_unread(u) for u in unread]
    problem_wheres = [where_of_problem(p) for p in problems]
    for mid, claims in doc.mistakes().items():
        hit = any(c in cands for cands in explained_by.values() for c in claims)
        if not hit and any(c.kind == "runs" for c in claims):
            hit = any(c in candidates(doc, w, cells) for c in claims
                      for w in unread_wheres + problem_wheres)
        (s.found.append(mid) if hit else s.missed.append(claims[0]))
    for c in doc.unread():
        listed = any(c in candidates(doc, w, cells) for w in unread_wheres)
        (s.unread_listed if listed else s.unread_missing).append(c)
    return s

"""The Markdown report, for a CI job summary.

Counts first, then one table row per finding (a refuted or unusable claim, a
cross-check where the methods disagree), with its diagnosis and its place in
the document; details and the confirmed claims are folded.  Case text is
untrusted and job summaries render HTML, so every cell is HTML-escaped and
table pipes are neutralised.
"""

from __future__ import annotations

from diffcheck.vocabulary import is_listed, is_problem

import html
import re

from diffcheck.reports.junitreport import clean
from diffcheck.reports.records import wording

FILENAME = "diffcheck-audit.md"


#: Characters that start Markdown inline syntax; a backslash makes each literal.
_MARKDOWN_SYNTAX = re.compile(r"([\\*_\[\]!~])")


def cell(text) -> str:
    """Text safe inside one Markdown table cell or list item: control characters
    shown as \\xNN, HTML escaped, and Markdown's inline syntax (emphasis, links,
    images, strikethrough) backslash-escaped, so a case file or document cannot
    write `**ALL CLAIMS VERIFIED**` or an image link into the report."""
    text = html.escape(clean(str(text)), quote=False)
    text = _MARKDOWN_SYNTAX.sub(r"\\\1", text)
    return " ".join(text.split()).replace("|", "&#124;").replace("`", "&#96;")


def fmt(value) -> str:
    """A recorded number or nested list, at 7 significant digits."""
    if isinstance(value, list):
        inner = ", ".join(fmt(v) for v in value[:8])
        return f"[{inner}{', ...' if len(value) > 8 else ''}]"
    if isinstance(value, float):
        return f"{value:.7g}"
    return str(value)


def _true(f) -> str:
    return "" if f["true"] is None else fmt(f["true"])


def _short(value, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def plural(count: int, word: str) -> str:
    """``1 document``, ``2 documents``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def failed_test_row(case: dict) -> dict | None:
    """The row of a pytest test that failed (a case of a pytest run's record), or
    None: a check can agree while its test fails (require_differentiable=True on a
    kink), and the report must not call such a run clean."""
    if case.get("outcome") != "failed":
        return None
    verdicts: dict[str, int] = {}
    for check in case["checks"]:
        verdicts[check["verdict"]] = verdicts.get(check["verdict"], 0) + 1
    made = ", ".join(f"{n} {verdict}" for verdict, n in sorted(verdicts.items())) or "none"
    return {"case": case, "status": "test failed", "where": case["where"], "what": "the test",
            "claimed": "", "true": "",
            "diagnosis": f"the test failed (pytest's output says why); its checks: {made}", "finding": None}


def problems(record: dict) -> list[dict]:
    """Every row of the findings table: the document's wrong claims, the methods'
    disagreements, and (in a pytest run's report) the tests that failed."""
    rows = []
    for case in record["cases"]:
        failed = failed_test_row(case)
        if failed:
            rows.append(failed)
        if "unfinished" in case:
            rows.append({"case": case, "status": case["unfinished"]["outcome"], "where": case["where"],
                         "what": "the case, not checked to the end", "claimed": "", "true": "",
                         "diagnosis": f"{case['unfinished']['outcome']}: {case['unfinished']['reason']}",
                         "finding": None})
        for f in case["findings"]:
            if is_listed(f["status"]):
                rows.append({"case": case, "status": f["status"], "where": f["where"] or case["where"],
                             "what": f["subject"], "claimed": f["claimed"], "true": _true(f),
                             "diagnosis": "; ".join(d["explanation"] for d in f["diagnoses"]) or f["message"],
                             "finding": f})
        for c in case["checks"]:
            if is_problem(c["verdict"]):
                rows.append({"case": case, "status": f"methods: {c['verdict']}", "where": case["where"],
                             "what": f"gradient of {c['expression']}", "claimed": "", "true": "",
                             "diagnosis": c["reason"], "finding": None})
        for s in case["scenarios"]:
            if is_problem(s["verdict"]):
                rows.append({"case": case, "status": f"methods: {s['verdict']}", "where": case["where"],
                             "what": f"claim {s['claim']} ({s['kind']}) run by each method",
                             "claimed": "", "true": "", "diagnosis": s["reason"], "finding": None})
    return rows


def render(record: dict) -> str:
    """The Markdown report: a summary paragraph, then the sections that have anything
    to say (unread case files and passages, findings, confirmed claims)."""
    words = wording(record)
    out = [f"# {words['title']}", ""]
    if not record["complete"]:
        out += ["> **Incomplete**: the audit was interrupted; this report covers the cases finished.", ""]
    out += [_summary(record["summary"], words), ""]
    out += _load_errors(record) + _unread(record) + _findings(problems(record), words)
    if words["claims"]:
        out += _confirmed(record)
    return "\n".join(out)


def _summary(summary: dict, words: dict) -> str:
    """One paragraph: documents and cases, claims by status, cross-checks, scenarios
    and the cases not checked to the end."""
    claims = summary["claims"]
    return (
        f"{plural(summary['documents'], words['document'])}, {plural(summary['cases'], words['case'])}. "
        + (f"Claims: **{claims.get('refuted', 0)} wrong**, {claims.get('confirmed', 0)} confirmed, "
           f"{claims.get('undecided', 0)} undecided, {claims.get('error', 0)} could not be checked. "
           if words["claims"] else "")
        + "Cross-checks of the four methods: "
        + ", ".join(f"{n} {k}" for k, n in summary["cross_checks"].items())
        + (". Scenarios: " + ", ".join(f"{n} {k}" for k, n in summary["scenarios"].items())
           if summary["scenarios"] else "") + "."
        + (" Not checked to the end: **" + ", ".join(f"{n} {k}" for k, n in summary["unfinished"].items())
           + "**." if summary.get("unfinished") else ""))


def _load_errors(record: dict) -> list[str]:
    if not record["load_errors"]:
        return []
    return ["## Case files that could not be read", ""] + [f"- {cell(e)}" for e in record["load_errors"]] + [""]


def _unread(record: dict) -> list[str]:
    if not record.get("unread"):
        return []
    return ["## Passages not checked", "",
            "Passages of the documents that look like claims but that the readers could not check.", "",
            "| document | where | passage | why not |", "|---|---|---|---|"] + [
        f"| {cell(u['document'])} | {cell(u['where'])} | {cell(_short(u['quote']))} | {cell(u['reason'])} |"
        for u in record["unread"]] + [""]


def _findings(rows: list[dict], words: dict) -> list[str]:
    """A table with a line per finding, then the evidence for each, folded."""
    out = ["## Findings", ""]
    if not rows:
        return out + [("Every claim checked is right and the methods agree." if words["claims"] else
                       "Every check agrees and every test that made one passed."), ""]
    out += ["| # | document | where | what | claimed | true | diagnosis |",
            "|---|---|---|---|---|---|---|"]
    for number, row in enumerate(rows, start=1):
        case = row["case"]
        out.append(f"| {number} | {cell(case['document'])} | {cell(row['where'])} | "
                   f"{cell(row['what'])} ({cell(row['status'])}) | {cell(_short(row['claimed']))} | "
                   f"{cell(row['true'])} | {cell(row['diagnosis'])} |")
    out += ["", "<details><summary>Evidence for each finding</summary>", ""]
    for number, row in enumerate(rows, start=1):
        f = row["finding"]
        out.append(f"{number}. **{cell(row['case']['id'])}**: {cell(f['message'] if f else row['diagnosis'])}")
        if f:
            out += _evidence(f)
    return out + ["", "</details>", ""]


def _evidence(finding: dict) -> list[str]:
    """The sub-items under one finding: each diagnosis's evidence, the quote, the note."""
    out = [f"   - {cell(d['kind'])}: {cell(_short(d['evidence'], 300))}"
           for d in finding["diagnoses"] if d["evidence"]]
    if finding["quote"]:
        out.append(f"   - quoted: \u201c{cell(finding['quote'])}\u201d")
    if finding["note"]:
        out.append(f"   - catalogue note: {cell(finding['note'])}")
    return out


def _confirmed(record: dict) -> list[str]:
    out = ["<details><summary>Claims confirmed</summary>", ""]
    for case in record["cases"]:
        confirmed = [f for f in case["findings"] if f["status"] == "confirmed"]
        if confirmed:
            out.append(f"- **{cell(case['id'])}** ({cell(case['where'])}): "
                       + "; ".join(cell(f["subject"]) for f in confirmed))
    return out + ["", "</details>", ""]

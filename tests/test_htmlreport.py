"""The HTML report: self-contained, escaped, deterministic, with plots where a
case has a profile.  Records are built by hand, so these tests run no backend."""

import base64
import re

import jsonschema
import pytest

from diffcheck.reports import htmlreport
from diffcheck.reports import jsonreport
from diffcheck.reports.records import summary

EVIL = "<script>alert(1)</script>"


def backend(value, gradient, status="ok"):
    return {"status": status, "value": value, "gradient": gradient,
            "error_estimate": {k: 0.0 for k in gradient}, "evaluations": 1}


def finding(claim, status, subject, claimed, true, **extra):
    return {"claim": claim, "kind": "gradient", "subject": subject, "status": status,
            "message": f"{subject}: the document says {claimed}, the true value is {true}",
            "where": "In [5]", "quote": "", "claimed": claimed, "true": true, "tolerance": 0.5,
            "diagnoses": [], "evidence": {}, "note": "", **extra}


def square_profile():
    """x**2 along x around 3, as diffcheck.documents.plotdata would give it (values by hand)."""
    t = [1.5 + 0.125 * k for k in range(25)]
    derivative = [2 * v for v in t]
    return {"variable": "x", "index": [], "entry": "x", "point": 3.0, "half_width": 1.5, "reason": "",
            "slice": {"t": t, "value": [v * v for v in t],
                      "backends": {name: {"derivative": derivative, "status": ["ok"] * 25, "reason": ""}
                                   for name in ("symbolic", "numeric", "engine", "torch")}},
            "steps": {"h": [10.0 ** -k for k in range(13)],
                      "error": [0.0, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7,
                                1e-6, "nan", 1e-4],
                      "reference": "symbolic", "derivative": 6.0,
                      "numeric": {"status": "ok", "value": 6.0, "error": 0.0, "estimate": 3e-13,
                                  "reason": ""}}}


def case(name, *, findings=(), verdict="agree", discrepancies=(), profile=None, **text):
    record = {
        "id": f"doc::{name}", "file": "cases/doc.toml", "document": "doc.txt", "name": name,
        "where": text.get("where", "In [4]"), "quote": text.get("quote", ""), "note": text.get("note", ""),
        "expression": text.get("expression", "x**2"), "variables": {"x": 3.0}, "wrt": [],
        "checks": [{"expression": "x**2", "point": {"x": 3.0}, "wrt": ["x"], "verdict": verdict,
                    "reason": "", "value": 9.0, "reference": "symbolic",
                    "backends": {"symbolic": backend(9.0, {"x": 6.0}),
                                 "engine": backend(9.0, {"x": 6.0 if verdict == "agree" else 7.0})},
                    "discrepancies": list(discrepancies)}],
        "scenarios": [], "findings": list(findings),
    }
    if profile is not None:
        record["profile"] = profile
    return record


def audit(cases, load_errors=(), complete=True):
    record = {"format": "diffcheck-audit", "version": 1, "complete": complete,
              "summary": summary(cases, list(load_errors), complete), "load_errors": list(load_errors),
              "cases": cases, "run": {"started": "2026-01-01T00:00:00+00:00", "seconds": 1.0}}
    # The hand-built records are real ones: they pass the report schema.
    jsonschema.validate(record, jsonreport.schema())
    return record


@pytest.fixture(scope="module")
def plotted():
    return audit([case("square", profile=square_profile())])


@pytest.fixture(scope="module")
def plotted_page(plotted):
    return htmlreport.render(plotted)


def test_untrusted_case_text_is_escaped():
    evil = case(EVIL, where=EVIL, quote=EVIL, note=EVIL,
                findings=[finding(1, "refuted", EVIL, EVIL, 22.0, note=EVIL)])
    page = htmlreport.render(audit([evil], load_errors=[f"cases/x.toml: {EVIL}"]))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()


def test_page_loads_nothing_from_outside(plotted_page):
    page = plotted_page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "@import" not in page and "url(" not in page
    for link in re.findall(r'href="([^"]*)"', page):
        assert link.startswith("#")
    for source in re.findall(r'src="([^"]*)"', page):
        assert source.startswith("data:image/png;base64,")


def test_a_profile_is_drawn_as_an_embedded_png(plotted_page):
    sources = re.findall(r'src="data:image/png;base64,([^"]+)"', plotted_page)
    assert len(sources) == 1
    assert base64.b64decode(sources[0]).startswith(b"\x89PNG\r\n\x1a\n")


def test_same_record_renders_the_same_bytes(plotted, plotted_page):
    assert htmlreport.render(plotted) == plotted_page


def test_case_without_profile_has_no_plot():
    page = htmlreport.render(audit([case("square")]))
    assert "data:image/png" not in page and "<img" not in page


def test_profile_without_slice_says_why():
    page = htmlreport.render(audit([case("constant", profile={"variable": None, "reason": "no variable"})]))
    assert "<img" not in page and "No plots: no variable." in page


def findings_table(page):
    return page[page.index('id="findings"'):page.index('id="cases"')]


def test_findings_table_lists_refuted_claims_and_discrepancies_not_confirmed_ones():
    discrepancy = {"backend": "engine", "variable": "x", "index": [], "value": 7.0, "reference": 6.0,
                   "reference_backend": "symbolic", "abs_error": 1.0, "rel_error": 1 / 6,
                   "tolerance": 1e-14}
    cases = [case("wrong-claim", findings=[finding(1, "confirmed", "value at x = 3", "9", 9.0),
                                           finding(2, "refuted", "d/dx at x = 3", "tensor(28.)", 22.0)]),
             case("bad-engine", verdict="discrepancy", discrepancies=[discrepancy])]
    table = findings_table(htmlreport.render(audit(cases)))
    assert "d/dx at x = 3" in table and "tensor(28.)" in table
    assert "value at x = 3" not in table
    assert "engine: 7" in table and "symbolic: 6" in table
    assert 'href="#case-2"' in table


def test_clean_audit_says_so():
    table = findings_table(htmlreport.render(audit([case("fine")])))
    assert "<table" not in table and "every cross-check and scenario agrees" in table


def test_interrupted_audit_is_flagged():
    assert "Incomplete audit" in htmlreport.render(audit([case("one")], complete=False))
    assert "Incomplete audit" not in htmlreport.render(audit([case("one")]))


def test_summary_counts_are_shown():
    cases = [case("a", findings=[finding(1, "refuted", "d/dx", "28", 22.0)]), case("b")]
    page = htmlreport.render(audit(cases))
    assert "<b>1</b>claims refuted" in page and "<b>2</b>cross-checks agree" in page

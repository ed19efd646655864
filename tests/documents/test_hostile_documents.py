"""Hostile input: each generated file gives a located one-line message or an unread
entry, never a traceback, and never stops the other files of the same run.

The files are generated in a temporary directory by `hostile/make.py` (nothing
large is committed).  Skips until `diffcheck.reading.extract` exists.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

extract_module = pytest.importorskip("diffcheck.reading.extract")

from answerkey import HERE, findings_by_document

_spec = importlib.util.spec_from_file_location("hostile_make", HERE / "hostile" / "make.py")
_make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_make)
PURPOSE, make_hostile, make_long_markdown = _make.PURPOSE, _make.make_hostile, _make.make_long_markdown

REPO = HERE.parents[1]
GOOD = HERE / "autograd_basics.ipynb"       # a corpus document with one planted wrong output
# Files that are not documents at all: the reader must say so, located at the file.
UNREADABLE = ["deep_nesting.ipynb", "invalid_json.ipynb", "not_a_notebook.ipynb",
              "binary.md", "empty.ipynb"]
EXTRACT_SECONDS = 10.0


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    return make_hostile(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def audit_run(hostile, tmp_path_factory):
    """One audit of every hostile file with a good document in the middle."""
    out = tmp_path_factory.mktemp("hostile-audit")
    names = sorted(hostile)
    paths = [str(hostile[n]) for n in names[:4]] + [str(GOOD)] + [str(hostile[n]) for n in names[4:]]
    run = subprocess.run([sys.executable, "-m", "diffcheck", "audit", *paths, "--format", "json",
                          "--report-dir", str(out), "-q"],
                         cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    report_path = out / "diffcheck-audit.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
    return run, report


@pytest.mark.parametrize("name", sorted(PURPOSE))
def test_extract_never_raises_and_stays_quick(name, hostile):
    start = time.perf_counter()
    ex = extract_module.extract(hostile[name])
    elapsed = time.perf_counter() - start
    assert elapsed < EXTRACT_SECONDS, f"{name} ({PURPOSE[name]}): {elapsed:.1f} s"
    for problem in ex.problems:
        assert "\n" not in problem.strip(), f"{name}: problem is not one line: {problem!r}"
        assert "Traceback" not in problem


@pytest.mark.parametrize("name", UNREADABLE)
def test_a_file_that_is_not_a_document_gives_a_located_problem(name, hostile):
    ex = extract_module.extract(hostile[name])
    messages = list(ex.problems) + [f"{u.location.path}: {u.reason}" for u in ex.unread]
    assert any(name in m for m in messages), f"{name} ({PURPOSE[name]}): {messages}"
    assert not ex.cases


def test_an_empty_markdown_file_has_no_cases(hostile):
    assert not extract_module.extract(hostile["empty.md"]).cases


def test_the_integral_formula_is_listed_as_unread(hostile):
    for name in ("unparseable_latex.md", "unparseable_latex.tex"):
        ex = extract_module.extract(hostile[name])
        assert any("int" in u.quote for u in ex.unread), (name, ex.unread, ex.problems)


def test_claims_after_the_unbalanced_dollars_are_still_read(hostile):
    # The last line holds a well-formed formula, d/dx x^3 = 3x^2.
    ex = extract_module.extract(hostile["unbalanced_dollars.md"])
    assert any("3x^2" in (c.get("quote") or "") for c in ex.cases), ex.cases


def test_a_huge_notebook_is_read_to_its_last_cell(hostile):
    ex = extract_module.extract(hostile["huge_outputs.ipynb"])
    # The last cell prints tensor(6.) for d/dx x^2 at 3 (2 * 3 = 6).
    assert any("6." in json.dumps(c) for c in ex.cases), ex.cases


def test_audit_of_hostile_files_prints_no_traceback(audit_run):
    run, _ = audit_run
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert "Traceback" not in run.stdout
    assert run.returncode in (1, 2), run.returncode


def test_audit_still_audits_the_good_document_among_hostile_ones(audit_run):
    run, report = audit_run
    assert report is not None, f"no report written (exit {run.returncode}): {run.stderr[-2000:]}"
    findings = findings_by_document(report).get(GOOD.name, [])
    # The good notebook's planted mistake: h'(1) printed as 2e = 5.4366, true 3e = 8.1548.
    assert any(f.get("status") == "refuted" and "5.4366" in json.dumps(f) for f in findings), findings


@pytest.mark.parametrize("name", UNREADABLE)
def test_audit_names_each_unreadable_file(name, audit_run):
    run, report = audit_run
    said = run.stderr + run.stdout + (json.dumps(report) if report else "")
    assert name in said, f"{name} ({PURPOSE[name]}) is not mentioned"


def test_long_markdown_is_at_least_40_kb_and_all_right(tmp_path):
    # The benchmark's document: every claim in it is right by construction
    # (the generator derives each value from the formula beside it).
    path = make_long_markdown(tmp_path)
    assert path.stat().st_size >= 40_000
    start = time.perf_counter()
    ex = extract_module.extract(path)
    assert time.perf_counter() - start < EXTRACT_SECONDS
    assert len(ex.cases) >= 50
    assert not ex.problems

"""`diffcheck audit DOC` and `diffcheck extract DOC`: documents read directly,
reviewed case files used in their place."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# x**3 has derivative 3x**2 (right); sin(2x) has derivative 2cos(2x), not cos(2x) (wrong).
NOTES = """# Two derivatives

The derivative of $x^3$ is $\\frac{d}{dx} x^3 = 3x^2$.

A slip: $\\frac{d}{dx} \\sin(2x) = \\cos(2x)$.
"""


def run(*args, cwd=REPO):
    # Wide enough that no message is wrapped inside a file name.
    env = {**os.environ, "COLUMNS": "400"}
    return subprocess.run([sys.executable, "-m", "diffcheck", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False, env=env)


def findings(report_dir: Path) -> list[dict]:
    record = json.loads((report_dir / "diffcheck-audit.json").read_text())
    return [f for case in record["cases"] for f in case["findings"]]


def test_a_markdown_document_is_audited_without_a_case_file(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text(NOTES)
    done = run("audit", str(doc), "--format", "json", "--report-dir", str(tmp_path / "out"), "-q")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    statuses = sorted((f["quote"], f["status"]) for f in findings(tmp_path / "out"))
    assert [s for q, s in statuses if "cos(2x)" in q] == ["refuted"]
    assert [s for q, s in statuses if "3x^2" in q] == ["confirmed"]


def test_extract_writes_a_case_file_that_the_audit_checks_alike(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text(NOTES)
    done = run("extract", str(doc), "-o", str(tmp_path / "notes.reviewed.toml"))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "notes.reviewed.toml").read_text()
    assert 'document = "notes.md"' in text and "cos(2x)" in text
    audited = run("audit", str(tmp_path / "notes.reviewed.toml"), "--format", "json",
                  "--report-dir", str(tmp_path / "out"), "-q")
    assert audited.returncode == 1
    assert sorted(f["status"] for f in findings(tmp_path / "out")) == ["confirmed", "refuted"]


def test_a_reviewed_case_file_beside_the_document_is_used_in_its_place(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text(NOTES)
    # The reviewer's file checks one claim only, a right one: had the document been
    # extracted again, the wrong cos(2x) claim would be refuted and the exit status 1.
    (tmp_path / "notes.reviewed.toml").write_text(
        'format = 1\ndocument = "notes.md"\n\n[[case]]\nname = "cube"\nwhere = "line 3"\n'
        'expression = "x**3"\nvariables = { x = 2.0 }\n\n[[case.claim]]\nkind = "gradient"\n'
        'wrt = "x"\nclaimed = "12"\n')
    done = run("audit", str(doc), "--format", "json", "--report-dir", str(tmp_path / "out"), "-q")
    assert done.returncode == 0, done.stderr
    assert [f["status"] for f in findings(tmp_path / "out")] == ["confirmed"]


def test_code_that_cannot_run_is_a_located_finding(tmp_path):
    doc = tmp_path / "typo.md"
    doc.write_text("# Typo\n\n```python\nimport torch\nx = torch.tensor([1.0, 2.0], dtpye=torch.float32)\n```\n")
    done = run("audit", str(doc), "--format", "json", "--report-dir", str(tmp_path / "out"), "-q")
    assert done.returncode == 1, done.stderr
    [finding] = findings(tmp_path / "out")
    assert finding["kind"] == "runs" and finding["status"] == "refuted"
    assert "dtpye" in finding["message"]


def test_an_unreadable_document_is_one_located_line_and_the_others_are_audited(tmp_path):
    good = tmp_path / "notes.md"
    good.write_text(NOTES)
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{ not json")
    done = run("audit", str(bad), str(good), "--format", "json", "--report-dir", str(tmp_path / "out"), "-q")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "broken.ipynb" in done.stderr
    assert any(f["status"] == "refuted" for f in findings(tmp_path / "out"))

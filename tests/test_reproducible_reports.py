"""Committed reports are the same on every machine: `[tool.diffcheck]
reproducible = true` leaves out what differs between runs and CPUs (times,
versions, the numeric method's error estimates, plots) and rounds the rest.
The slow test recomputes the committed reports with NumPy's SIMD kernels
turned off (another machine, as far as the numbers go) and compares bytes."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from diffcheck.reports import jsonreport
from diffcheck.reports.records import REPRODUCIBLE_DIGITS, report_record, reproducible

ROOT = Path(__file__).resolve().parent.parent
FILES = ("diffcheck-audit.json", "diffcheck-audit.md", "diffcheck-audit-junit.xml", "diffcheck-audit.html")
# NumPy >= 2.3 names its dispatch targets by x86-64 level; older ones by feature.
BASELINE_ONLY = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR AVX2 FMA3 AVX512F AVX512_SKX"


def a_check(gradient: float, estimate: float) -> dict:
    return {"expression": "x**2", "point": {"x": 3.0}, "wrt": ["x"], "verdict": "agree", "reason": "",
            "value": 9.0, "reference": "symbolic",
            "backends": {"numeric": {"status": "ok", "value": 9.0, "gradient": {"x": gradient},
                                     "error_estimate": {"x": estimate}, "evaluations": 12}},
            "discrepancies": []}


def a_record(gradient: float, estimate: float, tolerance: float, seconds: float) -> dict:
    case = {"id": "d::c", "file": "d.toml", "document": "d.txt", "name": "c", "where": "here", "quote": "",
            "note": "", "expression": "x**2", "variables": {"x": 3.0}, "wrt": ["x"],
            "checks": [a_check(gradient, estimate)], "scenarios": [],
            "findings": [{"claim": 1, "kind": "gradient", "subject": "d/dx", "status": "confirmed",
                          "message": "6 is right", "where": "here", "quote": "", "claimed": "6", "true": 6.0,
                          "tolerance": tolerance, "diagnoses": [], "evidence": {}, "note": ""}]}
    run = {"started": f"2026-12-02T00:00:{int(seconds):02d}+00:00", "seconds": seconds,
           "case_seconds": {"d::c": seconds}, "python": "3.11.7", "versions": {"numpy": "2.4.6"}}
    return report_record([case], [], True, run)


def test_two_runs_on_two_machines_give_the_same_reproducible_record():
    # The same audit as two CPUs computed it: the gradient 6 differs at 1e-14
    # relative, the error estimate in its second digit (4.09e-12 and 4.11e-12, as
    # measured on the catalogue), the claim's tolerance (half a unit of the last
    # place, 0.5, plus the estimate) in its fifth; and the runs took different times.
    one = a_record(6.000000000000021, 4.094e-12, 0.5000503, seconds=12.5)
    other = a_record(5.999999999999998, 4.109e-12, 0.5000512, seconds=31.0)
    assert one != other
    assert reproducible(one) == reproducible(other)
    stable = reproducible(one)
    jsonschema.validate(stable, jsonreport.schema())
    assert stable["run"] == {"reproducible": True}
    numeric = stable["cases"][0]["checks"][0]["backends"]["numeric"]
    assert numeric["gradient"] == {"x": 6.0} and numeric["error_estimate"] == {}
    assert stable["cases"][0]["findings"][0]["tolerance"] == 0.5


def test_what_is_kept_is_rounded_not_lost():
    # 1/3 to 7 significant digits is 0.3333333: the value survives, the noise does not.
    stable = reproducible(a_record(1 / 3, 1e-12, 0.5, seconds=1.0))
    assert REPRODUCIBLE_DIGITS == 7
    assert stable["cases"][0]["checks"][0]["backends"]["numeric"]["gradient"]["x"] == 0.3333333


@pytest.mark.slow
def test_the_committed_reports_come_out_byte_for_byte_with_other_numpy_kernels(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(ROOT / "cases", project / "cases")
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NPY_DISABLE_CPU_FEATURES": BASELINE_ONLY}
    finished = subprocess.run([sys.executable, "-m", "diffcheck", "audit", "-q"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=900)
    assert finished.returncode == json.loads((ROOT / "reports" / FILES[0]).read_text())["summary"]["exit_status"], \
        finished.stderr
    for name in FILES:
        assert (project / "reports" / name).read_bytes() == (ROOT / "reports" / name).read_bytes(), \
            f"{name} differs: regenerate reports/ with `python -m diffcheck audit` at the repository root"

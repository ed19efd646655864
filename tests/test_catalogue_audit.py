"""The shipped catalogue: the documents' known mistakes are found and explained,
their right claims are confirmed, and the committed reports are up to date.

The expected mistakes come from cases/INVENTORY.md, where each was worked out by
hand; this test does not read them from the audit's output.
"""

import json
import re
from pathlib import Path

import pytest

from diffcheck.reports import jsonreport
from diffcheck.reports import junitreport
from diffcheck.reports import mdreport
from diffcheck.documents.audit import load_all, run_audit
from diffcheck.reports.records import audit_record, reproducible

# Slow: whole audits or runs in subprocesses; `-m "not slow"` leaves them out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"


@pytest.fixture(scope="module")
def record():
    # Paths relative to the repository, as `diffcheck audit` run there writes them.
    import os
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        return audit_record(run_audit(load_all(["cases"])))
    finally:
        os.chdir(here)


def findings(record, document_prefix, status=None):
    return [(case, f) for case in record["cases"] if case["document"].startswith(document_prefix)
            for f in case["findings"] if status is None or f["status"] == status]


def refuted(record, prefix, claimed_part):
    found = [f for _, f in findings(record, prefix, "refuted") if claimed_part in f["claimed"]]
    assert found, f"no refuted claim in {prefix} with {claimed_part!r}"
    return found


def diagnosis_kinds(f):
    return [d["kind"] for d in f["diagnoses"]]


def test_all_four_documents_are_audited_and_the_audit_fails(record):
    assert record["summary"]["documents"] == 4
    assert record["summary"]["exit_status"] == 1
    assert record["load_errors"] == []


def test_the_four_methods_agree_on_every_case(record):
    verdicts = {c["verdict"] for case in record["cases"] for c in case["checks"]}
    assert verdicts <= {"agree", "nondifferentiable"}
    assert {s["verdict"] for case in record["cases"] for s in case["scenarios"]} == {"agree"}


def test_001_gradient_accumulated_over_two_backward_calls(record):
    (f,) = refuted(record, "001", "28.")
    assert diagnosis_kinds(f) == ["accumulated"]
    assert f["true"] == 22.0


def test_001_manual_gradients_summed_over_a_vector_weight(record):
    for claimed in ("-16.0", "-8.0"):
        (f,) = [f for f in refuted(record, "001", claimed) if f["kind"] == "gradient"]
        assert diagnosis_kinds(f) == ["shared_scalar"]


def test_001_markdown_formulas_and_rescaled_gradient_miss_a_factor_of_2(record):
    formulas = [f for _, f in findings(record, "001", "refuted") if f["kind"] == "formula"
                and "1/2" in f["claimed"]]
    assert len(formulas) == 2
    (rescaled,) = refuted(record, "001", "[-8., -4.]")
    for f in formulas + [rescaled]:
        assert diagnosis_kinds(f) == ["factor"]
        assert "extra 1/m" in f["diagnoses"][0]["explanation"]


def test_002_sign_slip_in_one_printed_entry(record):
    (f,) = refuted(record, "002", "-1.6828")
    assert diagnosis_kinds(f) == ["sign"]
    assert "entry [0]" in f["diagnoses"][0]["explanation"]


def test_003_printed_y_equals_27_is_three_times_too_big(record):
    found = refuted(record, "003", "27.")
    assert len(found) >= 4
    assert all(diagnosis_kinds(f) == ["factor"] for f in found)


def test_003_printouts_come_from_the_other_data(record):
    loss = refuted(record, "003", "2673.9028")
    y_pred = refuted(record, "003", "0.0198")
    assert all(diagnosis_kinds(f) == ["data_entry"] for f in loss + y_pred)


def test_003_sigmoid_derivation_has_exactly_one_wrong_step(record):
    steps = [f for _, f in findings(record, "003") if f["kind"] == "derivation"
             and "1/(1 + exp(-z))" in f["subject"] and "d/dz" in f["subject"]]
    wrong = [f for f in steps if f["status"] == "refuted"]
    assert len(wrong) == 1
    assert "- (1 + exp(-z) - 1)/(1 + exp(-z))" in wrong[0]["claimed"]
    assert len(steps) > 3


def test_003_weights_printed_with_three_of_four_entries(record):
    found = refuted(record, "003", "[0.7000, 0.7000, 0.7000]")
    assert all(diagnosis_kinds(f) == ["shape"] for f in found)


def test_000_overdetermined_system_is_solvable_exactly(record):
    found = [f for _, f in findings(record, "000", "refuted") if f["kind"] == "value"]
    assert any(f["true"] == 0.0 for f in found)


@pytest.mark.parametrize("prefix,claimed", [("000", "16"), ("001", "22"), ("003", "0.3333"),
                                            ("003", "0.2254"), ("002", "-2")])
def test_right_claims_are_confirmed(record, prefix, claimed):
    confirmed = [f for _, f in findings(record, prefix, "confirmed") if f["claimed"].strip() == claimed
                 or f["claimed"].startswith(f"tensor({claimed}") or f["claimed"].startswith(f"tensor([{claimed}")]
    assert confirmed


# NumPy picks its pow/exp/sin kernels by CPU (AVX2, AVX-512), which moves a finite
# difference in its last bits from one machine to another, and its error estimate
# (a difference of such values) in its second digit.  Reports are compared with
# numbers at 9 significant digits and without the numeric error estimates, which
# still catches any changed verdict, value, claim or diagnosis.
_NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _coarse(value):
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: _coarse(item) for key, item in value.items() if key != "error_estimate"}
    if isinstance(value, list):
        return [_coarse(item) for item in value]
    return value


def _coarse_text(text):
    return _NUMBER.sub(lambda match: f"{float(match.group()):.9g}", text)


def _without_run(text):
    data = json.loads(text)
    data.pop("run")
    return _coarse(data)


def test_committed_reports_are_up_to_date(record):
    """Regenerate with `diffcheck audit` at the repository root (whose
    [tool.diffcheck] reproducible = true writes them as records.reproducible makes them)."""
    committed = reproducible(record)
    assert _without_run((REPORTS / jsonreport.FILENAME).read_text()) == _without_run(jsonreport.render(committed))
    assert _coarse_text((REPORTS / mdreport.FILENAME).read_text()) == _coarse_text(mdreport.render(committed))
    assert _coarse_text((REPORTS / junitreport.FILENAME).read_text()) == _coarse_text(junitreport.render(committed))

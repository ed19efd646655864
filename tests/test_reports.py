"""Reports of an audit: strict, schema-valid JSON; JUnit XML any parser reads;
Markdown safe to render; and files written atomically into a directory proven
writable before the work starts."""

import copy
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from xml.dom import minidom

import jsonschema
import numpy as np
import pytest

from diffcheck.reports import jsonreport
from diffcheck.reports import junitreport
from diffcheck.reports import mdreport
from diffcheck.reports import writer as reporting
from diffcheck.documents.audit import load_all, run_audit
from diffcheck.reports.records import array, audit_record, number
from diffcheck.reports.writer import ReportError, prepare_directory, write_atomic, write_reports

BACKENDS = ["engine", "numeric"]

# d/dx x**2 at 3 is 6: the first claim has the sign flipped; x**2 at 3 is 9: the second is right.
# The wrong claim's where/quote/note carry control characters, markup and a table pipe.
AUDITED = r'''
format = 1
document = "doc.txt"

[[case]]
name = "square"
where = "Sec 1"
expression = "x**2"
variables = { x = 3.0 }

[[case.claim]]
kind = "gradient"
wrt = "x"
where = "Cell 4 <script>alert(1)</script> | col\u0000\u0007\u001b"
quote = "x.grad \u001b[31m-6\u0008"
note = "bell\u0007 and form feed\u000c"
claimed = "-6"

[[case.claim]]
kind = "value"
claimed = "9"
'''

# exp(1000) is about 1.97e434, beyond float64's largest number (about 1.8e308).
OVERFLOWING = '''
format = 1
document = "big.txt"

[[case]]
name = "overflow"
where = "Sec 9"
expression = "exp(x)"
variables = { x = 1000.0 }

[[case.claim]]
kind = "value"
claimed = "1"
'''

ALL_RIGHT = '''
format = 1
document = "fine.txt"

[[case]]
name = "line"
where = "Sec 2"
expression = "2*y + 1"
variables = { y = 4.0 }

[[case.claim]]
kind = "gradient"
wrt = "y"
claimed = "2"
'''


def audit_of(path):
    return audit_record(run_audit(load_all([path]), BACKENDS))


@pytest.fixture(scope="module")
def case_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cases") / "doc.toml"
    path.write_text(AUDITED, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def record(case_path):
    return audit_of(case_path)


@pytest.fixture(scope="module")
def wrong(record):
    (finding,) = [f for f in record["cases"][0]["findings"] if f["status"] == "refuted"]
    return finding


def reject_constant(name):
    raise ValueError(f"not strict JSON: {name}")


def strict_loads(text):
    return json.loads(text, parse_constant=reject_constant)


def test_fixture_has_one_wrong_and_one_right_claim(record, wrong):
    assert record["summary"]["claims"]["refuted"] == 1
    assert record["summary"]["claims"]["confirmed"] == 1
    assert record["summary"]["exit_status"] == 1
    assert wrong["claimed"] == "-6" and wrong["true"] == pytest.approx(6.0)


# --- JSON --------------------------------------------------------------------------------------


def test_json_report_validates_against_the_shipped_schema(record):
    jsonschema.validate(json.loads(jsonreport.render(record)), jsonreport.schema())


def test_json_report_is_strict_json(record):
    text = jsonreport.render(record)
    assert strict_loads(text)["format"] == "diffcheck-audit"


def test_json_report_keeps_control_characters_as_escapes(record):
    text = jsonreport.render(record)
    assert "\\u0000\\u0007\\u001b" in text
    loaded = strict_loads(text)
    findings = loaded["cases"][0]["findings"]
    assert "\x00\x07\x1b" in next(f["where"] for f in findings if f["status"] == "refuted")


def test_the_schema_rejects_a_report_with_a_bare_infinity(record):
    broken = copy.deepcopy(record)
    broken["cases"][0]["checks"][0]["value"] = "Infinity"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, jsonreport.schema())


def test_json_render_refuses_a_raw_nan_instead_of_writing_it(record):
    broken = copy.deepcopy(record)
    broken["cases"][0]["checks"][0]["value"] = float("nan")
    with pytest.raises(ValueError):
        jsonreport.render(broken)


def test_non_finite_numbers_are_written_as_strings():
    assert [number(1.5), number(math.inf), number(-math.inf), number(math.nan)] == [1.5, "inf", "-inf", "nan"]
    assert array(np.array([[1.0, np.inf], [-np.inf, np.nan]])) == [[1.0, "inf"], ["-inf", "nan"]]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")
def test_a_true_value_that_overflows_is_reported_as_the_string_inf(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text(OVERFLOWING, encoding="utf-8")
    text = jsonreport.render(audit_of(path))
    loaded = strict_loads(text)
    jsonschema.validate(loaded, jsonreport.schema())
    (finding,) = loaded["cases"][0]["findings"]
    # An infinite true value cannot show as any printed number: undecided, not wrong.
    assert finding["status"] == "undecided"
    assert finding["true"] == "inf"
    assert loaded["cases"][0]["checks"][0]["value"] == "inf"


def test_two_audits_of_the_same_files_differ_only_in_run(case_path):
    first, second = audit_of(case_path), audit_of(case_path)
    first["run"] = second["run"] = None
    assert jsonreport.render(first) == jsonreport.render(second)


# --- JUnit XML ---------------------------------------------------------------------------------


def test_junit_parses_with_strict_parsers_despite_control_characters(record):
    text = junitreport.render(record)
    minidom.parseString(text.encode("utf-8"))
    ET.fromstring(text.encode("utf-8"))


def test_junit_has_one_testcase_per_finding_and_check(record):
    root = ET.fromstring(junitreport.render(record).encode("utf-8"))
    case = record["cases"][0]
    expected = len(case["findings"]) + len(case["checks"]) + len(case["scenarios"])
    assert len(case["findings"]) == 2
    assert len(root.findall(".//testcase")) == expected
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "doc.txt"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (str(expected), "1", "0")


def test_junit_failure_carries_the_wrong_claims_message(record, wrong):
    root = ET.fromstring(junitreport.render(record).encode("utf-8"))
    (failure,) = root.iter("failure")
    assert failure.get("message") == wrong["message"]
    assert "-6" in failure.get("message")
    assert "claimed: -6" in failure.text
    assert "flipped sign" in failure.text


def test_junit_shows_control_characters_visibly(record):
    root = ET.fromstring(junitreport.render(record).encode("utf-8"))
    (failure,) = root.iter("failure")
    assert "col\\x00\\x07\\x1b" in failure.text
    assert "\x1b" not in failure.text


def test_junit_of_a_hand_built_record_with_control_characters_in_names(record):
    evil = copy.deepcopy(record)
    evil["cases"][0]["id"] = "evil\x00::id\x07"
    evil["cases"][0]["document"] = "doc\x1b.txt"
    evil["cases"][0]["findings"][0]["subject"] = "subject\x0c\x7f\ufffe"
    evil["load_errors"] = ["bad\x00file.toml: broken\x1b"]
    text = junitreport.render(evil)
    minidom.parseString(text.encode("utf-8"))
    root = ET.fromstring(text.encode("utf-8"))
    classnames = {t.get("classname") for t in root.iter("testcase")}
    assert "evil\\x00::id\\x07" in classnames
    assert {s.get("name") for s in root.findall("testsuite")} == {"doc\\x1b.txt", "case files"}


def test_junit_reports_each_load_error_as_an_error(record):
    broken = copy.deepcopy(record)
    broken["load_errors"] = ["a.toml: not valid TOML", "b.toml: not UTF-8 text"]
    root = ET.fromstring(junitreport.render(broken).encode("utf-8"))
    (suite,) = [s for s in root.findall("testsuite") if s.get("name") == "case files"]
    assert [e.get("message") for e in suite.iter("error")] == broken["load_errors"]
    assert (suite.get("tests"), suite.get("errors")) == ("2", "2")


# --- Markdown ----------------------------------------------------------------------------------


def _finding_rows(text):
    return [line for line in text.splitlines() if line.startswith("| 1 |")]


def test_markdown_lists_the_wrong_claim_with_diagnosis_and_place(record):
    (row,) = _finding_rows(mdreport.render(record))
    assert "doc.txt" in row
    assert "Cell 4" in row             # where
    assert "flipped sign" in row       # the diagnosis
    assert "| -6 |" in row             # claimed
    assert "refuted" in row


def test_markdown_escapes_markup_and_table_pipes(record):
    text = mdreport.render(record)
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    (row,) = _finding_rows(text)
    assert row.count("|") == 8          # 7 columns; the pipe in `where` is neutralised


def test_markdown_of_an_all_right_audit_says_so(tmp_path):
    path = tmp_path / "fine.toml"
    path.write_text(ALL_RIGHT, encoding="utf-8")
    text = mdreport.render(audit_of(path))
    assert "Every claim checked is right" in text
    assert "| # |" not in text


# --- writing files -----------------------------------------------------------------------------


def _leftovers(directory, keep):
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


def test_write_atomic_replaces_the_file(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert _leftovers(tmp_path, {"report.txt"}) == []


def test_write_atomic_keeps_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "report.txt"
    target.write_text("old\n")

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_atomic(target, "new\n")
    monkeypatch.undo()
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path, {"report.txt"}) == []


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "half written \ud800 never")   # a lone surrogate cannot be encoded
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path, {"report.txt"}) == []


def test_write_reports_keeps_the_old_report_when_a_reporter_fails(tmp_path, record, monkeypatch):
    old = tmp_path / jsonreport.FILENAME
    old.write_text("previous report\n")

    def broken_render(record):
        raise RuntimeError("reporter bug")

    monkeypatch.setattr(jsonreport, "render", broken_render)
    with pytest.raises(RuntimeError):
        write_reports(record, tmp_path, ["json"])
    assert old.read_text() == "previous report\n"
    assert _leftovers(tmp_path, {jsonreport.FILENAME}) == []


def test_write_reports_turns_a_failed_write_into_a_report_error(tmp_path, record, monkeypatch):
    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ReportError, match="No space left on device") as caught:
        write_reports(record, tmp_path, ["md"])
    assert mdreport.FILENAME in str(caught.value)


def test_write_reports_writes_only_the_formats_asked_for(tmp_path, record):
    written = write_reports(record, tmp_path / "out", ["md", "junit"])
    assert written == [tmp_path / "out" / mdreport.FILENAME, tmp_path / "out" / junitreport.FILENAME]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([mdreport.FILENAME,
                                                                           junitreport.FILENAME])
    assert not (tmp_path / "out" / jsonreport.FILENAME).exists()


def test_written_json_report_is_the_rendered_record(tmp_path, record):
    (path,) = write_reports(record, tmp_path, ["json"])
    assert strict_loads(path.read_text(encoding="utf-8")) == strict_loads(jsonreport.render(record))


def test_unknown_format_is_a_report_error(tmp_path, record):
    with pytest.raises(ReportError, match="pdf"):
        write_reports(record, tmp_path, ["pdf"])


def test_prepare_directory_creates_missing_parents_and_leaves_no_probe(tmp_path):
    target = tmp_path / "a" / "b"
    assert prepare_directory(target) == target
    assert target.is_dir() and list(target.iterdir()) == []


def test_prepare_directory_under_a_regular_file_is_a_report_error(tmp_path):
    (tmp_path / "afile").write_text("")
    target = tmp_path / "afile" / "sub"
    with pytest.raises(ReportError) as caught:
        prepare_directory(target)
    message = str(caught.value)
    assert message.startswith(f"cannot write reports to {target}")
    assert "\n" not in message and "Errno" not in message


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root ignores directory permissions")
def test_prepare_directory_on_a_read_only_directory_is_a_report_error(tmp_path):
    target = tmp_path / "readonly"
    target.mkdir()
    target.chmod(0o555)
    try:
        with pytest.raises(ReportError, match=re.escape(f"cannot write reports to {target}")):
            prepare_directory(target)
    finally:
        target.chmod(0o755)


def test_reports_of_a_case_file_whose_name_is_not_utf8(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    try:
        with open(os.path.join(os.fsencode(folder), b"caf\xe9.toml"), "wb") as stream:
            stream.write(ALL_RIGHT.encode("utf-8"))
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    record = audit_record(run_audit(load_all([folder]), BACKENDS))
    assert record["summary"]["cases"] == 1
    written = write_reports(record, tmp_path / "out", ["json", "md"])
    loaded = strict_loads(written[0].read_text(encoding="utf-8"))
    assert loaded["cases"][0]["name"] == "line"

"""The JUnit XML report: one test case per (case, check), for CI test dashboards.

Each claim finding, each cross-check of the four methods and each scenario run
is a ``<testcase>``; a wrong claim or a disagreement is a ``<failure>`` whose
message is the one-line finding and whose text holds the numbers.  XML 1.0
forbids most control characters even when escaped, so they are replaced by a
visible ``\\xNN`` before :mod:`xml.etree` escapes the rest.
"""

from __future__ import annotations

from diffcheck.vocabulary import is_problem

import re
import xml.etree.ElementTree as ET

from diffcheck.reports.records import wording

FILENAME = "diffcheck-audit-junit.xml"
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text) -> str:
    """Text every XML 1.0 parser accepts."""
    return _FORBIDDEN.sub(lambda m: f"\\x{ord(m.group(0)):02x}", str(text))


def _case(suite, classname: str, name: str, seconds: float = 0.0):
    return ET.SubElement(suite, "testcase", classname=clean(classname), name=clean(name),
                         time=f"{seconds:.3f}")


def _fail(testcase, tag: str, message: str, details: str) -> None:
    element = ET.SubElement(testcase, tag, message=clean(message), type=tag)
    element.text = clean(details)


#: Positions in a suite's tally.
TESTS, FAILURES, ERRORS, SKIPPED = range(4)
#: The element a finding of each status adds to its test case (confirmed: none).
_FINDING_TAGS = {"refuted": ("failure", FAILURES), "error": ("error", ERRORS)}


def render(record: dict) -> str:
    """The report: a ``<testsuite>`` per document (and one for case files that could
    not be read), each with its tests, failures, errors and skipped counted."""
    root = ET.Element("testsuites", name=wording(record)["title"])
    by_document: dict[str, ET.Element] = {}
    counts: dict[str, list[int]] = {}
    for case in record["cases"]:
        document = case["document"]
        if document not in by_document:
            by_document[document] = ET.SubElement(root, "testsuite", name=clean(document))
            counts[document] = [0, 0, 0, 0]   # tests, failures, errors, skipped
        _add_case(by_document[document], counts[document], case)
    if record["load_errors"]:
        suite = ET.SubElement(root, "testsuite", name="case files")
        counts["case files"] = [len(record["load_errors"]), 0, len(record["load_errors"]), 0]
        by_document["case files"] = suite
        for number, message in enumerate(record["load_errors"], start=1):
            _fail(_case(suite, "case files", f"load error {number}"), "error", message, message)
    for name, suite in by_document.items():
        tests, failures, errors, skipped = counts[name]
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _add_case(suite, tally: list[int], case: dict) -> None:
    """The test cases of one case, counted in its document's ``tally``."""
    classname = case["id"]
    if "unfinished" in case:
        tally[TESTS] += 1
        tally[ERRORS] += 1
        unfinished = case["unfinished"]
        _fail(_case(suite, classname, "the case, checked to the end"), "error",
              f"{unfinished['outcome']}: {unfinished['reason']}", unfinished["reason"])
    for f in case["findings"]:
        _add_finding(suite, tally, classname, f)
    for number, c in enumerate(case["checks"], start=1):
        tally[TESTS] += 1
        testcase = _case(suite, classname, f"cross-check {number}: gradient of {c['expression']}")
        if is_problem(c["verdict"]):
            numbers = "\n".join(f"{d['backend']} d/d{d['variable']}{d['index']}: {d['value']} vs "
                                f"{d['reference_backend']} {d['reference']} (tolerance {d['tolerance']})"
                                for d in c["discrepancies"])
            _fail_verdict(testcase, tally, c["verdict"], c["reason"], numbers)
    for s in case["scenarios"]:
        tally[TESTS] += 1
        testcase = _case(suite, classname, f"claim {s['claim']} ({s['kind']}) run by each method")
        if is_problem(s["verdict"]):
            _fail_verdict(testcase, tally, s["verdict"], s["reason"], s["reason"])


def _add_finding(suite, tally: list[int], classname: str, f: dict) -> None:
    """A claim's test case: a failure when refuted, an error when it could not be
    checked, skipped when undecided."""
    tally[TESTS] += 1
    testcase = _case(suite, classname, f"claim {f['claim']} ({f['kind']}): {f['subject']}")
    if f["status"] in _FINDING_TAGS:
        tag, position = _FINDING_TAGS[f["status"]]
        tally[position] += 1
        details = (f"claimed: {f['claimed']}\ntrue: {f['true']}\ntolerance: {f['tolerance']}\n"
                   f"where: {f['where']}\nquote: {f['quote']}\n"
                   + "".join(f"diagnosis ({d['kind']}): {d['explanation']}; {d['evidence']}\n"
                             for d in f["diagnoses"]))
        _fail(testcase, tag, f["message"], details)
    elif f["status"] == "undecided":
        tally[SKIPPED] += 1
        ET.SubElement(testcase, "skipped", message=clean(f["message"]))


def _fail_verdict(testcase, tally: list[int], verdict: str, message: str, details: str) -> None:
    """A discrepancy is a failure, an error (a method that failed) an error."""
    tag, position = ("failure", FAILURES) if verdict == "discrepancy" else ("error", ERRORS)
    tally[position] += 1
    _fail(testcase, tag, message, details)

"""Check results as plain data (dicts, lists, strings, numbers) for every report format.

Strict JSON has no NaN or infinity, so non-finite numbers are written as the
strings ``"nan"``, ``"inf"`` and ``"-inf"``; arrays become nested lists.
"""

from __future__ import annotations

import numpy as np

from diffcheck.plaindata import array, number  # noqa: F401 - re-exported for the report formats
from diffcheck.vocabulary import BAD_INPUT, CLEAN, FOUND, INCONCLUSIVE, UNDECIDABLE, UNSUPPORTED, is_problem


def backend_record(gradient) -> dict:
    record = {
        "status": gradient.status,
        "value": number(gradient.value),
        "gradient": {k: array(v) for k, v in gradient.gradients.items()},
        "error_estimate": {k: array(v) for k, v in gradient.errors.items()},
        "evaluations": gradient.evaluations,
    }
    if gradient.reason:
        record["reason"] = gradient.reason
    if "formulas" in gradient.details:
        record["formulas"] = gradient.details["formulas"]
    return record


def discrepancy_record(d) -> dict:
    return {"backend": d.backend, "variable": d.variable, "index": list(d.index),
            "value": number(d.value), "reference": number(d.reference),
            "reference_backend": d.reference_backend, "abs_error": number(d.abs_error),
            "rel_error": number(d.rel_error), "tolerance": number(d.tolerance)}


def check_record(result) -> dict:
    """Everything a report needs about one :class:`~diffcheck.checking.harness.CheckResult`."""
    record = {
        "expression": result.expression,
        "point": {k: array(v) for k, v in result.point.items()},
        "wrt": list(result.wrt),
        "verdict": result.verdict,
        "reason": result.reason,
        "value": number(result.value),
        "reference": result.reference,
        "backends": {name: backend_record(g) for name, g in result.results.items()},
        "discrepancies": [discrepancy_record(d) for d in result.discrepancies],
    }
    if result.kinks:
        record["kinks"] = list(result.kinks)
    if result.one_sided:
        record["one_sided"] = {side: {k: array(v) for k, v in by_var.items()}
                               for side, by_var in result.one_sided.items()}
    return record


FORMAT_VERSION = 1


def plain(x):
    """Any finding's evidence as JSON data: arrays to lists, non-finite to names."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray) or isinstance(x, np.generic):
        return array(x) if np.issubdtype(np.asarray(x).dtype, np.number) else np.asarray(x).tolist()
    if isinstance(x, float):
        return number(x)
    return x


def finding_record(f) -> dict:
    return {
        "claim": f.claim, "kind": f.kind, "subject": f.subject, "status": f.status,
        "message": f.message, "where": f.where, "quote": f.quote, "claimed": f.claimed,
        "true": None if f.true is None else array(f.true),
        "tolerance": None if f.tolerance is None else array(f.tolerance),
        "diagnoses": [{"kind": d.kind, "explanation": d.explanation, "evidence": d.evidence}
                      for d in f.diagnoses],
        "evidence": plain(f.evidence), "note": f.note,
    }


def scenario_record(s) -> dict:
    runs = {name: [plain({k: v for k, v in step.items() if k != "error"}) for step in steps]
            for name, steps in s.runs.items()}
    return {"claim": s.claim, "kind": s.kind, "verdict": s.verdict, "reason": s.reason,
            "reference": s.reference, "steps": s.steps, "runs": runs}


def case_record(result) -> dict:
    case = result.case
    return {
        "id": case.id, "file": case.path, "document": case.document, "name": case.name,
        "where": case.where, "quote": case.quote, "note": case.note, "expression": case.expression,
        "variables": {k: array(v) for k, v in case.point.items()}, "wrt": list(case.wrt),
        "checks": [check_record(c) for c in result.checks],
        "scenarios": [scenario_record(s) for s in result.scenarios],
        "findings": [finding_record(f) for f in result.findings],
        **({"profile": result.profile} if result.profile is not None else {}),
        **({"unfinished": {"outcome": result.outcome, "reason": result.reason}}
           if result.outcome != "finished" else {}),
    }


def summary(cases: list, load_errors: list, complete: bool) -> dict:
    """Counts over case records; recomputable from them, so merged reports agree."""
    claims = {s: 0 for s in ("confirmed", "refuted", "undecided", "error")}
    checks: dict[str, int] = {}
    scenarios: dict[str, int] = {}
    unfinished: dict[str, int] = {}
    for case in cases:
        if "unfinished" in case:
            outcome = case["unfinished"]["outcome"]
            unfinished[outcome] = unfinished.get(outcome, 0) + 1
        for f in case["findings"]:
            claims[f["status"]] = claims.get(f["status"], 0) + 1
        for c in case["checks"]:
            checks[c["verdict"]] = checks.get(c["verdict"], 0) + 1
        for s in case["scenarios"]:
            scenarios[s["verdict"]] = scenarios.get(s["verdict"], 0) + 1
    problems = sum(n for counts in (claims, checks, scenarios, unfinished)
                   for word, n in counts.items() if is_problem(word))
    # A run whose every cross-check was unsupported (one method asked, or none
    # able) compared nothing: its "no problems" would claim what was never
    # checked, so it ends like a usage error (the reports still show it all).
    status = BAD_INPUT if load_errors or nothing_compared(checks) else (
        FOUND if problems else UNDECIDABLE if checks.get(INCONCLUSIVE) or scenarios.get(INCONCLUSIVE) else CLEAN)
    return {"documents": len({c["document"] for c in cases}), "cases": len(cases), "claims": claims,
            "cross_checks": dict(sorted(checks.items())), "scenarios": dict(sorted(scenarios.items())),
            "unfinished": dict(sorted(unfinished.items())),
            "load_errors": len(load_errors), "problems": problems, "exit_status": status,
            "complete": complete}


#: Significant digits a reproducible report keeps.  NumPy picks its exp/pow/sin
#: kernels by CPU (AVX2, AVX-512), which moves a finite difference, and a gradient
#: descent run on it, by about 1e-13 relative from one machine to another; at 7
#: digits such a change shows about once in a billion numbers.
REPRODUCIBLE_DIGITS = 7
#: Claim tolerances include the numeric method's error, which moves in its fourth digit.
REPRODUCIBLE_TOLERANCE_DIGITS = 2


def reproducible(record: dict) -> dict:
    """The record as committed reports hold it (``[tool.diffcheck] reproducible =
    true``): the same on every machine and every run.  Left out: the run's times,
    durations and versions (``run`` is ``{"reproducible": true}``) and the numeric
    method's error estimates, which differ in their first digits between CPUs;
    rounded: every other number to :data:`REPRODUCIBLE_DIGITS` significant digits,
    claim tolerances to :data:`REPRODUCIBLE_TOLERANCE_DIGITS`."""
    return {key: ({"reproducible": True} if key == "run" else _rounded(value, REPRODUCIBLE_DIGITS))
            for key, value in record.items()}


def _rounded(value, digits: int):
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, list):
        return [_rounded(item, digits) for item in value]
    if isinstance(value, dict):
        return {key: ({} if key == "error_estimate" else
                      _rounded(item, REPRODUCIBLE_TOLERANCE_DIGITS if key == "tolerance" else digits))
                for key, item in value.items()}
    return value


def nothing_compared(cross_checks: dict) -> bool:
    """Whether there were cross-checks and every one was unsupported."""
    return bool(cross_checks) and all(verdict == UNSUPPORTED for verdict in cross_checks)


def audit_record(audit) -> dict:
    """The whole audit as one JSON-ready record: what every report renders.

    Everything but ``run`` depends only on the inputs, so two audits of the same
    files give identical records apart from ``run`` (times, versions, host).
    """
    cases = [case_record(r) for r in audit.cases]
    run = run_record(audit.started, audit.seconds, {r.case.id: r.seconds for r in audit.cases})
    record = report_record(cases, audit.load_errors, audit.complete, run)
    unread = [unread_record(f, u) for f in audit.files for u in getattr(f, "unread", ())]
    if unread:   # documents read directly: what the readers saw but could not check
        record["unread"] = unread
    return record


def unread_record(case_file, unread) -> dict:
    """One passage of a document that looks like a claim but was not checked, and why."""
    location = unread.location
    where = f"{location.cell}, line {location.line}" if location.cell else f"line {location.line}"
    return {"file": case_file.path, "document": case_file.document, "where": where,
            "quote": " ".join(str(unread.quote).split())[:300], "reason": str(unread.reason)}


def report_record(cases: list[dict], load_errors: list[str], complete: bool, run: dict,
                  source: str | None = None) -> dict:
    """The record every report renders, from case records; ``source`` is
    ``"pytest"`` when the cases are the tests of a pytest run."""
    return {
        "format": "diffcheck-audit",
        "version": FORMAT_VERSION,
        **({"source": source} if source else {}),
        "complete": complete,
        "summary": summary(cases, load_errors, complete),
        "load_errors": load_errors,
        "cases": cases,
        "run": run,
    }


def wording(record: dict) -> dict:
    """The words a report uses for the run and its parts: an audit has documents and
    cases; a pytest run has test files and tests, and no claims."""
    if record.get("source") == "pytest":
        return {"title": "diffcheck checks in a pytest run", "document": "test file", "case": "test",
                "claims": False}
    shard = record.get("shard")   # one shard of an audit (diffcheck audit --shard I/N)
    title = f"diffcheck audit, shard {shard['index']} of {shard['count']}" if shard else "diffcheck audit"
    return {"title": title, "document": "document", "case": "case", "claims": True}


def run_record(started: float, seconds: float, case_seconds: dict[str, float]) -> dict:
    """When the run started (a time.time() value), how long it took, and the versions used."""
    import datetime
    import platform
    from importlib import metadata

    versions = {}
    for package in ("diffcheck", "numpy", "sympy", "mpmath", "torch"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "started": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(),
        "seconds": round(seconds, 3),
        "case_seconds": {name: round(value, 3) for name, value in case_seconds.items()},
        "python": platform.python_version(), "versions": versions,
    }


def case_record_of_test(test_id: str, file: str, name: str, checks: list[dict], outcome: str) -> dict:
    """One pytest test as a case of the report: its checks are the check records
    (:func:`check_record`) of every check it made; it states no claims.

    A test that checked one expression shows it as the case's expression (and its
    point, when there was one); a test that checked several (a Hypothesis test)
    shows how many, and each check names its own."""
    expressions = list(dict.fromkeys(c["expression"] for c in checks))
    single = len(checks) == 1
    return {
        "id": test_id, "file": file, "document": file, "name": name, "where": test_id, "quote": "", "note": "",
        "expression": expressions[0] if len(expressions) == 1 else f"{len(expressions)} expressions",
        "variables": checks[0]["point"] if single else {}, "wrt": checks[0]["wrt"] if single else [],
        "checks": checks, "scenarios": [], "findings": [], "outcome": outcome,
    }

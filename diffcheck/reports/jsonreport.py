"""The JSON report: the audit record itself, versioned and strict.

Strict JSON has no NaN or infinity; :mod:`diffcheck.reports.records` already spells
non-finite numbers as strings, and ``allow_nan=False`` makes any slip an error
rather than an unreadable file.  The schema ships with the package
(:func:`schema`), so consumers can validate what they read.
"""

from __future__ import annotations

import json
from importlib import resources

FILENAME = "diffcheck-audit.json"


def render(record: dict) -> str:
    # Plot data ("profile") is for the HTML page; the JSON report is the audit's result.
    # A shard's report keeps it: `diffcheck merge` draws the whole audit's page from it.
    if "shard" in record:
        return json.dumps(record, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    cases = [{k: v for k, v in case.items() if k != "profile"} for case in record["cases"]]
    return json.dumps({**record, "cases": cases}, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def schema() -> dict:
    """The JSON Schema every report validates against."""
    text = resources.files("diffcheck.reports").joinpath("schemas/report.schema.json").read_text("utf-8")
    return json.loads(text)

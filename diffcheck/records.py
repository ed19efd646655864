"""Check results as plain data (dicts, lists, strings, numbers) for every report format.

Strict JSON has no NaN or infinity, so non-finite numbers are written as the
strings ``"nan"``, ``"inf"`` and ``"-inf"``; arrays become nested lists.
"""

from __future__ import annotations

import math

import numpy as np


def number(x):
    """A float as JSON data: itself if finite, else its name as a string."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def array(a):
    """An array (or scalar) as nested lists of :func:`number`."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return number(a)
    return [array(row) for row in a]


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
    """Everything a report needs about one :class:`~diffcheck.harness.CheckResult`."""
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

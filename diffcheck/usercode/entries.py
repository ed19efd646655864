"""Gradient checks entry by entry: every entry of ``w^T J`` from its own
Richardson table, compared with each candidate's (for inputs small enough that
a table per entry is cheap; larger ones go along random directions,
:mod:`diffcheck.usercode.probes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffcheck.usercode.probes import (
    Candidate,
    Comparison,
    Line,
    Settings,
    Subject,
    tolerance,
)


@dataclass
class Values:
    """One method's flat ``w^T J`` for one cotangent: values, error bars, measured rounding."""

    name: str
    values: np.ndarray
    errors: np.ndarray
    rounding: np.ndarray


def numeric_entries(subject: Subject, cotangents: list[np.ndarray]) -> list[Values]:
    """Every entry of ``w^T J`` by its own Richardson table, for each cotangent
    (the evaluations along each entry's line are shared by all cotangents)."""
    n = subject.x.size
    values = np.empty((len(cotangents), n))
    errors = np.empty((len(cotangents), n))
    for entry in range(n):
        direction = np.zeros(n)
        step = float(subject.scale[entry])
        direction[entry] = step
        line = Line(subject, direction)
        for c, w in enumerate(cotangents):
            estimate = line.derivative(w)
            values[c, entry] = estimate.value / step
            errors[c, entry] = estimate.error / step if estimate.converged else np.inf
    return [Values("numeric", values[c], errors[c], np.zeros(n)) for c in range(len(cotangents))]


def candidate_entries(candidate: Candidate, w: np.ndarray, n: int) -> Values:
    """A candidate's flat ``w^T J``: one VJP, or one JVP per basis vector."""
    if candidate.vjp is not None:
        native = np.asarray(candidate.vjp(w, "native"), dtype=np.float64)
        wide = np.asarray(candidate.vjp(w, "float64"), dtype=np.float64) if candidate.float64 else native
    else:
        basis = np.eye(n)
        native = np.array([w @ np.asarray(candidate.jvp(e, "native"), dtype=np.float64) for e in basis])
        wide = (np.array([w @ np.asarray(candidate.jvp(e, "float64"), dtype=np.float64) for e in basis])
                if candidate.float64 else native)
    with np.errstate(all="ignore"):
        rounding = np.nan_to_num(np.abs(wide - native), nan=0.0)
    return Values(candidate.name, native, np.zeros(n), rounding)


def compare_entries(reference: Values, candidate: Values, settings: Settings) -> list[Comparison]:
    """Entry-by-entry comparisons (every entry, so the worst can be reported)."""
    out = []
    for entry in range(reference.values.size):
        value, ref = float(candidate.values[entry]), float(reference.values[entry])
        scale = max(abs(value), abs(ref)) if np.isfinite(value) else abs(ref)
        tol = tolerance(float(reference.errors[entry] + candidate.errors[entry]),
                        float(candidate.rounding[entry]), scale, settings)
        out.append(Comparison(candidate.name, value, ref, tol, input_entry=entry,
                              reference_method=reference.name))
    return out

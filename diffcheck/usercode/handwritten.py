"""A hand-written gradient function under test (:func:`~diffcheck.usercode.callables.check_gradient_fn`):
run as a vector-Jacobian product, its shape checked, and a wrong answer explained
(a missing 1/m, a transpose, a sign) by :mod:`diffcheck.checking.diagnosis`.
"""

from __future__ import annotations

import numpy as np

from diffcheck.checking.diagnosis import Context, Diagnosis, diagnose
from diffcheck.errors import CallableError
from diffcheck.usercode.entries import numeric_entries
from diffcheck.vocabulary import DISCREPANCY

#: The name a hand-written gradient goes by among the methods of a check.
HAND_WRITTEN = "grad_f"


class HandWritten:
    """A gradient function as a VJP candidate (f is scalar, so ``w^T J = w grad``)."""

    def __init__(self, code, grad_f):
        self.code, self.grad_f = code, grad_f

    def raw(self, precision) -> list[np.ndarray]:
        got = self.grad_f(*self.code.arguments(self.code.x, precision))
        if len(self.code.positions) == 1 and not isinstance(got, (tuple, list)):
            got = [got]
        if not isinstance(got, (tuple, list)) or len(got) != len(self.code.positions):
            count = len(got) if isinstance(got, (tuple, list)) else 1
            inputs = len(self.code.positions)
            raise CallableError(f"grad_f returned {count} gradient{'s' * (count != 1)} for {inputs} "
                                f"differentiated input{'s' * (inputs != 1)}")
        return [np.asarray(g.detach().cpu().double().numpy() if hasattr(g, "detach") else g,
                           dtype=np.float64) for g in got]

    def shape_problem(self) -> str:
        for k, (g, shape) in enumerate(zip(self.raw("native"), self.code.shapes)):
            if g.shape != shape:
                position = self.code.positions[k]
                return (f"grad_f's gradient for input {position} ({self.code.names[position]}) has shape "
                        f"{g.shape}, the input has shape {shape}")
        return ""

    def vjp(self, w, precision) -> np.ndarray:
        return float(w[0]) * np.concatenate([g.ravel() for g in self.raw(precision)])


def diagnose_hand(code, comparisons, batch_size) -> list[Diagnosis]:
    """What the hand-written gradient computes instead, input by input."""
    mine = {c.input_entry: c for c in comparisons if c.method == HAND_WRITTEN and c.probe == 0
            and c.output_entry is None}
    found = []
    for k, (a, b) in enumerate(zip(code.offsets, code.offsets[1:])):
        entries = [mine[i] for i in range(a, b) if i in mine]
        if not any(c.failed for c in entries):
            continue
        claimed = np.array([c.value for c in entries]).reshape(code.shapes[k])
        true = np.array([c.reference for c in entries]).reshape(code.shapes[k])
        tolerance = np.array([c.tolerance for c in entries]).reshape(code.shapes[k])
        name = code.names[code.positions[k]]
        for d in diagnose(claimed, true, tolerance, Context(batch_size=batch_size)):
            found.append(Diagnosis(d.kind, f"gradient of {name}: {reworded(d.explanation)}", d.evidence))
    return found


def shape_verdict(result, code, hand: HandWritten, subject, problem: str, explain: bool):
    """A gradient of the wrong shape: a discrepancy, explained (when ``explain``:
    the input is small enough to differentiate entry by entry) when the numbers
    show how."""
    result.verdict, result.reason, result.mode = DISCREPANCY, problem, "entries"
    if explain:
        numeric = numeric_entries(subject, [np.ones(1)])[0]
        for k, g in enumerate(hand.raw("native")):
            if g.shape == code.shapes[k]:
                continue
            a, b = code.offsets[k], code.offsets[k + 1]
            # Ten significant digits: the numeric estimate's last digits are its error.
            true = np.array([float(f"{v:.10g}") for v in numeric.values[a:b]]).reshape(code.shapes[k])
            tolerance = 2 * numeric.errors[a:b].reshape(code.shapes[k]) + result.rtol * np.abs(true)
            name = code.names[code.positions[k]]
            for d in diagnose(g, true, np.max(tolerance, initial=0.0), None):
                result.diagnoses.append(Diagnosis(d.kind, f"gradient of {name}: {reworded(d.explanation)}",
                                                  d.evidence))
    result.evaluations = code.calls
    return result


def reworded(explanation: str) -> str:
    # The diagnosis speaks of a document's claim; here the claim is grad_f's result.
    return explanation.replace("the claim", "grad_f's result")

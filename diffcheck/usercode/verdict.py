"""The outcome of a gradient audit of user code, in the harness's words: verdicts
of :mod:`diffcheck.vocabulary`, wrong numbers as
:class:`~diffcheck.checking.verdict.Discrepancy` records (:class:`Mismatch`), so
reports render them as they render a cross-check's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from diffcheck.checking.diagnosis import Diagnosis
from diffcheck.checking.verdict import Discrepancy
from diffcheck.usercode.probes import MAX_LOCATED, Comparison
from diffcheck.vocabulary import AGREE, DISCREPANCY, ERROR, NONDIFFERENTIABLE, OK


@dataclass
class Method:
    """A method of the check and whether it ran: a method's status of
    :mod:`diffcheck.vocabulary` (``ok``, ``unsupported``, ``error``)."""

    name: str
    status: str = OK
    reason: str = ""


@dataclass
class Mismatch(Discrepancy):
    """One compared number, as the harness's :class:`~diffcheck.checking.verdict.Discrepancy`
    record (so reports render both alike): ``backend`` is the method under test,
    ``variable`` and ``index`` the input's name and entry, ``reference_backend``
    the reference method; located to the output entry where possible.  A probe
    (``w.J.u`` along random directions) has no input entry: ``input`` is None."""

    input: int | None = None        # position among fn's arguments
    output: int | None = None
    output_entry: tuple | None = None
    probe: int | None = None
    quantity: str = "derivative"

    @property
    def method(self) -> str:
        return self.backend

    @property
    def reference_method(self) -> str:
        return self.reference_backend

    @property
    def input_name(self) -> str:
        return self.variable

    @property
    def entry(self) -> tuple | None:
        return self.index if self.input is not None else None

    @property
    def ratio(self) -> float:
        return self.abs_error / self.tolerance if self.tolerance > 0 else float("inf")

    def describe(self) -> str:
        if self.input is None:
            where = f"probe {self.probe + 1} (w.J.u along random signed directions)"
        else:
            name = f" ({self.input_name})" if self.input_name else ""
            where = f"input {self.input}{name}, entry {list(self.entry)}"
            if self.output is not None:
                where += f", output {self.output} entry {list(self.output_entry)}"
        return (f"{where}: {self.method} gives {self.value:.10g}, {self.reference_method} gives "
                f"{self.reference:.10g} ({self.quantity}; abs error {self.abs_error:.3g}, rel error "
                f"{self.rel_error:.3g}, tolerance {self.tolerance:.3g})")


@dataclass
class CallableCheck:
    """The outcome of checking one callable's derivatives at one point.

    ``verdict`` is one of :data:`diffcheck.vocabulary.VERDICTS`; ``worst`` is the
    compared number with the largest error-to-tolerance ratio (mismatched or not);
    ``mismatches`` are the wrong numbers found, located to entries where possible.
    """

    verdict: str
    reason: str = ""
    mode: str = ""                 # "entries" or "projected"
    dtype: str = ""
    rtol: float = 0.0
    atol: float = 0.0
    worst: Mismatch | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    methods: dict[str, Method] = field(default_factory=dict)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    evaluations: int = 0           # calls of the user's function
    what: str = "gradient"         # or "Hessian"

    @property
    def ok(self) -> bool:
        return self.verdict in (AGREE, NONDIFFERENTIABLE)

    def message(self) -> str:
        """A few lines: the verdict and the worst wrong number; never whole arrays."""
        lines = [f"{self.what} check: {self.verdict}" + (f": {self.reason}" if self.reason else "")]
        if self.worst is not None and self.verdict != AGREE:
            lines.append(f"worst: {self.worst.describe()}")
        lines += [f"diagnosis: {d.explanation}" for d in self.diagnoses[:2]]
        return "\n".join(lines)



def mismatch_of(code, comparison: Comparison, many_outputs: bool) -> Mismatch:
    place = {"probe": comparison.probe}
    name, index = "", ()
    if comparison.input_entry is not None:
        place["input"], name, index = code.label(comparison.input_entry)
        place["quantity"] = "gradient entry" if not many_outputs else "entry of w.J, w random signs"
        if comparison.output_entry is not None:
            place["output"], place["output_entry"] = code.output_label(comparison.output_entry)
            place["quantity"] = "Jacobian entry"
    return Mismatch(comparison.method, name, tuple(index), comparison.value, comparison.reference,
                    comparison.abs_error, comparison.rel_error, comparison.tolerance,
                    comparison.reference_method, **place)


def classify(result: CallableCheck, code, comparisons: list[Comparison], kink: str) -> None:
    many = sum(int(np.prod(s, dtype=int)) for s in code.out_shapes) > 1
    ranked = sorted(comparisons, key=lambda c: (c.failed and c.input_entry is None, -c.ratio))
    failed = [c for c in ranked if c.failed]
    # Located entries explain a failed probe better than the probe itself.
    if failed and any(c.input_entry is not None for c in failed):
        failed = [c for c in failed if c.input_entry is not None]
    failed.sort(key=lambda c: (c.output_entry is None, -c.ratio))
    result.mismatches = [mismatch_of(code, c, many) for c in failed[:MAX_LOCATED]]
    if comparisons:
        result.worst = result.mismatches[0] if result.mismatches else mismatch_of(
            code, max(comparisons, key=lambda c: c.ratio), many)
    _set_verdict(result, len(failed), kink)


def _set_verdict(result: CallableCheck, failed: int, kink: str) -> None:
    """The verdict from the wrong numbers found (``failed`` of them; the first
    :data:`MAX_LOCATED` in ``result.mismatches``), a kink, and the methods' statuses."""
    methods_failed = [m for m in result.methods.values() if m.status == ERROR]
    if failed and kink:
        result.verdict, result.reason = NONDIFFERENTIABLE, kink
    elif failed:
        result.verdict = DISCREPANCY
        count = len({(m.method, m.input, m.entry, m.output_entry) for m in result.mismatches})
        result.reason = (f"{count}{'+' if failed > MAX_LOCATED else ''} wrong "
                         f"number{'s' if count > 1 else ''} found")
    elif methods_failed:
        result.verdict = ERROR
        result.reason = "; ".join(f"{m.name} failed: {m.reason}" for m in methods_failed)

"""The outcome of a gradient audit of user code, in the harness's words: verdicts
of :mod:`diffcheck.vocabulary`, wrong numbers as
:class:`~diffcheck.checking.verdict.Discrepancy` records (:class:`Mismatch`), so
reports render them as they render a cross-check's.
"""

from __future__ import annotations

from html import escape

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

    @property
    def key(self) -> tuple:
        """What makes two mismatches the same wrong number: the methods, the entry
        (or probe) and the two values."""
        where = (self.input, self.entry, self.output, self.output_entry) if self.input is not None else self.probe
        return (self.method, self.reference_method, where, float(self.value), float(self.reference))

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

    Printed (``print(result)``, ``str(result)``) it is :meth:`message`: the verdict,
    the worst wrong number and the diagnoses in a few lines; in a REPL its repr is
    the same lines; in a notebook it is a small table.  Attributes:

    ``verdict``
        ``agree``, ``discrepancy``, ``nondifferentiable``, ``unsupported`` or
        ``error`` (:data:`diffcheck.vocabulary.VERDICTS`); ``ok`` is true for
        ``agree`` and ``nondifferentiable``.
    ``reason``
        one line on why (``"4 wrong numbers found"``); empty when all agree.
    ``mode``, ``dtype``, ``rtol``, ``atol``
        how it compared: every entry or random projections, in what precision,
        with what tolerances.
    ``worst``
        the compared number with the largest error-to-tolerance ratio, wrong or
        not (a :class:`Mismatch`; its ``describe()`` says it in a line).
    ``mismatches``
        the distinct wrong numbers found, located to entries where possible, at
        most 8; each is listed once however many probes met it.
    ``methods``
        each method's name, status and reason (:class:`Method`).
    ``diagnoses``
        what a wrong gradient computes instead, where that could be told.
    ``evaluations``
        calls of the user's function.
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

    def __str__(self) -> str:
        return self.message()

    def __repr__(self) -> str:
        # A REPL shows the result of diffcheck.check(...): the readable lines, not
        # a dump of every field and array.
        more = f"; {len(self.mismatches)} in .mismatches" if len(self.mismatches) > 1 else ""
        return (f"<CallableCheck {self.message()}\n({self.evaluations} calls of fn{more}; "
                f".message(), .worst, .mismatches, .methods, .diagnoses)>")

    def _repr_html_(self) -> str:
        """A notebook's view: the verdict, then a row per wrong number (escaped)."""
        rows = "".join(f"<tr><td>{escape(m.describe())}</td></tr>" for m in self.mismatches)
        rows += "".join(f"<tr><td><i>diagnosis:</i> {escape(d.explanation)}</td></tr>" for d in self.diagnoses)
        methods = ", ".join(f"{escape(m.name)}: {escape(m.status)}" for m in self.methods.values())
        return (f"<div><b>{escape(self.what)} check: {escape(self.verdict)}</b>"
                f"{': ' + escape(self.reason) if self.reason else ''}"
                f"<br><small>{methods}; {self.evaluations} calls of fn</small>"
                f"{'<table>' + rows + '</table>' if rows else ''}</div>")



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
    # The same entry met again (by another probe) is the same wrong number: listed
    # once; and Jacobian entries, where found, explain entries of w.J as well.
    located = {}
    for c in failed:
        mismatch = mismatch_of(code, c, many)
        located.setdefault(mismatch.key, mismatch)
    shown = [m for m in located.values() if m.output_entry is not None] or list(located.values())
    result.mismatches = shown[:MAX_LOCATED]
    if comparisons:
        result.worst = result.mismatches[0] if result.mismatches else mismatch_of(
            code, max(comparisons, key=lambda c: c.ratio), many)
    _set_verdict(result, len(located), kink)


def _set_verdict(result: CallableCheck, failed: int, kink: str) -> None:
    """The verdict from the wrong numbers found (``failed`` of them; the first
    :data:`MAX_LOCATED` in ``result.mismatches``), a kink, and the methods' statuses."""
    methods_failed = [m for m in result.methods.values() if m.status == ERROR]
    if failed and kink:
        result.verdict, result.reason = NONDIFFERENTIABLE, kink
    elif failed:
        result.verdict = DISCREPANCY
        count = len(result.mismatches)
        result.reason = (f"{count}{'+' if failed > MAX_LOCATED else ''} wrong "
                         f"number{'s' if count > 1 else ''} found")
    elif methods_failed:
        result.verdict = ERROR
        result.reason = "; ".join(f"{m.name} failed: {m.reason}" for m in methods_failed)

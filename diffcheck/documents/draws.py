"""Printed outputs that come from other random inputs.

A document that draws an input with an unseeded ``torch.randn`` and prints
outputs of several runs shows numbers no single input gives.  For a case that
names such inputs (``random_inputs``), each wrong value or gradient claim with
no other explanation is inverted: the input that reproduces the printed output
(at its printed precision) is searched for by least squares from the case's
point.  The diagnosis says which input each printed output implies.  Claims
printed at the same place (one cell) are then solved together: when no single
input reproduces them all, the cell's outputs cannot come from one input.

The search is local (Gauss-Newton from the case's point and from each claim's
implied input), so "no single input" means none was found from those starts;
the evidence says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from diffcheck.checking.diagnosis import UNEXPLAINED, Diagnosis, matches
from diffcheck.documents.hypotheses import gradient_of, value_of
from diffcheck.checking.precision import claimed as read_claimed
from diffcheck.vocabulary import REFUTED

ITERATIONS = 60


@dataclass
class Printed:
    """One printed output as a function of the random inputs."""

    number: int                                   # the claim's number
    finding: object                               # its Finding
    where: str
    value: np.ndarray                             # as printed, flattened
    tolerance: np.ndarray                         # half a unit of each printed place
    output: Callable[[np.ndarray], np.ndarray]    # flat inputs -> flat output
    implied: np.ndarray | None = None             # the input found to reproduce it
    determined: bool = False                      # whether the printed output fixes the input


class Inputs:
    """The random inputs of a case, packed into one flat vector and back."""

    def __init__(self, case):
        self.names = list(case.random_inputs)
        self.shapes = [np.shape(case.point[n]) for n in self.names]
        self.start = np.concatenate([np.ravel(case.point[n]) for n in self.names]).astype(float)

    def unpack(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        out, at = {}, 0
        for name, shape in zip(self.names, self.shapes):
            size = int(np.prod(shape))
            out[name] = np.reshape(flat[at:at + size], shape)
            at += size
        return out

    def show(self, flat: np.ndarray) -> str:
        return ", ".join(f"{n} = {_numbers(v)}" for n, v in self.unpack(flat).items())


def _jacobian(residual, x: np.ndarray, r: np.ndarray) -> np.ndarray:
    columns = []
    for i in range(x.size):
        h = 1e-6 * (1.0 + abs(x[i]))
        step = np.zeros_like(x)
        step[i] = h
        columns.append((residual(x + step) - residual(x - step)) / (2 * h))
    return np.array(columns).reshape(x.size, r.size).T


def solve(printed: list[Printed], start: np.ndarray) -> tuple[np.ndarray, bool, int]:
    """Least squares for one input reproducing every printed output: (input,
    whether each output then shows as printed, rank of the Jacobian there)."""
    def residual(x):
        return np.concatenate([(p.output(x) - p.value) / p.tolerance for p in printed])

    def reproduces(x):
        return all(matches(p.value, p.output(x), p.tolerance) for p in printed)

    x = start.copy()
    with np.errstate(all="ignore"):
        for _ in range(ITERATIONS):
            r = residual(x)
            if not np.all(np.isfinite(r)) or reproduces(x):
                break
            jac = _jacobian(residual, x, r)
            step = np.linalg.lstsq(jac, -r, rcond=None)[0]   # the smallest step when underdetermined
            cost, scale = float(r @ r), 1.0
            while scale > 1e-6 and not float(residual(x + scale * step) @ residual(x + scale * step)) < cost:
                scale /= 2
            if scale <= 1e-6:
                break
            x = x + scale * step
        r = residual(x)
        rank = int(np.linalg.matrix_rank(_jacobian(residual, x, r))) if np.all(np.isfinite(r)) else 0
        return x, bool(np.all(np.isfinite(r)) and reproduces(x)), rank


def _printed(case, claim, finding) -> Printed | None:
    spec = claim.spec
    if claim.kind not in ("value", "gradient") or spec.get("relation", "=") != "=":
        return None
    tree = claim.trees.get("expression", case.tree)
    point = claim.trees.get("at", case.point)
    compute = gradient_of(tree, spec["wrt"]) if claim.kind == "gradient" else value_of(tree)
    inputs = Inputs(case)
    value, tolerance = read_claimed(spec["claimed"], where=case.locate(claim.label))

    def output(flat):
        return np.ravel(compute({**point, **inputs.unpack(flat)})).astype(float)

    if output(inputs.start).size != value.size:
        return None
    return Printed(claim.number, finding, claim.where, value.ravel(), tolerance.ravel(), output)


def _unexplained(finding) -> bool:
    return finding.status == REFUTED and all(d.kind == UNEXPLAINED for d in finding.diagnoses)


def _set(finding, diagnoses: list[Diagnosis]) -> None:
    kept = [d for d in finding.diagnoses if d.kind != UNEXPLAINED]
    finding.diagnoses[:] = kept + diagnoses


def diagnose_draws(run, findings) -> None:
    """Add to the unexplained wrong claims of a case with random inputs the input
    each printed output implies, and whether one cell's outputs fit one input."""
    case = run.case
    if not case.random_inputs:
        return
    inputs = Inputs(case)
    printed = []
    for finding in findings:
        if _unexplained(finding) and 1 <= finding.claim <= len(case.claims):
            found = _printed(case, case.claims[finding.claim - 1], finding)
            if found is not None:
                printed.append(found)
    for p in printed:
        p.implied, reproduced, rank = solve([p], inputs.start)
        if reproduced:
            p.determined = rank == inputs.start.size
            _set(p.finding, [_implied_diagnosis(p, inputs)])
        else:
            p.implied = None
    cells: dict[str, list[Printed]] = {}
    for p in printed:
        if p.implied is not None:
            cells.setdefault(p.where, []).append(p)
    for cell in cells.values():
        if len(cell) > 1:
            _one_cell(cell, inputs)


def _implied_diagnosis(p: Printed, inputs: Inputs) -> Diagnosis:
    names = " and ".join(inputs.names)
    if p.determined:
        return Diagnosis("random_input", f"the printed output is what {inputs.show(p.implied)} gives (the "
                         f"input nearest the case's that does), not the "
                         f"case's {inputs.show(inputs.start)}: it comes from another random draw of {names}",
                         f"recomputed there: {_numbers(p.output(p.implied))}")
    return Diagnosis("random_input", f"another random draw of {names} gives the printed output (for "
                     f"example {inputs.show(p.implied)}); the output alone does not fix {names}",
                     f"recomputed there: {_numbers(p.output(p.implied))}")


def _one_cell(cell: list[Printed], inputs: Inputs) -> None:
    """Whether one input reproduces every printed output of one cell."""
    for start in [inputs.start] + [p.implied for p in cell]:
        x, reproduced, _ = solve(cell, start)
        if reproduced:
            return   # one draw explains the whole cell: each claim's own diagnosis stands
    fixed = [p for p in cell if p.determined]
    implied = "; ".join(f"claim {p.number} implies {inputs.show(p.implied)}" for p in fixed)
    at_others = "; ".join(
        f"claim {p.number} at claim {q.number}'s input would print "
        f"{_numbers(p.output(q.implied))}"
        for p in cell for q in fixed if q is not p)
    numbers = ", ".join(str(p.number) for p in cell)
    for p in cell:
        _set(p.finding, [Diagnosis(
            "inconsistent_outputs", f"the printed outputs of this cell (claims {numbers}) cannot come from "
            f"one input: {implied or 'each needs its own input'}",
            f"no single input reproduces them all (least squares from the case's input and each claim's); "
            f"{at_others}")])


def _numbers(value) -> str:
    # Rounded at 1e-6: the input is found to the printed precision, not beyond.
    value = np.round(np.asarray(value, float), 6) + 0.0
    if value.ndim == 0:
        return f"{float(value):.5g}"
    return "[" + ", ".join(f"{v:.5g}" for v in value.ravel()) + "]"

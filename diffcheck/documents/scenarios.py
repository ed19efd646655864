"""Scenarios the documents teach: gradients accumulated over repeated ``backward()``
calls, and gradient-descent trajectories.

Every method runs the scenario on its own: each backend's gradients drive its own
trajectory, and the trajectories are compared step by step with the reference's,
with a tolerance that accumulates each step's error bounds.  What the document
prints is checked against the reference's run at the precision it is printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from diffcheck.backends import BACKENDS, REFERENCE
from diffcheck.checking.diagnosis import Context
from diffcheck.checking.harness import (
    AGREE,
    DISCREPANCY,
    ERROR,
    make_problem,
    run_backend,
)
from diffcheck.documents.catalogue import Claim
from diffcheck.documents.claims import (
    REFUTED,
    CaseRun,
    Finding,
    compare_claimed,
    true_gradient,
)
from diffcheck.checking.precision import claimed as read_claimed

EPS = float(np.finfo(np.float64).eps)
SAFETY = 4.0


@dataclass
class ScenarioCheck:
    """How the methods' runs of one scenario compare."""

    claim: int
    kind: str
    verdict: str                 # agree | discrepancy | error
    reason: str = ""
    reference: str = REFERENCE
    steps: int = 0
    runs: dict = field(default_factory=dict)   # backend -> list of per-step records


def check_accumulate(run: CaseRun, claim: Claim) -> list[Finding]:
    case, spec = run.case, claim.spec
    wrt = spec["wrt"]
    repeat = spec.get("repeat", 1)
    calls = claim.trees.get("calls", [case.tree]) * repeat
    texts = spec.get("calls", [case.expression]) * repeat
    zero_after = set(spec.get("zero_after", []))
    results = [run.check(tree, case.point, [wrt]) for tree in calls]

    names = [n for n in (run.backends or BACKENDS)]
    runs: dict[str, list] = {}
    for name in [*names, "truth"]:
        total, record = 0.0, []
        for number, result in enumerate(results, start=1):
            if name == "truth":
                g, _ = true_gradient(result, wrt)
            else:
                g = result.gradients.get(name, {}).get(wrt)
            if g is None:
                record = None
                break
            total = total + np.asarray(g, float)
            record.append({"call": number, "expression": texts[number - 1], "grad": total})
            if number in zero_after:
                total = 0.0
        runs[name] = record
    check = _compare_runs(claim, runs, results, wrt, zero_after)
    run.scenarios.append(check)

    findings = []
    truth = runs["truth"]
    for number, text in enumerate(spec.get("shown", []), start=1):
        if not text.strip() or truth is None:
            continue
        context = Context(batch_size=case.batch_size)
        findings.append(compare_claimed(run, claim, f"{wrt}.grad after call {number} ({texts[number - 1]})",
                                 text, truth[number - 1]["grad"], context))
    return findings


def _compare_runs(claim, runs, results, wrt, zero_after) -> ScenarioCheck:
    check = ScenarioCheck(claim.number, claim.kind, AGREE, steps=len(results),
                          runs={n: r for n, r in runs.items() if n != "truth" and r is not None})
    failed = [n for n, r in runs.items() if r is None and n != "truth"]
    for name, record in check.runs.items():
        bound = 0.0
        for number, (step, result) in enumerate(zip(record, results), start=1):
            tolerance = result.tolerances.get(name, {}).get(wrt)
            bound = bound + (np.zeros(()) if tolerance is None else np.asarray(tolerance, float))
            true = runs["truth"][number - 1]["grad"] if runs["truth"] else step["grad"]
            if np.any(np.abs(step["grad"] - true) > SAFETY * bound + 16 * EPS * np.abs(true)):
                check.verdict = DISCREPANCY
                check.reason = (f"{name}'s accumulated {wrt}.grad departs from the reference at call "
                                f"{number}: {step['grad'].tolist()} vs {np.asarray(true).tolist()}")
                return check
            if number in zero_after:
                bound = 0.0
    if failed:
        check.verdict = ERROR if check.verdict == AGREE and len(check.runs) < 2 else check.verdict
        check.reason = f"not run by {', '.join(failed)} (the method failed at some call)"
    return check


def check_descent(run: CaseRun, claim: Claim) -> list[Finding]:
    case, spec = run.case, claim.spec
    parameters = list(spec["parameters"])
    rate = float(read_claimed(str(spec["learning_rate"]))[0])
    steps = int(spec["steps"])
    zero_grad = spec.get("zero_grad", True)
    problem = make_problem(case.tree, case.point, parameters, where=case.locate(claim.label))

    # Documents repeat one training loop written three ways (by hand, with
    # autograd, with an optimizer): the same run is computed once per case.
    key = ("descent", tuple(parameters), rate, steps, zero_grad)
    if key not in run.memo:
        runs: dict[str, list] = {}
        reasons = {}
        for name in (run.backends or BACKENDS):
            record, reason = _trajectory(BACKENDS[name], problem, case.point, parameters, rate, steps,
                                         zero_grad)
            runs[name] = record
            if reason:
                reasons[name] = reason
        run.memo[key] = runs, reasons
    runs, reasons = run.memo[key]
    reference = next((n for n in (REFERENCE, "numeric", "engine", "torch") if n in runs and n not in reasons),
                     None)
    check = ScenarioCheck(claim.number, claim.kind, AGREE, reference=reference or "", steps=steps,
                          runs={n: r for n, r in runs.items()})
    run.scenarios.append(check)
    if reference is None:
        check.verdict, check.reason = ERROR, "; ".join(f"{n}: {r}" for n, r in reasons.items())
        return []
    _compare_trajectories(check, runs, reference, reasons, rate)

    findings = []
    truth = runs[reference]
    for shown in spec.get("shown", []):
        step = shown["step"]
        if step >= len(truth):
            findings.append(run.finding(claim, f"step {step}", REFUTED,
                                        f"step {step} is past the {steps} steps run"))
            continue
        record = truth[step]
        context = Context(batch_size=case.batch_size)
        if "loss" in shown:
            findings.append(compare_claimed(run, claim, f"step {step}: value of {case.expression}",
                                     shown["loss"], record["value"], context))
        for part, label in (("before", "at the start of"), ("grad", "gradient at"), ("after", "after")):
            for variable, text in shown.get(part, {}).items():
                subject = (f"step {step}: {variable}.grad" if part == "grad"
                           else f"step {step}: {variable} {label} the step")
                findings.append(compare_claimed(run, claim, subject, text, record[part][variable], context))
    return findings


def _trajectory(backend, problem, start, parameters, rate, steps, zero_grad):
    point = dict(start)
    held = {p: np.zeros_like(start[p]) for p in parameters}
    record = []
    for step in range(steps):
        result = run_backend(backend, problem, point)
        if not result.ok:
            return record, f"step {step}: {result.status}: {result.reason}"
        grads = {p: np.asarray(result.gradients[p], float) + (0 if zero_grad else held[p]) for p in parameters}
        held = grads
        after = {p: point[p] - rate * grads[p] for p in parameters}
        record.append({"step": step, "value": float(result.value),
                       "before": {p: point[p] for p in parameters}, "grad": grads, "after": after,
                       "error": {p: np.asarray(result.errors.get(p, 0.0), float) for p in parameters}})
        point = {**point, **after}
    return record, ""


def _compare_trajectories(check, runs, reference, reasons, rate) -> None:
    truth = runs[reference]
    for name, record in runs.items():
        if name == reference or name in reasons:
            continue
        bound = {p: 0.0 for p in truth[0]["after"]} if truth else {}
        for mine, ref in zip(record, truth):
            for p in bound:
                gradient_error = (2 * mine["error"][p] + 2 * ref["error"][p]
                                  + 64 * EPS * (np.abs(ref["grad"][p]) + np.max(np.abs(ref["grad"][p]))))
                bound[p] = bound[p] + rate * gradient_error
                allowed = SAFETY * bound[p] + 64 * EPS * np.abs(ref["after"][p])
                if np.any(np.abs(mine["after"][p] - ref["after"][p]) > allowed):
                    check.verdict = DISCREPANCY
                    check.reason = (f"{name}'s trajectory departs from {reference}'s at step {mine['step']}: "
                                    f"{p} = {mine['after'][p].tolist()} vs {ref['after'][p].tolist()}")
                    return
    if reasons:
        check.reason = "; ".join(f"{n} stopped at {r}" for n, r in reasons.items())
        check.verdict = ERROR


CHECKERS = {"accumulate": check_accumulate, "descent": check_descent}

"""Where a derivation goes wrong, and what the wrong step should be.

A derivation's steps are each checked against the truth (the derivative, or the
first step); this module reads the refuted steps together.  The first refuted
step is where the derivation breaks: it does not follow from the step before,
which is right.  What it should be is searched for as one slip of the pen: a
single arithmetic operator written for another (``-`` for ``*``) or a stray
unary minus, such that the step with that one change equals the truth at every
point it was checked at.  A later wrong step that equals the first wrong one
only carries its mistake forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffcheck.checking.diagnosis import UNEXPLAINED, Diagnosis, matches
from diffcheck.language.expr import Apply, Expr, evaluate, fold, postorder, to_text
from diffcheck.language.ops import op_named
from diffcheck.vocabulary import CONFIRMED, REFUTED

ARITHMETIC = ("add", "sub", "mul", "div")
SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
MAX_EDITS = 200   # a step's candidate one-character slips; larger steps are not searched


@dataclass
class Step:
    """One checked step: its number (1-based), text, tree, finding and verdict."""

    number: int
    text: str
    tree: Expr
    finding: object          # diffcheck.documents.findings.Finding
    verdict: object          # diffcheck.documents.equivalence.Verdict


def _replace(root: Expr, target: Expr, make) -> Expr:
    """``root`` with the node ``target`` rebuilt by ``make(target, new_args)``."""
    def leaf(node):
        return node

    def apply(node, args):
        if node is target:
            return make(node, args)
        if all(a is b for a, b in zip(args, node.args)):
            return node
        return Apply(node.op, tuple(args), node.params, node.column)

    return fold(root, leaf, apply)


def one_edits(tree: Expr):
    """Every step one slip away from ``tree``: (edited tree, what changed)."""
    edits = []
    for node in postorder(tree):
        if not isinstance(node, Apply):
            continue
        name = node.op.name
        if name in ARITHMETIC:
            for other in ARITHMETIC:
                if other != name:
                    edits.append((_replace(tree, node, lambda n, args, o=other: Apply(
                        op_named(o), tuple(args), n.params, n.column)),
                        f"'{SYMBOL[name]}' where '{SYMBOL[other]}' belongs"))
        elif name == "neg":
            edits.append((_replace(tree, node, lambda n, args: args[0]), "a stray minus sign"))
        if len(edits) > MAX_EDITS:
            return []
    return edits


def _equal_everywhere(tree: Expr, verdict) -> bool:
    """Whether ``tree`` gives the truth at every point the step was checked at."""
    try:
        with np.errstate(all="ignore"):
            values = np.array([np.asarray(evaluate(tree, p), float) for p in verdict.points])
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return False
    true = verdict.true_values
    return values.shape == true.shape and matches(true, values, verdict.tolerances)


def repair(step: Step):
    """The one-slip change that makes ``step`` right, as (text, what changed), or None."""
    if step.verdict.true_values is None or not step.verdict.points:
        return None
    for edited, change in one_edits(step.tree):
        if _equal_everywhere(edited, step.verdict):
            return to_text(edited), change
    return None


def _carries(step: Step, first: Step) -> bool:
    """Whether ``step`` has the same values as the first wrong step where it was checked."""
    verdict = step.verdict
    if verdict.claimed_values is None or not verdict.points:
        return False
    try:
        with np.errstate(all="ignore"):
            values = np.array([np.asarray(evaluate(first.tree, p), float) for p in verdict.points])
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return False
    return values.shape == verdict.claimed_values.shape and matches(
        verdict.claimed_values, values, verdict.tolerances)


def _add(finding, diagnosis: Diagnosis) -> None:
    kept = [d for d in finding.diagnoses if d.kind != UNEXPLAINED]
    finding.diagnoses[:] = [diagnosis, *kept]


def diagnose_steps(steps: list[Step], reference: str) -> None:
    """Add to the refuted steps' findings where the derivation breaks; ``reference``
    names what every step should equal (``"d/dz of 1/(1 + exp(-z))"``)."""
    wrong = [s for s in steps if s.finding.status == REFUTED]
    if not wrong:
        return
    first = wrong[0]
    before = next((s for s in steps if s.number == first.number - 1), None)
    follows = (f"it does not follow from step {before.number}, {before.text}, which is right"
               if before is not None and before.finding.status == CONFIRMED else f"it is not {reference}")
    fixed = repair(first)
    if fixed is not None:
        text, change = fixed
        should = f"; with {change} it would be right: {text}"
        evidence = f"the corrected step equals {reference} at {len(first.verdict.points)} points"
    else:
        should = f"; it should equal {before.text if before is not None else reference}"
        evidence = "no single changed operator or sign makes the step right"
    _add(first.finding, Diagnosis("derivation_step", f"step {first.number} is the first wrong step: "
                                  f"{follows}{should}", evidence))
    for step in wrong[1:]:
        if _carries(step, first):
            _add(step.finding, Diagnosis("derivation_carried", f"step {step.number} equals step "
                                         f"{first.number}, the first wrong step: it carries that mistake",
                                         f"equal at {len(step.verdict.points)} points"))

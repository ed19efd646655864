"""Gradient descents in a code cell's record: parameters stepped together, with
one learning rate, on one loss, read as one `descent` claim (plus a `formula`
claim for each hand-written step whose gradient's name says nothing). Also the
tree helpers `assemble` shares with it: a tree at step 0, its root's name, and
why claims on it cannot be made outside a descent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from diffcheck.reading.code.claims import where_of
from diffcheck.reading.code.values import Leaf, Renderer, leaves, strip


@dataclass
class Descent:
    parameters: list
    loss: tuple                 # the loss tree at version 0
    text: str                   # the loss rendered (versions do not show)
    case: int
    claim: dict
    shown: dict = field(default_factory=dict)   # step -> shown table


class _Place:
    """Where a case starts when no event says so (a gradient step's line)."""

    def __init__(self, location, cell, quote):
        self.location, self.cell, self.quote = location, cell, quote


def _problem(tree) -> str | None:
    """Why claims on `tree` cannot be made outside a descent, or None."""
    for leaf, versions in leaves(tree).items():
        if leaf.random and leaf.value is None:
            return "depends on random input"
        if versions != {0}:
            return "depends on values after gradient steps the reader could not model as one descent"
    return None


def _at_zero(tree):
    if tree[0] == "leaf":
        return ("leaf", tree[1], 0)
    if tree[0] == "op":
        return ("op", tree[1], tuple(_at_zero(a) for a in tree[2]), tree[3])
    if tree[0] == "named":
        return ("named", tree[1], _at_zero(tree[2]))
    return tree


def _root_name(tree) -> str:
    if tree[0] == "named":
        return tree[1]
    if tree[0] == "leaf":
        return tree[1].name or "value"
    if tree[0] == "op" and tree[1] == "sum" and tree[2][0][0] == "op" and tree[2][0][1] == "mul":
        return _root_name(tree[2][0][2][1])
    return "expression"


def _named_loss(interp, leaf):
    """For hand-written steps whose gradient's name says nothing: the one loss (a
    scalar bound to a loss-like name) the code computes from the parameter."""
    texts = {}
    for name, value in interp.named_losses:
        if leaf in leaves(value.tree):
            tree = _at_zero(value.tree)
            texts.setdefault(Renderer().render(tree), tree)
    return next(iter(texts.values())) if len(texts) == 1 else None


def _descents(interp, builder) -> list[Descent]:
    """One descent per group of parameters stepped together on one loss."""
    groups: dict = {}
    for leaf in interp.leaves:
        read = _step_losses(interp, leaf)
        if read is None:
            continue
        trees, zero, manual, guessed = read
        # One loss for every step: the same tree over the same leaves (a per-sample
        # loop renders alike but reads a different sample each step).
        if len({_at_zero(strip(t)) for t in trees}) != 1:
            continue
        updates = leaf.updates
        texts = {Renderer().render(_at_zero(trees[0]))}
        first = updates[0]
        place = (_Place(first.location, -1, first.quote) if manual else first.contributions[-1][1])
        key = (_at_zero(strip(trees[0])), texts.pop(), updates[0].lr, zero, len(updates), manual)
        groups.setdefault(key, {"leaves": [], "tree": _at_zero(trees[0]), "place": place, "formulas": []})
        groups[key]["leaves"].append(leaf)
        if guessed is not None:
            groups[key]["formulas"].append((leaf, updates[0]))
    descents = []
    for key, group in groups.items():
        if _problem(group["tree"]):
            continue
        descents.append(_descent(builder, key, group))
    return descents


def _step_losses(interp, leaf: Leaf):
    """(the loss of each step, whether gradients were zeroed between steps, whether the
    steps are hand-written, the loss guessed from names or None) for a leaf whose steps
    read as one descent; None for a leaf that was not stepped or not that way."""
    updates = leaf.updates
    if not updates:
        return None
    if any(u.version != k for k, u in enumerate(updates)) or len({u.lr for u in updates}) != 1:
        return None
    if updates[0].manual is not None:
        return _manual_step_losses(interp, leaf)
    if any(u.manual is not None or not u.contributions for u in updates):
        return None
    trees = [u.contributions[-1][0] for u in updates]
    counts = [len(u.contributions) for u in updates]
    if all(c == 1 for c in counts):
        return trees, True, False, None
    if counts == list(range(1, len(updates) + 1)):
        return trees, False, False, None
    return None


def _manual_step_losses(interp, leaf: Leaf):
    updates = leaf.updates
    if any(u.manual is None for u in updates):
        return None
    if all(u.loss is not None for u in updates):
        return [u.loss for u in updates], True, True, None
    guessed = _named_loss(interp, leaf)
    if guessed is None:
        return None
    return [guessed] * len(updates), True, True, guessed


def _descent(builder, key, group) -> Descent:
    """The descent claim of one group, with the formulas its hand-written steps use."""
    _, text, lr, zero, steps, manual = key
    tree, place = group["tree"], group["place"]
    parameters = group["leaves"]
    index = builder.case_for_root(tree, place, f"{_root_name(tree)}-descent")
    renderer = builder.meta[index]["renderer"]
    claim = {"kind": "descent", "where": builder.cases[index]["where"],
             "parameters": [renderer.leaf_name(p) for p in parameters],
             "learning_rate": lr, "steps": steps}
    if not zero:
        claim["zero_grad"] = False
    if manual:
        claim["note"] = "the code steps with its hand-written gradient; checked against the true one"
        claim["review"] = True
    for leaf, update in group["formulas"]:
        # The step's gradient, read as the derivative of the loss the names point to.
        if _problem(update.manual) is None:
            builder.add_claim(index, {
                "kind": "formula", "where": where_of(update.location), "quote": update.quote,
                "wrt": renderer.leaf_name(leaf), "formula": builder.render(index, update.manual),
                "review": True, "note": "the gradient this step uses, read as the derivative of the "
                                        "loss the code computes from the same parameter"})
    return Descent(parameters, tree, text, index, claim)

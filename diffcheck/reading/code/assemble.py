"""Turning the interpreter's record and the matched outputs into claims and cases.

See `claims.py` for the claim kinds produced and `outputs.py` for how printed
text is matched to prints. The rules that decide where a printed number goes:
a number depending on a parameter that gradient steps updated belongs to that
parameter group's `descent` (as its loss, a parameter, or a gradient at a step);
a printed `.grad` of a leaf no step updated is a `gradient` claim on the case of
the `backward()` call(s) behind it; any other printed number is a `value` claim
on the latest case whose variables cover it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from diffcheck.errors import DiffcheckError
from diffcheck.checking.precision import claimed as read_claimed
from diffcheck.reading.document import Unread
from diffcheck.reading.code.claims import Builder, claimed_text, where_of
from diffcheck.reading.code.descents import _at_zero, _descents, _problem, _root_name
from diffcheck.reading.code.values import Leaf, Renderer, leaves, strip


@dataclass
class Observation:
    part: object
    claimed: str
    event: object
    review: bool

    @property
    def beyond_float32(self) -> bool:
        """Printed with more digits than float32 holds (`.item()` of a float32 tensor
        shows 0.30000001192092896): the last digits are float32's, not the math's."""
        dtype = self.part.leaf.dtype if self.part.kind == "grad" else self.part.val.dtype
        digits = max((len(d.lstrip("0.").replace(".", "")) for d in re.findall(r"\d[\d.]*", self.claimed)
                      if "." in d), default=0)
        # float32 holds about 7 significant digits, fewer after a few operations.
        return dtype == "float32" and digits > 6


FLOAT32_NOTE = "printed with more digits than float32 holds; its last digits are rounding of float32"


def assemble(interp, matches, expected_error=lambda event: False) -> tuple[list[dict], list[Unread]]:
    """Cases and unread passages; `expected_error(event)` says whether the document
    shows or announces the error a `runs` event found (then it is no claim)."""
    builder = Builder()
    observations = _observations(interp, matches, expected_error, builder)
    observations = [o for o in observations if not _reads_random_leaf(o)]
    descents = _descents(interp, builder)
    by_leaf = {leaf: d for d in descents for leaf in d.parameters}
    grads_printed = {}
    for obs in observations:
        if obs.part.kind == "grad":
            grads_printed[(id(obs.event), obs.part.leaf)] = obs.claimed
            _gradient(builder, obs, by_leaf)
        elif obs.part.val.gradient_of is not None:
            _manual_gradient(builder, obs, by_leaf)
    for leaf in interp.leaves:
        if not leaf.updates and leaf not in by_leaf:
            _accumulate(builder, leaf, grads_printed)
    for event in interp.events:
        if event.kind == "formula":
            _formula(builder, event)
    for obs in observations:
        if obs.part.kind == "value" and obs.part.val.gradient_of is None:
            _value(builder, obs, by_leaf, descents)
    for descent in descents:
        _add_shown(builder, descent)
    return builder.finish(), builder.unread


def _observations(interp, matches, expected_error, builder) -> list[Observation]:
    """The printed numbers matched to the document's outputs; the record's errors,
    unread passages and unreadable printed parts go to `builder`."""
    observations: list[Observation] = []
    for event in interp.events:
        if event.kind == "runs" and expected_error(event):
            builder.unread.append(Unread(event.location, event.quote, "the code stops with an error the "
                                         f"document shows or announces: {event.message}"))
        elif event.kind == "runs":
            builder.runs_case(event)
        elif event.kind == "unread":
            builder.unread.append(Unread(event.location, event.quote, event.message))
        elif event.kind == "print" and id(event) in matches:
            observations.extend(_printed(event, matches[id(event)], builder))
    return observations


def _printed(event, matched, builder) -> list[Observation]:
    found = []
    for part, text in zip(event.parts, matched.texts):
        if text is None or part.kind in ("text", "opaque"):
            continue
        if part.kind == "unknown":
            builder.unread.append(Unread(event.location, event.quote, part.reason))
            continue
        claimed = claimed_text(text)
        if claimed is None:
            builder.unread.append(Unread(event.location, event.quote,
                                         f"the printed text {text.strip()[:60]!r} is not a number"))
            continue
        found.append(Observation(part, claimed, event, matched.review))
    return found


def _add_shown(builder, descent) -> None:
    """A descent's claim, with the steps its printed numbers show, if any."""
    shown = [descent.shown[s] for s in sorted(descent.shown)]
    if not shown:
        return
    descent.claim["shown"] = shown
    last = max(s["step"] for s in shown if set(s) & {"loss", "grad"}) if any(
        set(s) & {"loss", "grad"} for s in shown) else -1
    descent.claim["steps"] = max(descent.claim["steps"], last + 1)
    builder.add_claim(descent.case, descent.claim)


def _reads_random_leaf(obs: Observation) -> bool:
    """A random leaf printed on its own: its printed values become its values."""
    if obs.part.kind != "value":
        return False
    tree = strip(obs.part.val.tree)
    if tree[0] != "leaf" or not tree[1].random:
        return False
    leaf = tree[1]
    if leaf.value is None:
        try:
            value, half_units = read_claimed(obs.claimed)
        except (DiffcheckError, ValueError):
            return True
        if leaf.shape is None or np.shape(value) == tuple(leaf.shape):
            leaf.value = np.asarray(value, float).tolist()
            leaf.read_from_output = True
            # The printed digits are all that is known of the draw: a unit of the last one.
            leaf.printed_unit = 2 * float(np.max(half_units))
    return True


def _unread(builder, obs, reason) -> None:
    builder.unread.append(Unread(obs.event.location, obs.event.quote, reason))


def _claim(obs, kind: str, **fields) -> dict:
    claim = {"kind": kind, "where": where_of(obs.event.location), "quote": obs.event.quote, **fields}
    if obs.review:
        claim["review"] = True
    if obs.beyond_float32:
        claim["review"] = True
        claim["note"] = (claim.get("note", "") + "; " + FLOAT32_NOTE).lstrip("; ")
    return claim


def _shown(descent, step: int, part: str, name: str | None, obs) -> None:
    """Put a printed number into a descent's shown step."""
    entry = descent.shown.setdefault(step, {"step": step})
    if name is None:
        entry.setdefault(part, obs.claimed)
    else:
        entry.setdefault(part, {}).setdefault(name, obs.claimed)
    if obs.review or obs.beyond_float32:
        descent.claim["review"] = True
    if obs.beyond_float32 and FLOAT32_NOTE not in descent.claim.get("note", ""):
        descent.claim["note"] = (descent.claim.get("note", "") + "; " + FLOAT32_NOTE).lstrip("; ")


def _gradient(builder, obs, by_leaf) -> None:
    leaf, contributions = obs.part.leaf, obs.part.contributions
    if not contributions:
        return
    if leaf in by_leaf:
        descent = by_leaf[leaf]
        step = max(leaves(contributions[-1][0]).get(leaf, {0}))
        name = builder.meta[descent.case]["renderer"].leaf_name(leaf)
        _shown(descent, step, "grad", name, obs)
        return
    trees = [c[0] for c in contributions]
    problem = next((p for p in map(_problem, trees) if p), None)
    if problem:
        return _unread(builder, obs, problem)
    last = contributions[-1]
    if len(contributions) > 1 and len({strip(t) for t in trees}) == 1:
        # The same backward() repeated (a loop showing how gradients add up): the
        # accumulate claim says what it shows; it is no claim about one derivative.
        return
    root = _root_name(last[0])
    index = builder.case_for_root(last[0], last[1], f"{root}-backward")
    name = builder.meta[index]["renderer"].leaf_name(leaf)
    fields = {"wrt": name, "claimed": obs.claimed}
    if len(contributions) > 1:
        fields["earlier"] = [builder.render(index, t) for t in trees[:-1]]
        fields["note"] = (f"{name}.grad after {len(contributions)} backward() calls without zeroing "
                          "in between, read as the gradient of the last")
        fields["review"] = True
    builder.add_claim(index, _claim(obs, "gradient", **fields), last[0])


def _manual_gradient(builder, obs, by_leaf) -> None:
    loss, leaf = obs.part.val.gradient_of
    if leaf in by_leaf:
        descent = by_leaf[leaf]
        step = max(leaves(loss.tree).get(leaf, {0}))
        name = builder.meta[descent.case]["renderer"].leaf_name(leaf)
        _shown(descent, step, "grad", name, obs)
        return
    problem = _problem(loss.tree) or _problem(obs.part.val.tree)
    if problem:
        return _unread(builder, obs, problem)
    index = builder.case_for_root(loss.tree, obs.event, f"{_root_name(loss.tree)}-manual-gradient")
    name = builder.meta[index]["renderer"].leaf_name(leaf)
    shown = obs.part.val.tree[1] if obs.part.val.tree[0] == "named" else "it"
    claim = _claim(obs, "gradient", wrt=name, claimed=obs.claimed,
                   note=f"hand-written gradient {shown}: its name makes it the derivative of "
                        f"{_root_name(loss.tree)} with respect to {name}")
    claim["review"] = True
    builder.add_claim(index, claim)


def _formula(builder, event) -> None:
    loss, leaf = event.extra["loss"], event.leaf
    if _problem(loss.tree) or _problem(event.val.tree):
        return
    index = builder.case_for_root(loss.tree, event, f"{_root_name(loss.tree)}-manual-gradient")
    name = builder.meta[index]["renderer"].leaf_name(leaf)
    formula = builder.render(index, event.val.tree)
    builder.add_claim(index, {"kind": "formula", "where": where_of(event.location), "quote": event.quote,
                              "wrt": name, "formula": formula, "review": True,
                              "note": f"{event.extra['name']} is written by hand; its name makes it the "
                                      f"derivative of {_root_name(loss.tree)} with respect to {name}"},
                      event.val.tree)


def _accumulate(builder, leaf: Leaf, grads_printed) -> None:
    calls, zero_after, shown, current = [], [], [], ""
    for entry in leaf.history:
        if entry[0] == "call":
            if calls:
                shown.append(current)
            calls.append(entry)
            current = ""
        elif entry[0] == "zero" and calls:
            if len(calls) not in zero_after:
                zero_after.append(len(calls))
        elif entry[0] == "print" and calls:
            current = grads_printed.get((id(entry[1]), leaf), current)
    if calls:
        shown.append(current)
    if len(calls) < 2 or not any(shown):
        return
    trees = [c[1] for c in calls]
    if any(_problem(t) for t in trees):
        return
    last_event = calls[-1][2]
    index = builder.case_for_root(trees[-1], last_event, f"{_root_name(trees[-1])}-backward")
    name = builder.meta[index]["renderer"].leaf_name(leaf)
    texts = [builder.render(index, t) for t in trees]
    first = calls[0][2]
    claim = {"kind": "accumulate", "wrt": name,
             "where": f"{where_of(first.location)} to {where_of(last_event.location)}",
             "quote": last_event.quote, "calls": texts, "shown": shown}
    if zero_after:
        claim["zero_after"] = zero_after
    for tree in trees:
        builder.meta[index]["leaves"] |= set(leaves(tree))
    builder.add_claim(index, claim)


def _value(builder, obs, by_leaf, descents) -> None:
    tree = obs.part.val.tree
    used = leaves(tree)
    involved = [d for d in descents if set(d.parameters) & set(used)]
    if involved:
        descent = involved[0]
        stripped = strip(tree)
        renderer = builder.meta[descent.case]["renderer"]
        if stripped[0] == "leaf" and stripped[1] in descent.parameters:
            version, name = stripped[2], renderer.leaf_name(stripped[1])
            step, part = (0, "before") if version == 0 else (version - 1, "after")
            _shown(descent, step, part, name, obs)
            return
        versions = {v for leaf in descent.parameters for v in used.get(leaf, ())}
        others_settled = all(vs == {0} for leaf, vs in used.items() if leaf not in descent.parameters)
        if len(versions) == 1 and others_settled and Renderer().render(_at_zero(stripped)) == descent.text:
            step = versions.pop()
            _shown(descent, step, "loss", None, obs)
            return
    problem = _problem(tree)
    if problem:
        return _unread(builder, obs, problem if "random" in problem else
                       "a value after gradient steps that is neither the loss nor a parameter")
    index = builder.case_containing(tree, obs.event)
    fields = {"claimed": obs.claimed}
    if builder.render(index, tree) != builder.cases[index]["expression"]:
        fields["expression"] = builder.render(index, tree, top=False)
    builder.add_claim(index, _claim(obs, "value", **fields), tree)



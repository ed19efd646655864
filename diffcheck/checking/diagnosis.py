"""Why a stated number is wrong, when the numbers show it.

A document claims a value; the reference gives another.  Each explanation below
is a hypothesis tested against the numbers: a constant factor (a missing 1/m, a
factor of 2), a flipped sign, the sum of a vector gradient's entries (a vector
parameter treated as one shared scalar), earlier gradients accumulated without
zeroing, a transpose, a unit vector written for the vector, a shape that cannot
match, or a value recomputed another way (data the document gives elsewhere,
two variables' roles swapped, another random draw).  Each comes with the
evidence that supports it; when none fits, the diagnosis says "unexplained".

Every hypothesis is tested at the precision the claim is printed with, by the
same test the claim check uses (:func:`matches`): the candidate explanation,
rounded to the claim's printed places, must give the claimed number.  So
``-0.6667`` is a flipped sign of 0.6666667 and ``0.3333`` half of it.

The diagnoses are a table of small functions (:data:`SAME_SHAPE`,
:data:`OTHER_SHAPE`), tried in order; each returns what it found, or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Mapping, Sequence

import numpy as np

UNEXPLAINED = "unexplained"
SLACK = 1e-9   # relative: a value exactly on a rounding boundary, up to float rounding, still shows


@dataclass
class Diagnosis:
    kind: str           # a short name: "factor", "sign", "shared_scalar", "accumulated", ...
    explanation: str    # one sentence for the report
    evidence: str = ""  # the numbers behind it


@dataclass
class Variant:
    """The claimed quantity recomputed under another hypothesis, to compare with the claim.

    ``value()`` is called only when the diagnosis gets that far (it may be costly);
    it returns an array of the true value's shape, or ``None`` when it cannot be
    computed.  ``kind``, ``explanation`` and ``evidence`` become the diagnosis."""

    kind: str
    explanation: str
    evidence: str
    value: Callable[[], np.ndarray | None]


@dataclass
class Context:
    """What else the document tells about the claim, to test hypotheses against.

    ``batch_size`` is m for "missing 1/m"; ``earlier_gradients`` are gradients of
    earlier ``backward()`` calls into the same leaf; ``alternatives`` maps a label
    for data the document gives differently elsewhere (``"X row 7 = [-4.0, 0.1]"``)
    to the changes it makes (``"X[7, 0] = -4"``), and ``recompute(label)`` gives
    the true value with that data.  ``gradient_norm`` is the length of the whole
    gradient the true value is part of (one component of it, or each sample
    point's, broadcastable to the true value; or a function giving it, called
    only when needed); ``None`` means the true value is the whole vector.  ``variants`` are further recomputations (roles swapped,
    another random draw), tried in order.
    """

    batch_size: int | None = None
    earlier_gradients: Sequence[np.ndarray] = ()
    recompute: Callable[[str], np.ndarray] | None = None
    alternatives: Mapping[str, str] = field(default_factory=dict)
    gradient_norm: np.ndarray | float | Callable[[], float | None] | None = None
    variants: Sequence[Variant] = ()


def matches(claimed, value, tolerance, slack: float = SLACK) -> bool:
    """Whether ``value`` shows as ``claimed`` at the claim's precision: every entry
    within half a unit of the claim's last printed place (``tolerance``).

    One number in brackets (``[8.9]`` for a scalar) is notation, not a wrong
    value; any other difference in shape is no match."""
    claimed, value = np.asarray(claimed, float), np.asarray(value, float)
    if claimed.shape != value.shape and not (claimed.size == value.size == 1):
        return False
    if not np.all(np.isfinite(value)):
        return False
    tolerance = np.broadcast_to(np.asarray(tolerance, float), claimed.shape).ravel()
    claimed, value = claimed.ravel(), value.ravel()
    bound = tolerance * (1 + slack) + slack * np.abs(claimed)
    return bool(np.all(np.abs(value - claimed) <= bound))


@dataclass
class _Claim:
    """One wrong claim as the diagnoses see it."""

    claimed: np.ndarray
    true: np.ndarray
    tolerance: np.ndarray
    context: Context

    def shows(self, value) -> bool:
        return matches(self.claimed, value, self.tolerance)


# ---------------------------------------------------------------- constant factors

def _plain_factors(m: int | None) -> list[tuple[float, str]]:
    """The slips a constant factor claimed / true names, simplest first."""
    factors = [(-1.0, "a flipped sign"), (2.0, "a factor of 2 too many"), (0.5, "a lost factor of 2"),
               (-2.0, "a flipped sign and a factor of 2 too many"),
               (-0.5, "a flipped sign and a lost factor of 2")]
    if m and m > 1:
        factors += [(float(m), f"a missing 1/m (m = {m})"), (1.0 / m, f"an extra 1/m (m = {m})"),
                    (-float(m), f"a flipped sign and a missing 1/m (m = {m})"),
                    (-1.0 / m, f"a flipped sign and an extra 1/m (m = {m})")]
    return factors


def _small_fractions() -> list[Fraction]:
    """Other small plain factors (3, 1/3, 3/2...): any ratio is some fraction, and
    14/11 explains nothing, so only numerators and denominators up to 4."""
    found = {Fraction(p, q) * s for p in range(1, 5) for q in range(1, 5) for s in (1, -1)}
    return sorted(found - {Fraction(1)}, key=lambda f: (abs(f.numerator) + f.denominator, -f))


def factor(c: _Claim) -> list[Diagnosis]:
    """The claim is the true value times a constant: a sign, a 2, a 1/m.

    At a coarse precision several factors may show as the claim ("1" for 0.6 is
    0.6 times 3/2 or 4/3 or 5/3...); then the numbers cannot tell which, and none
    is named.  With m = 2, "a lost factor of 2" and "an extra 1/m" are the same
    number: both readings are given."""
    if not np.any(np.abs(c.true) > 0):
        return []
    plain = [(k, name) for k, name in _plain_factors(c.context.batch_size) if c.shows(k * c.true)]
    others = [float(f) for f in _small_fractions() if c.shows(float(f) * c.true)]
    fitting = {k for k, _ in plain} | set(others)
    if len(fitting) != 1:   # none, or the precision cannot tell which
        return []
    k = fitting.pop()
    names = [name for value, name in plain if value == k]
    if not names:
        return [Diagnosis("factor", f"the claim is the true value times {Fraction(k).limit_denominator(1000)} "
                          "(a constant factor)", _ratio_evidence(c, k))]
    return [Diagnosis("sign" if k == -1.0 else "factor", f"the claim is the true value times "
                      f"{Fraction(k).limit_denominator(1000)}: " + ", or ".join(names), _ratio_evidence(c, k))]


def _ratio_evidence(c: _Claim, k: float) -> str:
    return f"true {_short(c.true)} times {Fraction(k).limit_denominator(1000)} = {_short(k * c.true)}, " \
           f"which shows as the claimed {_short(c.claimed)}"


# ---------------------------------------------------------------- same-shape diagnoses

def accumulated(c: _Claim) -> list[Diagnosis]:
    """Earlier backward() calls into the same leaf were added, not zeroed."""
    running = c.true.copy()
    for count, earlier in enumerate(c.context.earlier_gradients, start=1):
        running = running + np.asarray(earlier, dtype=float)
        if c.shows(running):
            calls = f"{count} earlier backward() call" + ("s" if count > 1 else "")
            return [Diagnosis("accumulated", f"the claim adds the gradient{'s' if count > 1 else ''} of "
                              f"{calls} on the same leaf: the gradient was accumulated without zeroing",
                              f"true {c.true.tolist()} + earlier = {running.tolist()}")]
    return []


def normalised(c: _Claim) -> list[Diagnosis]:
    """A unit vector (the gradient divided by its length) written for the gradient."""
    norm = c.context.gradient_norm
    if callable(norm):
        norm = norm()
    if norm is None:
        if c.true.size < 2:
            return []   # a scalar's unit vector is its sign: that explains nothing
        norm = np.linalg.norm(c.true)
    norm = np.asarray(norm, float)
    if np.any(norm == 0) or np.allclose(norm, 1.0) or not c.shows(c.true / norm):
        return []
    return [Diagnosis("normalised", "the claim is the unit vector in the gradient's direction (the "
                      "gradient divided by its length), not the gradient itself",
                      f"true {_short(c.true)} / length {_short(norm)} = {_short(c.true / norm)}")]


def square_transpose(c: _Claim) -> list[Diagnosis]:
    if c.true.ndim == 2 and c.true.shape[0] == c.true.shape[1] and c.shows(c.true.T):
        return [Diagnosis("transpose", "the claim is the transpose of the true value", "")]
    return []


def recomputed(c: _Claim) -> list[Diagnosis]:
    """The claim is the quantity recomputed another way: other data the document
    gives, roles swapped, another draw.  One diagnosis per kind, simplest first."""
    found: dict[str, Diagnosis] = {}
    for variant in _all_variants(c.context):
        if variant.kind in found:
            continue    # variants come simplest first; a later one would only add changes
        value = variant.value()
        if value is not None and c.shows(value):
            found[variant.kind] = Diagnosis(variant.kind, variant.explanation, variant.evidence)
    return list(found.values())


def _all_variants(context: Context):
    if context.recompute is not None:
        for label, changes in context.alternatives.items():
            yield Variant("data_entry", f"the claim follows from other data the document gives "
                          f"elsewhere: {label}", f"recomputed with {changes}",
                          lambda label=label: context.recompute(label))
    yield from context.variants


def entries(c: _Claim) -> list[Diagnosis]:
    """When most entries are right, name the ones that are not (and whether their
    sign is flipped)."""
    claimed, true = c.claimed, c.true
    if true.ndim < 1 or true.size < 2:
        return []
    tolerance = np.broadcast_to(c.tolerance, true.shape)
    right = np.array([matches(a, b, t) for a, b, t in zip(claimed.ravel(), true.ravel(), tolerance.ravel())])
    wrong = ~right.reshape(true.shape)
    count = int(wrong.sum())
    if count == 0 or count > max(1, true.size // 3):
        return []
    places = [tuple(int(i) for i in index) for index in np.argwhere(wrong)]
    shown = ", ".join(f"[{', '.join(map(str, p))}]" for p in places[:4])
    evidence = "; ".join(f"entry [{', '.join(map(str, p))}]: claimed {claimed[p]:.6g}, true {true[p]:.6g}"
                         for p in places[:4])
    flipped = all(true[p] != 0 and matches(claimed[p], -true[p], tolerance[p]) for p in places)
    if flipped:
        return [Diagnosis("sign", f"the sign of entr{'y' if count == 1 else 'ies'} {shown} is "
                          f"flipped; the other {true.size - count} entries are right", evidence)]
    return [Diagnosis("entry", f"entr{'y' if count == 1 else 'ies'} {shown} differ; the other "
                      f"{true.size - count} entries are right", evidence)]


# ---------------------------------------------------------------- other-shape diagnoses

def shared_scalar(c: _Claim) -> list[Diagnosis]:
    if c.claimed.size == 1 and c.true.ndim >= 1 and c.true.size > 1 and c.shows(np.reshape(c.true.sum(), c.claimed.shape)):
        return [Diagnosis("shared_scalar", "the claim is the sum of the gradient's entries: the vector "
                          "parameter was treated as one scalar shared by every entry",
                          f"sum of {c.true.tolist()} = {c.true.sum():.6g}")]
    return []


def transposed_shape(c: _Claim) -> list[Diagnosis]:
    if c.true.ndim == 2 and c.claimed.shape == c.true.T.shape and c.shows(c.true.T):
        return [Diagnosis("transpose", "the claim is the transpose of the true value",
                          f"true shape {c.true.shape}, claimed shape {c.claimed.shape}")]
    return []


def fewer_entries(c: _Claim) -> list[Diagnosis]:
    if c.true.ndim == 1 and c.claimed.ndim == 1 and c.claimed.size < c.true.size:
        return [Diagnosis("shape", f"the claim has {c.claimed.size} entries where the value has "
                          f"{c.true.size}", f"shapes {c.claimed.shape} and {c.true.shape}")]
    return []


def incompatible_shape(c: _Claim) -> list[Diagnosis]:
    try:
        np.broadcast_shapes(c.claimed.shape, c.true.shape)
    except ValueError:
        return [Diagnosis("shape", "the claimed shape cannot match the true value's",
                          f"shapes {c.claimed.shape} and {c.true.shape}")]
    return []


Rule = Callable[[_Claim], list[Diagnosis]]

# Same shape: every rule that fits adds its diagnoses, and the fallback runs only
# when none did.  Other shapes: the first rule that fits is the explanation.
SAME_SHAPE: tuple[Rule, ...] = (accumulated, factor, normalised, square_transpose, recomputed)
SAME_SHAPE_FALLBACK: tuple[Rule, ...] = (entries,)
OTHER_SHAPE: tuple[Rule, ...] = (shared_scalar, transposed_shape, fewer_entries, incompatible_shape)


def diagnose(claimed, true, tolerance, context: Context | None = None) -> list[Diagnosis]:
    """Explanations of a wrong claim, most specific first; [unexplained] if none fits.

    ``tolerance`` is half a unit in the claim's last printed place (per entry, or
    one number); a hypothesis holds when its value shows as the claimed number."""
    claim = _Claim(np.asarray(claimed, dtype=float), np.asarray(true, dtype=float),
                   np.asarray(tolerance, dtype=float), context or Context())
    same = claim.claimed.shape == claim.true.shape or claim.claimed.size == claim.true.size == 1
    if same:
        claim.claimed = claim.claimed.reshape(claim.true.shape)
        if claim.tolerance.size == claim.true.size:
            claim.tolerance = claim.tolerance.reshape(claim.true.shape)
    found = _run(SAME_SHAPE, claim) if same else _first(OTHER_SHAPE, claim)
    if same and not found:
        found = _run(SAME_SHAPE_FALLBACK, claim)
    return found or [unexplained(claim.claimed, claim.true)]


def _run(rules: Sequence[Rule], claim: _Claim) -> list[Diagnosis]:
    return [d for rule in rules for d in rule(claim)]


def _first(rules: Sequence[Rule], claim: _Claim) -> list[Diagnosis]:
    for rule in rules:
        found = rule(claim)
        if found:
            return found
    return []


def unexplained(claimed, true, what: str = "value") -> Diagnosis:
    return Diagnosis(UNEXPLAINED, f"no known mistake reproduces the claimed {what}",
                     f"claimed {np.asarray(claimed).tolist()}, true {np.asarray(true).tolist()}")


def diagnose_relation(relation: str, claimed, true, tolerance) -> list[Diagnosis]:
    """Why an inequality the document states fails: a strict one fails only at its
    bound when the value equals the bound, at the claim's precision."""
    if relation in ("<", ">", "!=") and matches(claimed, true, tolerance):
        weak = {"<": "<=", ">": ">=", "!=": "="}[relation]
        return [Diagnosis("boundary", f"the value equals the bound {_short(claimed)}: the strict "
                          f"'{relation}' fails exactly at equality ('{weak}' holds)",
                          f"true {_short(true)}")]
    return [unexplained(claimed, true, f"relation '{relation}'")]


def _short(x) -> str:
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return f"{float(x):.6g}"
    return np.array2string(x, precision=6, separator=", ", threshold=12)

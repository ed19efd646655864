"""Why a stated number is wrong, when the numbers show it.

A document claims a value; the reference gives another.  Each explanation below
is a hypothesis tested against the numbers: a constant factor (a missing 1/m, a
factor of 2), a flipped sign, the sum of a vector gradient's entries (a vector
parameter treated as one shared scalar), earlier gradients accumulated without
zeroing, a transpose, a shape that cannot match, or a data entry that differs
from the same data given elsewhere.  Each comes with the evidence that supports
it; when none fits, the diagnosis says "unexplained".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Mapping, Sequence

import numpy as np

UNEXPLAINED = "unexplained"


@dataclass
class Diagnosis:
    kind: str           # a short name: "factor", "sign", "shared_scalar", "accumulated", ...
    explanation: str    # one sentence for the report
    evidence: str = ""  # the numbers behind it


@dataclass
class Context:
    """What else the document tells about the claim, to test hypotheses against.

    ``batch_size`` is m for "missing 1/m"; ``earlier_gradients`` are gradients of
    earlier ``backward()`` calls into the same leaf; ``alternatives`` maps a label
    for data the document gives differently elsewhere (``"X row 7 = [-4.0, 0.1]"``)
    to the changes it makes (``"X[7, 0] = -4"``), and ``recompute(label)`` gives
    the true value with that data.
    """

    batch_size: int | None = None
    earlier_gradients: Sequence[np.ndarray] = ()
    recompute: Callable[[str], np.ndarray] | None = None
    alternatives: Mapping[str, str] = field(default_factory=dict)


def matches(claimed: np.ndarray, value: np.ndarray, tolerance: np.ndarray) -> bool:
    """Whether ``value`` shows as ``claimed`` at the claim's precision."""
    claimed, value = np.asarray(claimed, float), np.asarray(value, float)
    if claimed.shape != value.shape:
        return False
    return bool(np.all(np.abs(claimed - value) <= tolerance))


def _factor_name(k: float, m: int | None) -> str | None:
    """Name the slips a constant factor ``k`` = claimed / true can come from.

    With m = 2 a lost factor of 2 and an extra 1/m are the same number: both
    readings are given, since the numbers cannot tell them apart.
    """
    names = []
    plain = {2.0: "a factor of 2 too many", 0.5: "a lost factor of 2", -1.0: "a flipped sign"}
    for value, name in plain.items():
        if np.isclose(k, value, rtol=1e-9):
            names.append(name)
    if m and m > 1:
        for value, name in ((m, f"a missing 1/m (m = {m})"), (1.0 / m, f"an extra 1/m (m = {m})"),
                            (-m, f"a flipped sign and a missing 1/m (m = {m})"),
                            (-1.0 / m, f"a flipped sign and an extra 1/m (m = {m})")):
            if np.isclose(k, value, rtol=1e-9):
                names.append(name)
    if names:
        return f"the true value times {Fraction(k).limit_denominator(1000)}: " + ", or ".join(names)
    # Only small plain factors are plausible slips (3, 1/3, 3/2...); any ratio is
    # some fraction, and 14/11 explains nothing.
    fraction = Fraction(k).limit_denominator(4)
    if (fraction != 0 and abs(fraction.numerator) <= 4
            and abs(float(fraction) - k) <= 1e-9 * abs(k)):
        return f"the true value times {fraction} (a constant factor)"
    return None


def diagnose(claimed, true, tolerance, context: Context | None = None) -> list[Diagnosis]:
    """Explanations of a wrong claim, most specific first; [unexplained] if none fits."""
    context = context or Context()
    claimed = np.asarray(claimed, dtype=float)
    true = np.asarray(true, dtype=float)
    tolerance = np.asarray(tolerance, dtype=float)
    found: list[Diagnosis] = []

    if claimed.shape != true.shape:
        if claimed.ndim == 0 and true.ndim >= 1 and np.abs(claimed - true.sum()) <= np.max(tolerance):
            found.append(Diagnosis(
                "shared_scalar", "the claim is the sum of the gradient's entries: the vector parameter "
                "was treated as one scalar shared by every entry",
                f"sum of {true.tolist()} = {true.sum():.6g}"))
        elif true.ndim == 2 and claimed.shape == true.T.shape and matches(claimed, true.T, tolerance):
            found.append(Diagnosis("transpose", "the claim is the transpose of the true value",
                                   f"true shape {true.shape}, claimed shape {claimed.shape}"))
        elif true.ndim == 1 and claimed.ndim == 1 and claimed.size < true.size:
            found.append(Diagnosis("shape", f"the claim has {claimed.size} entries where the value has "
                                   f"{true.size}", f"shapes {claimed.shape} and {true.shape}"))
        else:
            try:
                np.broadcast_shapes(claimed.shape, true.shape)
            except ValueError:
                found.append(Diagnosis("shape", "the claimed shape cannot match the true value's",
                                       f"shapes {claimed.shape} and {true.shape}"))
        return found or [Diagnosis(UNEXPLAINED, "no known mistake reproduces the claimed value",
                                   f"claimed {claimed.tolist()}, true {true.tolist()}")]

    running = true.copy()
    for count, earlier in enumerate(context.earlier_gradients, start=1):
        running = running + np.asarray(earlier, dtype=float)
        if matches(claimed, running, tolerance):
            found.append(Diagnosis(
                "accumulated", f"the claim adds the gradient{'s' if count > 1 else ''} of {count} earlier "
                "backward() call" + ("s" if count > 1 else "") + " on the same leaf: the gradient was "
                "accumulated without zeroing", f"true {true.tolist()} + earlier = {running.tolist()}"))
            break

    nonzero = np.abs(true) > 0
    if np.any(nonzero) and not np.any((~nonzero) & (np.abs(claimed) > tolerance)):
        ratios = claimed[nonzero] / true[nonzero]
        k = float(ratios.ravel()[0])
        if k != 1.0 and matches(claimed, k * true, tolerance):
            name = _factor_name(k, context.batch_size)
            if name:
                kind = "sign" if np.isclose(k, -1.0) else "factor"
                found.append(Diagnosis(kind, f"the claim is {name}", f"claimed / true = {k:.6g}"))

    if true.ndim == 2 and true.shape[0] == true.shape[1] and matches(claimed, true.T, tolerance):
        found.append(Diagnosis("transpose", "the claim is the transpose of the true value", ""))

    if context.recompute is not None:
        for label, changes in context.alternatives.items():
            if matches(claimed, context.recompute(label), tolerance):
                found.append(Diagnosis(
                    "data_entry", f"the claim follows from other data the document gives elsewhere: "
                    f"{label}", f"recomputed with {changes}"))
                break   # alternatives come simplest first; a later one would only add changes

    if not found and true.ndim >= 1 and true.size > 1:
        found.extend(_entries(claimed, true, tolerance))

    return found or [Diagnosis(UNEXPLAINED, "no known mistake reproduces the claimed value",
                               f"claimed {claimed.tolist()}, true {true.tolist()}")]


def _entries(claimed, true, tolerance) -> list[Diagnosis]:
    """When most entries are right, name the ones that are not."""
    wrong = ~(np.abs(claimed - true) <= tolerance)
    count = int(wrong.sum())
    if count == 0 or count > max(1, true.size // 3):
        return []
    places = [tuple(int(i) for i in index) for index in np.argwhere(wrong)]
    shown = ", ".join(f"[{', '.join(map(str, p))}]" for p in places[:4])
    evidence = "; ".join(f"entry [{', '.join(map(str, p))}]: claimed {claimed[p]:.6g}, true {true[p]:.6g}"
                         for p in places[:4])
    flipped = np.abs(claimed[wrong] + true[wrong]) <= np.broadcast_to(tolerance, true.shape)[wrong]
    if np.all(flipped) and np.all(true[wrong] != 0):
        return [Diagnosis("sign", f"the sign of entr{'y' if count == 1 else 'ies'} {shown} is "
                          f"flipped; the other {true.size - count} entries are right", evidence)]
    return [Diagnosis("entry", f"entr{'y' if count == 1 else 'ies'} {shown} differ; the other "
                      f"{true.size - count} entries are right", evidence)]

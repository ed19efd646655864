"""The one small interface every differentiation method implements.

A method (a *backend*) is an object with a ``name`` and
``gradient(problem, point) -> Gradient``; it may add
``gradients(problem, points) -> list[Gradient]`` to answer many points at once.
:func:`run_backend` is the one way the checking layer calls a method: an
exception inside a method becomes that method's ``error`` outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from diffcheck.language.expr import Expr
from diffcheck.vocabulary import ERROR, OK, SKIPPED, UNSUPPORTED  # noqa: F401 - a method's statuses


@dataclass
class Problem:
    """What to differentiate: a scalar expression, the variables to differentiate
    with respect to, and the shapes of all variables.  Backends keep compiled
    forms in ``cache`` so that many points cost one compilation."""

    expr: Expr
    wrt: list[str]
    shapes: dict[str, tuple]
    text: str = ""
    cache: dict = field(default_factory=dict, repr=False)


@dataclass
class Gradient:
    """One backend's answer at one point.

    ``gradients`` maps each ``wrt`` name to an array of the variable's shape;
    ``errors`` holds the backend's own bound on each entry's absolute error where
    it has one (the numeric backend's extrapolation error, the symbolic backend's
    high-precision residue), else zeros.
    """

    backend: str
    status: str = OK
    value: float = float("nan")
    gradients: dict[str, np.ndarray] = field(default_factory=dict)
    errors: dict[str, np.ndarray] = field(default_factory=dict)
    reason: str = ""
    evaluations: int = 0
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == OK


def failed(backend: str, status: str, reason: str) -> Gradient:
    return Gradient(backend=backend, status=status, reason=reason)


def run_backend(backend, problem: Problem, point) -> Gradient:
    """One backend's answer; an exception inside a backend is that backend's outcome."""
    try:
        return backend.gradient(problem, point)
    except MemoryError:
        raise   # the case's outcome (resource_limit), not the method's
    except Exception as err:  # noqa: BLE001 - any failure of a method is reported, not raised
        return Gradient(backend.name, status=ERROR, reason=f"{type(err).__name__}: {err}")

"""The differentiation methods, each behind one small interface.

A backend is an object with a ``name`` and a method
``gradient(problem, point) -> Gradient``.  The harness loops over
:data:`BACKENDS` and never special-cases one.  Modules that import heavy libraries
(SymPy, torch) do so only when a gradient is first asked of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from diffcheck.language.expr import Expr

#: Statuses a backend may give one gradient request.
OK, SKIPPED, UNSUPPORTED, ERROR = "ok", "skipped", "unsupported", "error"


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


def _registry():
    from diffcheck.backends.engine_backend import EngineBackend
    from diffcheck.backends.numeric import NumericBackend
    from diffcheck.backends.symbolic import SymbolicBackend
    from diffcheck.backends.torch_backend import TorchBackend
    backends = [SymbolicBackend(), NumericBackend(), EngineBackend(), TorchBackend()]
    return {b.name: b for b in backends}


#: Every backend by name, in the order reports show them; the first is the reference.
BACKENDS = _registry()
REFERENCE = "symbolic"

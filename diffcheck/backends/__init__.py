"""The differentiation methods, each behind one small interface (:mod:`base`).

Owns the four methods: ``symbolic`` (SymPy, evaluated in high precision: the
reference), ``numeric`` (finite differences with Richardson extrapolation),
``engine`` (diffcheck's reverse-mode engine) and ``torch``, the SymPy lowering
they share (:mod:`sympy_lowering`, :mod:`chainrule`), and :data:`BACKENDS`.
The checking layer loops over :data:`BACKENDS` and never special-cases one.
Modules that need heavy libraries (SymPy, torch) import them only when a
gradient is first asked of them.  Imports the language layer and below.
"""

from __future__ import annotations

from diffcheck.backends.base import (  # noqa: F401
                                     ERROR,
                                     OK,
                                     SKIPPED,
                                     UNSUPPORTED,
                                     Gradient,
                                     Problem,
                                     failed,
                                     run_backend,
)
from diffcheck.backends.engine_backend import EngineBackend
from diffcheck.backends.numeric import NumericBackend
from diffcheck.backends.symbolic import SymbolicBackend
from diffcheck.backends.torch_backend import TorchBackend

#: Every backend by name, in the order reports show them; the first is the reference.
BACKENDS = {b.name: b for b in (SymbolicBackend(), NumericBackend(), EngineBackend(), TorchBackend())}
REFERENCE = "symbolic"

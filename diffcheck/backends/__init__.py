"""The differentiation methods, each behind one small interface.

A backend is an object with a ``name`` and a method
``gradient(problem, point) -> Gradient``.  The harness loops over
:data:`BACKENDS` and never special-cases one.  Modules that import heavy libraries
(SymPy, torch) do so only when a gradient is first asked of them.
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

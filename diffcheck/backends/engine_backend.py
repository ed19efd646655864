"""The ``engine`` backend: diffcheck's own reverse-mode engine in float64."""

from __future__ import annotations

import numpy as np

from .. import engine
from . import Gradient


class EngineBackend:
    name = "engine"

    def gradient(self, problem, point) -> Gradient:
        value, grads = engine.value_and_grad(problem.expr, point, problem.wrt, np.float64)
        return Gradient(self.name, value=float(value), gradients=grads,
                        errors={k: np.zeros(np.shape(v)) for k, v in grads.items()},
                        evaluations=1)

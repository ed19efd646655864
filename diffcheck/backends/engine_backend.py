"""The ``engine`` backend: diffcheck's own reverse-mode engine in float64."""

from __future__ import annotations

import numpy as np

from diffcheck.backends.base import Gradient, run_backend
from diffcheck.language import engine


class EngineBackend:
    name = "engine"

    def gradient(self, problem, point) -> Gradient:
        value, grads = engine.value_and_grad(problem.expr, point, problem.wrt, np.float64)
        return Gradient(self.name, value=float(value), gradients=grads,
                        errors={k: np.zeros(np.shape(v)) for k, v in grads.items()},
                        evaluations=1)

    def gradients(self, problem, points: list[dict]) -> list[Gradient]:
        """Every point in one walk of the graph (:func:`engine.values_and_grads`);
        where the batched walk fails, point by point, so that a failure is reported
        at the point that causes it."""
        if len(points) == 1:
            return [self.gradient(problem, points[0])]
        stacked = {n: np.stack([np.asarray(p[n], dtype=np.float64) for p in points]) for n in points[0]}
        try:
            values, grads = engine.values_and_grads(problem.expr, stacked, problem.wrt, np.float64)
        except Exception:  # noqa: BLE001 - the per-point pass reports the failure
            return [run_backend(self, problem, p) for p in points]
        return [Gradient(self.name, value=float(values[i]), gradients={n: grads[n][i] for n in problem.wrt},
                         errors={n: np.zeros(problem.shapes[n]) for n in problem.wrt}, evaluations=1)
                for i in range(len(points))]

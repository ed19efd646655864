"""How much error a comparison allows, and the one measure of float64 rounding.

A tolerance is not a fixed ``rtol``: each comparison allows the reference's own
error, the compared method's error estimate, and the float64 rounding of this
gradient at this point, measured by :func:`rounding_scale` (diffcheck's engine
in float64, float32 and extended precision).  The multipliers are a
:class:`Tolerances` value passed down to every check (``[tool.diffcheck.tolerance]``
in pyproject.toml makes one); nothing here is set by a run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from diffcheck.backends import Gradient, Problem
from diffcheck.language import engine
from diffcheck.language.expr import rounding_jitter

EPS = float(np.finfo(np.float64).eps)
TINY = 1e-300
EXTENDED = np.longdouble if np.finfo(np.longdouble).eps < EPS else None
_EPS_RATIO = EPS / float(np.finfo(np.float32).eps)

#: Monte Carlo arithmetic runs of the engine per measured point, and their seed
#: (fixed, so that reports are reproducible).
MCA_COPIES = 4
MCA_SEED = 20261201


@dataclass(frozen=True)
class Tolerances:
    """How much error a comparison allows, as multiples of measured quantities.

    Made from ``[tool.diffcheck.tolerance]`` in pyproject.toml
    (:func:`tolerances_from`) and passed to every check; the defaults were
    chosen with ``benchmarks/numeric_accuracy.py`` (no false alarm on its corpus,
    a relative error of 1e-7 in any rule caught).  The gradient audit of user
    code (:mod:`diffcheck.usercode.probes`) uses the same three."""

    rounding_safety: float = 32.0   # times the measured float64 rounding of the gradient
    estimate_safety: float = 2.0    # times a method's own error estimate
    floor_ulps: float = 16.0        # relative floor, in units of the code's machine epsilon


#: The tolerances a check uses when none are given.
DEFAULT_TOLERANCES = Tolerances()


def tolerances_from(values: Mapping[str, float]) -> Tolerances:
    """The defaults with the given multipliers replaced (names as the fields of
    :class:`Tolerances`; validated by :func:`diffcheck.checking.config.load_settings`)."""
    return dataclasses.replace(DEFAULT_TOLERANCES, **{k: float(v) for k, v in values.items()})


def allowed(tolerances: Tolerances, errors, rounding, scale) -> np.ndarray:
    """What one comparison of float64 results allows: the methods' summed error
    estimates, the measured rounding and a relative floor on ``scale``."""
    t = tolerances
    return (t.estimate_safety * np.asarray(errors) + t.rounding_safety * np.asarray(rounding)
            + t.floor_ulps * EPS * np.asarray(scale) + TINY)


def comparison_tolerance(reference: Gradient, candidate: Gradient, name: str | None, rounding,
                         tolerances: Tolerances = DEFAULT_TOLERANCES) -> np.ndarray:
    """The tolerance of comparing ``candidate`` with ``reference`` on the value
    (``name`` None) or on the gradient with respect to ``name``."""
    if name is None:
        ref, got = reference.value, candidate.value
        errors = 0.0
    else:
        ref, got = reference.gradients[name], candidate.gradients[name]
        errors = np.asarray(reference.errors.get(name, 0.0)) + np.asarray(candidate.errors.get(name, 0.0))
    # The relative floor is of the finite answers only: an infinite answer must
    # not make its own tolerance infinite (it would then agree with anything).
    with np.errstate(invalid="ignore"):
        scale = np.maximum(_finite_size(ref), _finite_size(got))
    return allowed(tolerances, errors, rounding, scale)


def _finite_size(x) -> np.ndarray:
    x = np.abs(np.asarray(x, dtype=np.float64))
    return np.where(np.isfinite(x), x, 0.0)


def no_rounding(problem: Problem) -> tuple[float, dict[str, np.ndarray]]:
    """A rounding allowance of zero, shaped as :func:`rounding_scale`'s."""
    return 0.0, {name: np.zeros(problem.shapes[name]) for name in problem.wrt}


def rounding_scale(problem: Problem, point, engine_result: Gradient | None = None
                   ) -> tuple[float, dict[str, np.ndarray]]:
    """How far float64 rounding can move the value and gradient at this point.

    Measured by running diffcheck's engine against extended precision
    (``numpy.longdouble``): it tracks cancellation and ill-conditioning that a
    fixed relative tolerance cannot.  Three samples of the rounding, the largest
    taken: the engine in float64 (one sample, which can be zero by luck where
    another method's different order of operations is not); in float32, scaled
    down by the ratio of the two epsilons (the same sensitivity with rounding 2**29
    times larger, so luck rarely hides it); and in float64 with every op's result
    and every gradient contribution moved by one rounding at random (a reduction's
    result by one rounding of its terms' magnitudes)
    (:data:`MCA_COPIES` seeded copies: what any other correct order of operations
    could get, such as torch computing ``1 - s`` from a sigmoid ``s`` one unit
    away from the engine's).  Where extended precision is unavailable, zero (the
    relative floor then applies alone).  ``engine_result``, the engine backend's
    float64 answer when it has one, saves running the float64 pass again.
    """
    zeros = no_rounding(problem)
    if EXTENDED is None:
        return zeros
    jitter = rounding_jitter(np.random.default_rng(MCA_SEED))

    try:
        if engine_result is not None and engine_result.ok:
            v64, g64 = engine_result.value, engine_result.gradients
        else:
            v64, g64 = engine.value_and_grad(problem.expr, point, problem.wrt, np.float64)
        vld, gld = engine.value_and_grad(problem.expr, point, problem.wrt, EXTENDED)
        v32, g32 = engine.value_and_grad(problem.expr, point, problem.wrt, np.float32)
        moved = [engine.value_and_grad(problem.expr, point, problem.wrt, np.float64, jitter)
                 for _ in range(MCA_COPIES)]
    except MemoryError:
        raise   # the case's outcome (resource_limit), not the method's
    except Exception:  # noqa: BLE001 - the engine's own failure is reported by its backend
        return zeros

    def scale(x64, x32, xld, xmoved):
        with np.errstate(all="ignore"):
            errors = [np.abs(np.asarray(x).astype(EXTENDED) - xld) for x in (x64, *xmoved)]
            error32 = np.abs(np.asarray(x32).astype(EXTENDED) - xld) * _EPS_RATIO
        error32 = np.where(np.isfinite(error32), error32, 0.0)
        return np.asarray(np.maximum(np.max(errors, axis=0), error32), dtype=np.float64)

    return (float(scale(v64, v32, vld, [m[0] for m in moved])),
            {name: scale(g64[name], g32[name], gld[name], [m[1][name] for m in moved])
             for name in problem.wrt})

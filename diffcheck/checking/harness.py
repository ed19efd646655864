"""The cross-check: every backend against the reference, classified into outcomes.

:func:`check_expr` checks one expression at one point: it is
:func:`~diffcheck.checking.batch.check_points` of that one point, so there is one
route to a verdict.  The parts live in their own modules and are named here too,
as the harness's public face: the input made ready
(:mod:`~diffcheck.checking.problems`), tolerances and the one rounding measure
(:mod:`~diffcheck.checking.tolerances`), the verdict
(:mod:`~diffcheck.checking.verdict`) and the domain and kink screen
(:mod:`diffcheck.language.screen`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from diffcheck.backends import (  # noqa: F401
    BACKENDS,
    ERROR,
    REFERENCE,
    UNSUPPORTED,
    Gradient,
    Problem,
    run_backend,
)
from diffcheck.checking.batch import check_points
from diffcheck.checking.problems import (  # noqa: F401
    COMPILED_KEPT,
    MAX_ENTRIES,
    compiled_forms,
    forget_compiled,
    make_problem,
    normalise_point,
)
from diffcheck.checking.tolerances import (  # noqa: F401
    DEFAULT_TOLERANCES,
    EPS,
    EXTENDED,
    MCA_COPIES,
    MCA_SEED,
    TINY,
    Tolerances,
    rounding_scale,
    tolerances_from,
)
from diffcheck.checking.verdict import (  # noqa: F401
    CheckResult,
    Discrepancy,
    classify,
    float64_overflow,
    judge,
    one_sided_derivatives,
)
from diffcheck.language.expr import Expr
from diffcheck.language.screen import active_nodes, domain_hazard, kinks_reached  # noqa: F401
from diffcheck.vocabulary import (  # noqa: F401
    AGREE,
    DISCREPANCY,
    NONDIFFERENTIABLE,
    OUTSIDE_DOMAIN,
    VERDICTS,
)

OUTCOMES = VERDICTS


def check_expr(expr: str | Expr, at: Mapping, wrt: Iterable[str] | None = None, *,
               backends: Iterable[str] | None = None, problem: Problem | None = None,
               tolerances: Tolerances = DEFAULT_TOLERANCES) -> CheckResult:
    """Cross-check the gradient of ``expr`` at the point ``at``.

    ``at`` maps every variable to a number, nested list or array; ``wrt`` names the
    variables to differentiate with respect to (default: all that appear);
    ``tolerances`` are the multipliers every comparison uses (default: the
    defaults of :class:`~diffcheck.checking.tolerances.Tolerances`).
    Returns a :class:`CheckResult` whose ``verdict`` is one of :data:`OUTCOMES`.
    Raises :class:`~diffcheck.errors.DiffcheckError` for malformed input.
    """
    return check_points(expr, [at], wrt, backends=backends, problem=problem, tolerances=tolerances)[0]

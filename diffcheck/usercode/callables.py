"""Gradient audits of user code: :func:`check`, :func:`assert_gradients`,
:func:`check_gradient_fn`.

The derivatives under test (torch autograd, including custom ``backward`` rules;
forward mode where torch has it; a hand-written gradient function) are compared
with diffcheck's own numeric differentiation, and with the symbolic backend when
the function is also given as an expression.  Small inputs are checked entry by
entry; large ones along random signed directions with a drill-down to the wrong
entries (:mod:`diffcheck.usercode.probes`).  Results use the verdicts of
:mod:`diffcheck.vocabulary` and report wrong numbers as the harness's
discrepancy records (:mod:`diffcheck.usercode.verdict`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffcheck.backends import BACKENDS
from diffcheck.backends.numeric import INITIAL_STEP
from diffcheck.checking.harness import make_problem
from diffcheck.checking.tolerances import DEFAULT_TOLERANCES, Tolerances
from diffcheck.errors import CallableError, DiffcheckError, GradientMismatch
from diffcheck.usercode.entries import (
    Values,
    candidate_entries,
    compare_entries,
    numeric_entries,
)
from diffcheck.usercode.handwritten import (
    HAND_WRITTEN,
    HandWritten,
    diagnose_hand,
    shape_verdict,
)
from diffcheck.usercode.probes import (
    MAX_LOCATED,
    Candidate,
    Comparison,
    Line,
    Settings,
    Subject,
    default_rtol,
    kink_along,
    locate_output,
    projected,
    signs,
)
from diffcheck.usercode.verdict import CallableCheck, Method, Mismatch, classify  # noqa: F401 - public here
from diffcheck.usercode.wrappers import ArrayCode, TorchCode
from diffcheck.vocabulary import (
    AGREE,
    DISCREPANCY,
    ERROR,
    OK,
    OUTSIDE_DOMAIN,
    UNSUPPORTED,
)

DENSE_LIMIT = 64   # inputs with at most this many entries are checked entry by entry
AUTOGRAD, FORWARD, SYMBOLIC = "autograd", "forward", "symbolic"


@dataclass
class _Options:
    eps: float | None
    atol: float | None
    rtol: float | None
    probes: int
    mode: str
    directions: str
    seed: int
    batch_size: int | None = None
    locate: bool = True
    tolerances: Tolerances = DEFAULT_TOLERANCES


def options_of(eps, atol, rtol, probes, mode, directions, seed, batch_size=None,
               tolerances: Tolerances = DEFAULT_TOLERANCES) -> _Options:
    if mode not in ("auto", "entries", "projected"):
        raise CallableError(f"mode is 'auto', 'entries' or 'projected', not {mode!r}")
    if directions not in ("rademacher", "gaussian"):
        raise CallableError(f"directions are 'rademacher' or 'gaussian', not {directions!r}")
    if probes < 1:
        raise CallableError(f"probes must be at least 1, got {probes}")
    if eps is not None and not eps > 0:
        raise CallableError(f"eps must be positive, got {eps}")
    return _Options(eps, atol, rtol, probes, mode, directions, seed, batch_size, tolerances=tolerances)


def check(fn, *inputs, eps: float | None = None, atol: float | None = None, rtol: float | None = None,
          probes: int = 2, mode: str = "auto", directions: str = "rademacher", seed: int = 0,
          wrt=None, names=None, expression: str | None = None, forward: bool = True,
          locate: bool = True, tolerances: Tolerances = DEFAULT_TOLERANCES) -> CallableCheck:
    """Check the derivatives of the torch callable ``fn`` at ``inputs``.

    Differentiates with respect to the floating tensors with ``requires_grad``
    (all floating tensors if none has it), or the positions in ``wrt``.  Compares
    ``torch.autograd`` (custom Functions included) and, with ``forward``,
    ``torch.func.jvp`` against diffcheck's numeric differentiation, and against
    the symbolic backend when ``expression`` (diffcheck's expression language,
    variables named as fn's parameters or ``names``) describes a scalar ``fn``.
    ``eps`` is the first finite-difference step (default: derived per entry),
    ``rtol``/``atol`` the relative floor and absolute tolerance (default:
    derived from the dtype and the measured errors); ``locate=False`` skips the
    drill-down of a failed projected check; ``tolerances`` are the harness's
    multipliers (``[tool.diffcheck.tolerance]``).  Raises
    :class:`~diffcheck.errors.CallableError` for unusable arguments.
    """
    options = options_of(eps, atol, rtol, probes, mode, directions, seed, tolerances=tolerances)
    options.locate = locate
    code = TorchCode(fn, inputs, wrt, names)
    candidates = [Candidate(AUTOGRAD, vjp=code.autograd_vjp, float64=False)]
    if forward:
        candidates.append(Candidate(FORWARD, jvp=code.forward_jvp, float64=False))
    symbolic = (lambda subject, w: _symbolic(code, expression, subject)) if expression else None
    return audit(code, candidates, options, symbolic)


def assert_gradients(fn, *inputs, **options) -> CallableCheck:
    """:func:`check`, raising :class:`~diffcheck.errors.GradientMismatch` unless the
    derivatives agree (or the point is a kink, where no single answer is right)."""
    result = check(fn, *inputs, **options)
    if not result.ok:
        raise GradientMismatch(result.message(), result)
    return result


def check_gradient_fn(f, grad_f, *inputs, wrt=None, names=None, eps: float | None = None,
                      atol: float | None = None, rtol: float | None = None, probes: int = 2,
                      mode: str = "auto", directions: str = "rademacher", seed: int = 0,
                      batch_size: int | None = None,
                      tolerances: Tolerances = DEFAULT_TOLERANCES) -> CallableCheck:
    """Audit the hand-written gradient ``grad_f(*inputs)`` against the derivative of
    the scalar function ``f(*inputs)`` (NumPy or torch code).

    ``grad_f`` returns one gradient per differentiated input (a single array when
    there is one), in order.  For torch code, f's own autograd is checked too.
    ``batch_size`` lets the diagnosis name a missing or extra 1/m.
    """
    options = options_of(eps, atol, rtol, probes, mode, directions, seed, batch_size, tolerances)
    import sys
    torch = sys.modules.get("torch")
    if torch is not None and any(isinstance(v, torch.Tensor) for v in inputs):
        code = TorchCode(f, inputs, wrt, names)
        extra = [Candidate(AUTOGRAD, vjp=code.autograd_vjp, float64=False)]
    else:
        code = ArrayCode(f, inputs, wrt, names)
        extra = []
    hand = HandWritten(code, grad_f)
    candidates = [Candidate(HAND_WRITTEN, vjp=hand.vjp, float64=False), *extra]
    return audit(code, candidates, options, None, hand)


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


def audit(code, candidates, options: _Options, symbolic=None, hand=None) -> CallableCheck:
    """Check ``candidates`` (see :class:`~diffcheck.usercode.probes.Candidate`) on ``code`` (a
    :class:`~diffcheck.usercode.wrappers.TorchCode` or ``ArrayCode``); ``symbolic(subject, w)``,
    when given, supplies exact reference values of ``w^T J`` (or a :class:`Method`
    saying why it cannot)."""
    result = CallableCheck(AGREE, dtype=str(code.native).replace("torch.", ""))
    out0 = _start(code, result)
    if out0 is None:
        return result
    settings, noise = _settings(code, candidates, options, result)
    if not np.all(np.isfinite(out0)):
        result.verdict, result.reason = OUTSIDE_DOMAIN, "the function's value is not finite at this point"
        return result
    subject = Subject(code.evaluate, code.x, out0, code.eps, code.label, code.output_label, noise=noise)
    if options.eps is not None:
        subject.scale = np.full(code.x.size, options.eps / INITIAL_STEP)
    working = _working(candidates, subject, result)
    if hand is not None and result.methods.get(HAND_WRITTEN, Method("")).status == OK:
        problem = hand.shape_problem()
        if problem:
            return shape_verdict(result, code, hand, subject, problem, code.x.size <= DENSE_LIMIT)
    if not any(c.vjp is not None for c in working):
        result.verdict = ERROR if any(m.status == ERROR for m in result.methods.values()) else UNSUPPORTED
        result.reason = "; ".join(f"{m.name}: {m.reason}" for m in result.methods.values() if m.reason)
        return result
    dense = options.mode == "entries" or (options.mode == "auto" and code.x.size <= DENSE_LIMIT)
    result.mode = "entries" if dense else "projected"
    comparisons, kink = _compare_all(subject, working, settings, options, symbolic, result, dense)
    classify(result, code, comparisons, kink)
    if dense and hand is not None and result.verdict == DISCREPANCY:
        result.diagnoses = diagnose_hand(code, comparisons, options.batch_size)
    result.evaluations = code.calls
    return result


def _start(code, result: CallableCheck):
    """The function's outputs at the point, or None (and the verdict set) when it raises."""
    try:
        return code.start()
    except DiffcheckError:
        raise
    except Exception as err:  # noqa: BLE001 - the user's function failing is the outcome
        result.verdict, result.reason = ERROR, f"the function raised {_first_line(err)}"
        return None


def _settings(code, candidates, options: _Options, result: CallableCheck) -> tuple[Settings, float]:
    """The comparisons' settings: the relative floor for the code's precision (or
    the caller's), and whether each candidate has a float64 run to measure its
    rounding against; and the code's rounding in units of float64's."""
    for candidate in candidates:
        candidate.float64 = code.float64 and code.eps > np.finfo(np.float64).eps
    noise = 1.0 if code.float64 else code.eps / float(np.finfo(np.float64).eps)
    result.rtol = default_rtol(code.eps, noise, options.tolerances) if options.rtol is None else options.rtol
    result.atol = 0.0 if options.atol is None else options.atol
    settings = Settings(result.rtol, result.atol, options.probes, options.directions, options.locate,
                        options.tolerances)
    return settings, noise


def _compare_all(subject, working, settings, options, symbolic, result, dense: bool):
    """Every comparison made, entry by entry or along random directions, and the
    kink found, if any."""
    rng = np.random.default_rng(options.seed)
    if dense:
        return _entries(subject, working, settings, rng, symbolic, result)
    runs = projected(subject, working, settings, rng)
    comparisons = [c for run in runs.values() for c in (run.located or run.comparisons)]
    comparisons += [c for run in runs.values() if run.located for c in run.comparisons]
    return comparisons, next((run.kink for run in runs.values() if run.kink), "")


def _working(candidates, subject, result) -> list[Candidate]:
    """The candidates that run at all; the others are reported with the reason."""
    working = []
    for candidate in candidates:
        try:
            if candidate.vjp is not None:
                candidate.vjp(np.ones(subject.out0.size), "native")
            else:
                candidate.jvp(np.zeros(subject.x.size), "native")
        except DiffcheckError:
            raise
        except Exception as err:  # noqa: BLE001 - a method that cannot run is an outcome
            status = ERROR if candidate.vjp is not None else UNSUPPORTED
            result.methods[candidate.name] = Method(candidate.name, status, _first_line(err))
            continue
        result.methods[candidate.name] = Method(candidate.name)
        working.append(candidate)
    return working


def _entries(subject, candidates, settings, rng, symbolic, result):
    m, n = subject.out0.size, subject.x.size
    cotangents = ([np.ones(1)] if m == 1 else
                  [signs(rng, m, settings.directions) for _ in range(settings.probes)])
    numeric = numeric_entries(subject, cotangents)
    comparisons: list[Comparison] = []
    for c, w in enumerate(cotangents):
        reference, others = _references(numeric[c], symbolic, subject, w, result)
        for values in [*others, *(candidate_entries(cand, w, n) for cand in candidates)]:
            for comparison in compare_entries(reference, values, settings):
                comparison.probe = c
                comparisons.append(comparison)
    if m == 1:
        comparisons += _grad_output_scaling(candidates, cotangents[0], n, settings)
    failed = sorted((x for x in comparisons if x.failed and x.method not in ("numeric",)),
                    key=lambda x: -x.ratio)
    kink = ""
    for comparison in failed[:1]:
        direction = np.zeros(n)
        direction[comparison.input_entry] = subject.scale[comparison.input_entry]
        kink = kink_along(Line(subject, direction), cotangents[comparison.probe])
    located = []
    if m > 1 and not kink:
        by_name = {c.name: c for c in candidates}
        for comparison in failed[:MAX_LOCATED]:
            candidate = by_name.get(comparison.method)
            if candidate is not None and candidate.vjp is not None:
                located.append(locate_output(subject, candidate, comparison.input_entry,
                                             cotangents[comparison.probe], settings))
    return located + comparisons, kink


def _references(numeric: Values, symbolic, subject, w, result):
    """The reference values for one cotangent, and the methods compared with it
    besides the candidates: the symbolic values, when the check has them (the
    numeric ones then compared too), else the numeric ones."""
    exact = symbolic(subject, w) if symbolic is not None else None
    if isinstance(exact, Method):
        result.methods[SYMBOLIC] = exact
    elif exact is not None:
        result.methods[SYMBOLIC] = Method(SYMBOLIC)
        return exact, [numeric]
    return numeric, []


#: The second grad_output a one-output function's backward is run with.  With
#: only the cotangent 1, a backward that forgets to multiply by grad_output is
#: right; it must give this times its answer for 1.
SCALED_COTANGENT = 0.75


def _grad_output_scaling(candidates, unit, n, settings) -> list[Comparison]:
    """torch's backward answer for ``SCALED_COTANGENT``, compared with that many
    times its answer for 1 (linearity in grad_output, which every VJP has).  A
    hand-written gradient is multiplied by the cotangent here, so it is linear
    by construction and not asked."""
    comparisons = []
    for candidate in candidates:
        if candidate.vjp is None or candidate.name != AUTOGRAD:
            continue
        once = candidate_entries(candidate, unit, n)
        scaled = candidate_entries(candidate, unit * SCALED_COTANGENT, n)
        expected = Values(f"{candidate.name} with grad_output 1, times {SCALED_COTANGENT}",
                          once.values * SCALED_COTANGENT, np.zeros(n), once.rounding * SCALED_COTANGENT)
        for comparison in compare_entries(expected, scaled, settings):
            comparison.probe = 0
            comparisons.append(comparison)
    return comparisons


def _symbolic(code, expression, subject):
    """The symbolic backend's gradient of ``expression`` at the inputs, as reference values."""
    if subject.out0.size != 1:
        return Method(SYMBOLIC, UNSUPPORTED, "the expression must describe a scalar-valued fn")
    point = {code.names[p]: np.asarray(code.inputs[p].detach().double().cpu().numpy())
             for p in range(len(code.inputs)) if hasattr(code.inputs[p], "detach")}
    problem = make_problem(expression, point, [code.names[p] for p in code.positions])
    gradient = BACKENDS[SYMBOLIC].gradient(problem, point)
    if not gradient.ok:
        return Method(SYMBOLIC, UNSUPPORTED, gradient.reason)
    if abs(gradient.value - subject.out0[0]) > 1e-6 * max(1.0, abs(gradient.value)) + 1e3 * code.eps * abs(gradient.value):
        return Method(SYMBOLIC, ERROR, f"the expression's value {gradient.value:.10g} differs from "
                      f"fn's {subject.out0[0]:.10g}: it does not describe fn")
    names = [code.names[p] for p in code.positions]
    values = np.concatenate([np.ravel(gradient.gradients[k]) for k in names])
    errors = np.concatenate([np.ravel(gradient.errors[k]) for k in names])
    return Values(SYMBOLIC, values, errors, np.zeros(values.size))

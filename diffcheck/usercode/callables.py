"""Gradient audits of user code: :func:`check`, :func:`assert_gradients`,
:func:`check_gradient_fn`.

The derivatives under test (torch autograd, including custom ``backward`` rules;
forward mode where torch has it; a hand-written gradient function) are compared
with diffcheck's own numeric differentiation, and with the symbolic backend when
the function is also given as an expression.  Small inputs are checked entry by
entry; large ones along random signed directions with a drill-down to the wrong
entries (:mod:`diffcheck.usercode.probes`).  Results use the outcome names of
:data:`diffcheck.checking.harness.OUTCOMES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from diffcheck.backends.numeric import INITIAL_STEP
from diffcheck.checking.diagnosis import Diagnosis, diagnose
from diffcheck.checking.harness import (
    AGREE,
    DISCREPANCY,
    ERROR,
    NONDIFFERENTIABLE,
    OUTSIDE_DOMAIN,
    UNSUPPORTED,
)
from diffcheck.errors import CallableError, DiffcheckError, GradientMismatch
from diffcheck.usercode.probes import (
    MAX_LOCATED,
    Candidate,
    Comparison,
    Line,
    Settings,
    Subject,
    Values,
    candidate_entries,
    compare_entries,
    default_rtol,
    kink_along,
    locate_output,
    numeric_entries,
    projected,
    signs,
)

DENSE_LIMIT = 64   # inputs with at most this many entries are checked entry by entry
AUTOGRAD, FORWARD, HAND_WRITTEN, SYMBOLIC = "autograd", "forward", "grad_f", "symbolic"
OK, UNSUPPORTED_METHOD, FAILED = "ok", "unsupported", "error"


@dataclass
class Method:
    name: str
    status: str = OK
    reason: str = ""


@dataclass
class Mismatch:
    """One compared number: which input entry (and output entry, when located),
    the value under test, the reference, and the tolerance."""

    method: str
    reference_method: str
    value: float
    reference: float
    abs_error: float
    rel_error: float
    tolerance: float
    input: int | None = None        # position among fn's arguments
    input_name: str = ""
    entry: tuple | None = None
    output: int | None = None
    output_entry: tuple | None = None
    probe: int | None = None
    quantity: str = "derivative"

    @property
    def ratio(self) -> float:
        return self.abs_error / self.tolerance if self.tolerance > 0 else float("inf")

    @property
    def key(self) -> tuple:
        """What makes two mismatches the same wrong number: the methods, the entry
        (or probe) and the two values."""
        where = (self.input, self.entry, self.output, self.output_entry) if self.input is not None else self.probe
        return (self.method, self.reference_method, where, float(self.value), float(self.reference))

    def describe(self) -> str:
        if self.input is None:
            where = f"probe {self.probe + 1} (w.J.u along random signed directions)"
        else:
            name = f" ({self.input_name})" if self.input_name else ""
            where = f"input {self.input}{name}, entry {list(self.entry)}"
            if self.output is not None:
                where += f", output {self.output} entry {list(self.output_entry)}"
        return (f"{where}: {self.method} gives {self.value:.10g}, {self.reference_method} gives "
                f"{self.reference:.10g} ({self.quantity}; abs error {self.abs_error:.3g}, rel error "
                f"{self.rel_error:.3g}, tolerance {self.tolerance:.3g})")


@dataclass
class CallableCheck:
    """The outcome of checking one callable's derivatives at one point.

    Printed (``print(result)``, ``str(result)``) it is :meth:`message`: the verdict,
    the worst wrong number and the diagnoses in a few lines; in a REPL its repr is
    the same lines; in a notebook it is a small table.  Attributes:

    ``verdict``
        ``agree``, ``discrepancy``, ``nondifferentiable``, ``unsupported`` or
        ``error`` (:data:`diffcheck.checking.harness.OUTCOMES`); ``ok`` is true for
        ``agree`` and ``nondifferentiable``.
    ``reason``
        one line on why (``"4 wrong numbers found"``); empty when all agree.
    ``mode``, ``dtype``, ``rtol``, ``atol``
        how it compared: every entry or random projections, in what precision,
        with what tolerances.
    ``worst``
        the compared number with the largest error-to-tolerance ratio, wrong or
        not (a :class:`Mismatch`; its ``describe()`` says it in a line).
    ``mismatches``
        the distinct wrong numbers found, located to entries where possible, at
        most 8; each is listed once however many probes met it.
    ``methods``
        each method's name, status and reason (:class:`Method`).
    ``diagnoses``
        what a wrong gradient computes instead, where that could be told.
    ``evaluations``
        calls of the user's function.
    """

    verdict: str
    reason: str = ""
    mode: str = ""                 # "entries" or "projected"
    dtype: str = ""
    rtol: float = 0.0
    atol: float = 0.0
    worst: Mismatch | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    methods: dict[str, Method] = field(default_factory=dict)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    evaluations: int = 0           # calls of the user's function
    what: str = "gradient"         # or "Hessian"

    @property
    def ok(self) -> bool:
        return self.verdict in (AGREE, NONDIFFERENTIABLE)

    def message(self) -> str:
        """A few lines: the verdict and the worst wrong number; never whole arrays."""
        lines = [f"{self.what} check: {self.verdict}" + (f": {self.reason}" if self.reason else "")]
        if self.worst is not None and self.verdict != AGREE:
            lines.append(f"worst: {self.worst.describe()}")
        lines += [f"diagnosis: {d.explanation}" for d in self.diagnoses[:2]]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message()

    def __repr__(self) -> str:
        # A REPL shows the result of diffcheck.check(...): the readable lines, not
        # a dump of every field and array.
        more = f"; {len(self.mismatches)} in .mismatches" if len(self.mismatches) > 1 else ""
        return (f"<CallableCheck {self.message()}\n({self.evaluations} calls of fn{more}; "
                f".message(), .worst, .mismatches, .methods, .diagnoses)>")

    def _repr_html_(self) -> str:
        """A notebook's view: the verdict, then a row per wrong number (escaped)."""
        from html import escape
        rows = "".join(f"<tr><td>{escape(m.describe())}</td></tr>" for m in self.mismatches)
        rows += "".join(f"<tr><td><i>diagnosis:</i> {escape(d.explanation)}</td></tr>" for d in self.diagnoses)
        methods = ", ".join(f"{escape(m.name)}: {escape(m.status)}" for m in self.methods.values())
        return (f"<div><b>{escape(self.what)} check: {escape(self.verdict)}</b>"
                f"{': ' + escape(self.reason) if self.reason else ''}"
                f"<br><small>{methods}; {self.evaluations} calls of fn</small>"
                f"{'<table>' + rows + '</table>' if rows else ''}</div>")


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


def options_of(eps, atol, rtol, probes, mode, directions, seed, batch_size=None) -> _Options:
    if mode not in ("auto", "entries", "projected"):
        raise CallableError(f"mode is 'auto', 'entries' or 'projected', not {mode!r}")
    if directions not in ("rademacher", "gaussian"):
        raise CallableError(f"directions are 'rademacher' or 'gaussian', not {directions!r}")
    if probes < 1:
        raise CallableError(f"probes must be at least 1, got {probes}")
    if eps is not None and not eps > 0:
        raise CallableError(f"eps must be positive, got {eps}")
    return _Options(eps, atol, rtol, probes, mode, directions, seed, batch_size)


def check(fn, *inputs, eps: float | None = None, atol: float | None = None, rtol: float | None = None,
          probes: int = 2, mode: str = "auto", directions: str = "rademacher", seed: int = 0,
          wrt=None, names=None, expression: str | None = None, forward: bool = True,
          locate: bool = True) -> CallableCheck:
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
    drill-down of a failed projected check.  Raises
    :class:`~diffcheck.errors.CallableError` for unusable arguments.
    """
    options = options_of(eps, atol, rtol, probes, mode, directions, seed)
    options.locate = locate
    from diffcheck.usercode.wrappers import TorchCode
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
                      batch_size: int | None = None) -> CallableCheck:
    """Audit the hand-written gradient ``grad_f(*inputs)`` against the derivative of
    the scalar function ``f(*inputs)`` (NumPy or torch code).

    ``grad_f`` returns one gradient per differentiated input (a single array when
    there is one), in order.  For torch code, f's own autograd is checked too.
    ``batch_size`` lets the diagnosis name a missing or extra 1/m.
    """
    options = options_of(eps, atol, rtol, probes, mode, directions, seed, batch_size)
    import sys
    torch = sys.modules.get("torch")
    if torch is not None and any(isinstance(v, torch.Tensor) for v in inputs):
        from diffcheck.usercode.wrappers import TorchCode
        code = TorchCode(f, inputs, wrt, names)
        extra = [Candidate(AUTOGRAD, vjp=code.autograd_vjp, float64=False)]
    else:
        from diffcheck.usercode.wrappers import ArrayCode
        code = ArrayCode(f, inputs, wrt, names)
        extra = []
    hand = _HandWritten(code, grad_f)
    candidates = [Candidate(HAND_WRITTEN, vjp=hand.vjp, float64=False), *extra]
    return audit(code, candidates, options, None, hand)


class _HandWritten:
    """A gradient function as a VJP candidate (f is scalar, so ``w^T J = w grad``)."""

    def __init__(self, code, grad_f):
        self.code, self.grad_f = code, grad_f

    def raw(self, precision) -> list[np.ndarray]:
        got = self.grad_f(*self.code.arguments(self.code.x, precision))
        if len(self.code.positions) == 1 and not isinstance(got, (tuple, list)):
            got = [got]
        if not isinstance(got, (tuple, list)) or len(got) != len(self.code.positions):
            count = len(got) if isinstance(got, (tuple, list)) else 1
            inputs = len(self.code.positions)
            raise CallableError(f"grad_f returned {count} gradient{'s' * (count != 1)} for {inputs} "
                                f"differentiated input{'s' * (inputs != 1)}")
        return [np.asarray(g.detach().cpu().double().numpy() if hasattr(g, "detach") else g,
                           dtype=np.float64) for g in got]

    def shape_problem(self) -> str:
        for k, (g, shape) in enumerate(zip(self.raw("native"), self.code.shapes)):
            if g.shape != shape:
                position = self.code.positions[k]
                return (f"grad_f's gradient for input {position} ({self.code.names[position]}) has shape "
                        f"{g.shape}, the input has shape {shape}")
        return ""

    def vjp(self, w, precision) -> np.ndarray:
        return float(w[0]) * np.concatenate([g.ravel() for g in self.raw(precision)])


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


def audit(code, candidates, options: _Options, symbolic=None, hand=None) -> CallableCheck:
    """Check ``candidates`` (see :class:`~diffcheck.usercode.probes.Candidate`) on ``code`` (a
    :class:`~diffcheck.usercode.wrappers.TorchCode` or ``ArrayCode``); ``symbolic(subject, w)``,
    when given, supplies exact reference values of ``w^T J`` (or a :class:`Method`
    saying why it cannot)."""
    result = CallableCheck(AGREE, dtype=str(code.native).replace("torch.", ""))
    try:
        out0 = code.start()
    except DiffcheckError:
        raise
    except Exception as err:  # noqa: BLE001 - the user's function failing is the outcome
        result.verdict, result.reason = ERROR, f"the function raised {_first_line(err)}"
        return result
    for candidate in candidates:
        candidate.float64 = code.float64 and code.eps > np.finfo(np.float64).eps
    noise = 1.0 if code.float64 else code.eps / float(np.finfo(np.float64).eps)
    result.rtol = default_rtol(code.eps, noise) if options.rtol is None else options.rtol
    result.atol = 0.0 if options.atol is None else options.atol
    settings = Settings(result.rtol, result.atol, options.probes, options.directions, options.locate)
    if not np.all(np.isfinite(out0)):
        result.verdict, result.reason = OUTSIDE_DOMAIN, "the function's value is not finite at this point"
        return result
    subject = Subject(code.evaluate, code.x, out0, code.eps, code.label, code.output_label, noise=noise)
    if options.eps is not None:
        subject.scale = np.full(code.x.size, options.eps / INITIAL_STEP)
    working = _working(candidates, subject, result)
    if hand is not None and HAND_WRITTEN in result.methods and result.methods[HAND_WRITTEN].status == OK:
        problem = hand.shape_problem()
        if problem:
            return _shape_verdict(result, code, hand, subject, problem, options)
    if not any(c.vjp is not None for c in working):
        result.verdict = ERROR if any(m.status == FAILED for m in result.methods.values()) else UNSUPPORTED
        result.reason = "; ".join(f"{m.name}: {m.reason}" for m in result.methods.values() if m.reason)
        return result
    rng = np.random.default_rng(options.seed)
    dense = options.mode == "entries" or (options.mode == "auto" and code.x.size <= DENSE_LIMIT)
    result.mode = "entries" if dense else "projected"
    if dense:
        comparisons, kink = _entries(subject, working, settings, rng, symbolic, result)
    else:
        runs = projected(subject, working, settings, rng)
        comparisons = [c for run in runs.values() for c in (run.located or run.comparisons)]
        comparisons += [c for run in runs.values() if run.located for c in run.comparisons]
        kink = next((run.kink for run in runs.values() if run.kink), "")
    _classify(result, code, comparisons, kink)
    if dense and hand is not None and result.verdict == DISCREPANCY:
        result.diagnoses = _diagnose_hand(code, comparisons, options.batch_size)
    result.evaluations = code.calls
    return result


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
            status = FAILED if candidate.vjp is not None else UNSUPPORTED_METHOD
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
        reference, others = numeric[c], [candidate_entries(cand, w, n) for cand in candidates]
        exact = symbolic(subject, w) if symbolic is not None else None
        if isinstance(exact, Method):
            result.methods[SYMBOLIC] = exact
        elif exact is not None:
            result.methods[SYMBOLIC] = Method(SYMBOLIC)
            reference, others = exact, [numeric[c], *others]
        for values in others:
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
    by_name = {c.name: c for c in candidates}
    for comparison in failed[:MAX_LOCATED]:
        candidate = by_name.get(comparison.method)
        if m > 1 and candidate is not None and candidate.vjp is not None and not kink:
            located.append(locate_output(subject, candidate, comparison.input_entry,
                                         cotangents[comparison.probe], settings))
    return located + comparisons, kink


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
    from diffcheck.backends import BACKENDS
    from diffcheck.checking.harness import make_problem
    if subject.out0.size != 1:
        return Method(SYMBOLIC, UNSUPPORTED_METHOD, "the expression must describe a scalar-valued fn")
    point = {code.names[p]: np.asarray(code.inputs[p].detach().double().cpu().numpy())
             for p in range(len(code.inputs)) if hasattr(code.inputs[p], "detach")}
    problem = make_problem(expression, point, [code.names[p] for p in code.positions])
    gradient = BACKENDS[SYMBOLIC].gradient(problem, point)
    if not gradient.ok:
        return Method(SYMBOLIC, UNSUPPORTED_METHOD, gradient.reason)
    if abs(gradient.value - subject.out0[0]) > 1e-6 * max(1.0, abs(gradient.value)) + 1e3 * code.eps * abs(gradient.value):
        return Method(SYMBOLIC, FAILED, f"the expression's value {gradient.value:.10g} differs from "
                      f"fn's {subject.out0[0]:.10g}: it does not describe fn")
    names = [code.names[p] for p in code.positions]
    values = np.concatenate([np.ravel(gradient.gradients[k]) for k in names])
    errors = np.concatenate([np.ravel(gradient.errors[k]) for k in names])
    return Values(SYMBOLIC, values, errors, np.zeros(values.size))


def _mismatch(code, comparison: Comparison, many_outputs: bool) -> Mismatch:
    mismatch = Mismatch(comparison.method, comparison.reference_method, comparison.value,
                        comparison.reference, comparison.abs_error, comparison.rel_error,
                        comparison.tolerance, probe=comparison.probe)
    if comparison.input_entry is not None:
        mismatch.input, mismatch.input_name, mismatch.entry = code.label(comparison.input_entry)
        mismatch.quantity = "gradient entry" if not many_outputs else "entry of w.J, w random signs"
        if comparison.output_entry is not None:
            mismatch.output, mismatch.output_entry = code.output_label(comparison.output_entry)
            mismatch.quantity = "Jacobian entry"
    return mismatch


def _classify(result: CallableCheck, code, comparisons: list[Comparison], kink: str) -> None:
    many = sum(int(np.prod(s, dtype=int)) for s in code.out_shapes) > 1
    ranked = sorted(comparisons, key=lambda c: (c.failed and c.input_entry is None, -c.ratio))
    failed = [c for c in ranked if c.failed]
    # Located entries explain a failed probe better than the probe itself.
    if failed and any(c.input_entry is not None for c in failed):
        failed = [c for c in failed if c.input_entry is not None]
    failed.sort(key=lambda c: (c.output_entry is None, -c.ratio))
    # The same entry met again (by another probe) is the same wrong number: listed
    # once; and Jacobian entries, where found, explain entries of w.J as well.
    located = {}
    for c in failed:
        mismatch = _mismatch(code, c, many)
        located.setdefault(mismatch.key, mismatch)
    shown = [m for m in located.values() if m.output_entry is not None] or list(located.values())
    result.mismatches = shown[:MAX_LOCATED]
    if comparisons:
        result.worst = result.mismatches[0] if result.mismatches else _mismatch(
            code, max(comparisons, key=lambda c: c.ratio), many)
    methods_failed = [m for m in result.methods.values() if m.status == FAILED]
    if failed and kink:
        result.verdict, result.reason = NONDIFFERENTIABLE, kink
    elif failed:
        result.verdict = DISCREPANCY
        count = len(result.mismatches)
        result.reason = (f"{count}{'+' if len(located) > MAX_LOCATED else ''} wrong "
                         f"number{'s' if count > 1 else ''} found")
    elif methods_failed:
        result.verdict = ERROR
        result.reason = "; ".join(f"{m.name} failed: {m.reason}" for m in methods_failed)


def _diagnose_hand(code, comparisons, batch_size) -> list[Diagnosis]:
    """What the hand-written gradient computes instead, input by input."""
    mine = {c.input_entry: c for c in comparisons if c.method == HAND_WRITTEN and c.probe == 0
            and c.output_entry is None}
    found = []
    for k, (a, b) in enumerate(zip(code.offsets, code.offsets[1:])):
        entries = [mine[i] for i in range(a, b) if i in mine]
        if not any(c.failed for c in entries):
            continue
        claimed = np.array([c.value for c in entries]).reshape(code.shapes[k])
        true = np.array([c.reference for c in entries]).reshape(code.shapes[k])
        tolerance = np.array([c.tolerance for c in entries]).reshape(code.shapes[k])
        name = code.names[code.positions[k]]
        from diffcheck.checking.diagnosis import Context
        for d in diagnose(claimed, true, tolerance, Context(batch_size=batch_size)):
            found.append(Diagnosis(d.kind, f"gradient of {name}: {_reworded(d.explanation)}", d.evidence))
    return found


def _shape_verdict(result, code, hand, subject, problem, options) -> CallableCheck:
    """A gradient of the wrong shape: a discrepancy, explained when the numbers show how."""
    result.verdict, result.reason, result.mode = DISCREPANCY, problem, "entries"
    if code.x.size <= DENSE_LIMIT:
        numeric = numeric_entries(subject, [np.ones(1)])[0]
        for k, g in enumerate(hand.raw("native")):
            if g.shape == code.shapes[k]:
                continue
            a, b = code.offsets[k], code.offsets[k + 1]
            # Ten significant digits: the numeric estimate's last digits are its error.
            true = np.array([float(f"{v:.10g}") for v in numeric.values[a:b]]).reshape(code.shapes[k])
            tolerance = 2 * numeric.errors[a:b].reshape(code.shapes[k]) + result.rtol * np.abs(true)
            name = code.names[code.positions[k]]
            for d in diagnose(g, true, np.max(tolerance, initial=0.0), None):
                result.diagnoses.append(Diagnosis(d.kind, f"gradient of {name}: {_reworded(d.explanation)}",
                                                  d.evidence))
    result.evaluations = code.calls
    return result


def _reworded(explanation: str) -> str:
    # The diagnosis speaks of a document's claim; here the claim is grad_f's result.
    return explanation.replace("the claim", "grad_f's result")

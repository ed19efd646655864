"""Can the verdict be trusted in hard cases?  Run by hand:

    python benchmarks/hard_cases.py            # the whole corpus (about a minute)
    python benchmarks/hard_cases.py --quick    # every fifth case, a smoke test

A corpus of hard checks (ill-conditioned, near poles, fast oscillation,
cancellation, huge and tiny arguments, and a smooth well-conditioned subset).
Each entry is written twice: as diffcheck expression text, and as a Python
function of mpmath numbers.  The reference derivative is computed HERE, with
``mpmath.diff`` at increasing precision (30, 60, 120, ... digits) until two
successive precisions agree to 20 significant digits, independently of
diffcheck's symbolic backend.  Constants are the float64 numbers the text
denotes (``1e-15`` is the double nearest 1e-15), and the point is the float64
point, so the reference is the exact derivative of what diffcheck was given.

Prints per-verdict counts and:
- misses: ``agree`` while a method (engine, torch, symbolic, or numeric unless
  it was reported skipped) is wrong by more than 1e-6 relative and by more than
  the tolerance the check allowed it (for numeric, also its own error
  estimate; for symbolic, its own error bound);
- loose agreements: ``agree`` while a method is wrong by more than 1e-6
  relative but within the tolerance the check allowed it (float64 rounding
  after cancellation; the tolerance is still below the value judged, so the
  check could have failed);
- symbolic references wrong by more than their own error bound (any verdict);
- blamed right method: a ``discrepancy`` whose blamed method is within 1e-6
  relative of the reference;
- numeric failures: numeric wrong by more than 1e-6 relative, or skipped;
- on the smooth subset, the numeric method's median and worst relative error
  beside ``numdifftools.Derivative`` and ``scipy.differentiate.derivative``.
"""

from __future__ import annotations

import argparse
import collections
import math
import re
import statistics
import sys
import warnings
from pathlib import Path

import mpmath
import numpy as np
from mpmath import mp, mpf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diffcheck import check_expr  # noqa: E402
from diffcheck.checking.harness import make_problem, normalise_point  # noqa: E402
from diffcheck.language.expr import evaluate  # noqa: E402

WRONG = 1e-6
AGREE_DIGITS = 20
PRECISIONS = (30, 60, 120, 240, 480, 960)


def c(value: float):
    """A constant as diffcheck reads it: the float64 number, exactly."""
    return mpf(float(value))


def corpus():
    """(family, text, mpmath function of keyword arguments, point)."""
    out = []

    def add(family, text, fun, **point):
        out.append((family, text, fun, point))

    # Ill-conditioned: nested exponentials, large powers.
    for x in (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0):
        add("ill-conditioned", "exp(exp(x))", lambda x: mp.exp(mp.exp(x)), x=x)
    for x in (0.1, 0.5, 1.0, 1.5):
        add("ill-conditioned", "exp(exp(exp(x)))", lambda x: mp.exp(mp.exp(mp.exp(x))), x=x)
    for k in (20, 50, 100, 200):
        for x in (0.9, 1.1, 2.0, 5.0):
            add("ill-conditioned", f"x**{k}", lambda x, k=k: x ** k, x=x)
    for x in (-3.0, 0.5, 2.0, 10.0):
        add("ill-conditioned", "exp(x**2)*sin(x)", lambda x: mp.exp(x ** 2) * mp.sin(x), x=x)
    for x in (1.0, 2.0, 3.0):
        add("ill-conditioned", "exp(exp(x) - exp(x)*x/x)", lambda x: mp.exp(mp.exp(x) - mp.exp(x) * x / x), x=x)

    # Cancellation amplified past 50 digits: the reference must raise its precision.
    for x in (3.0, 3.5, 4.5, 5.0):
        add("ill-conditioned", "sin(exp(exp(x)))", lambda x: mp.sin(mp.exp(mp.exp(x))), x=x)
    for k in (20, 40, 60, 100):
        add("ill-conditioned", f"exp(x) - exp(x*(1+1e-{k}))",
            lambda x, k=k: mp.exp(x) - mp.exp(x * (1 + c(10.0 ** -k))), x=3.0)

    # Near poles.
    for k in range(1, 11):
        x = 1.0 + 10.0 ** -k
        add("near pole", "1/(x-1)", lambda x: 1 / (x - 1), x=x)
    for x2 in (0.3, 0.1, 0.031455984976756834, 0.01, 1e-3, 1e-4, -0.02):
        add("near pole", "x1**5/x2**3", lambda x1, x2: x1 ** 5 / x2 ** 3, x1=-0.9421629873898021, x2=x2)
    for k in range(1, 8):
        x = float(mp.pi / 2) - 10.0 ** -k
        add("near pole", "tan(x)", lambda x: mp.tan(x), x=x)
    for x in (1e-2, 1e-5, 1e-10, 1e-100):
        add("near pole", "log(x)*x**2", lambda x: mp.log(x) * x ** 2, x=x)
    for x in (0.05, 0.01, 0.002):
        add("near pole", "1/x - 1/(x+x**2)", lambda x: 1 / x - 1 / (x + x ** 2), x=x)

    # Fast oscillation.
    for k in (10.0, 31.0, 100.0, 316.0, 1000.0, 1850.0, 3162.0, 10000.0):
        for x in (0.3, 1.7):
            add("oscillation", f"sin({k}*x)", lambda x, k=k: mp.sin(c(k) * x), x=x)
    for k in (50.0, 500.0, 5000.0):
        for x in (0.2, 0.9):
            add("oscillation", f"cos({k}*x)*exp(-x)", lambda x, k=k: mp.cos(c(k) * x) * mp.exp(-x), x=x)
            add("oscillation", f"sin({k}*x**2)", lambda x, k=k: mp.sin(c(k) * x ** 2), x=x)

    # Cancellation.
    for d in (1e-3, 1e-6, 1e-9, 1e-12, 1e-15):
        add("cancellation", f"exp(x) - exp(x)*(1+{d})", lambda x, d=d: mp.exp(x) - mp.exp(x) * (1 + c(d)), x=3.0)
    for x in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8):
        add("cancellation", "(1-cos(x))/x**2", lambda x: (1 - mp.cos(x)) / x ** 2, x=x)
        add("cancellation", "log(1+x) - x", lambda x: mp.log(1 + x) - x, x=x)
        add("cancellation", "(exp(x) - 1)/x", lambda x: (mp.exp(x) - 1) / x, x=x)
    physics = "q/(4*pi*epsilon*y**2)*(4*pi*epsilon*Volt*d - q*d*y**3/(y**2-d**2)**2)"

    def phys(q, epsilon, Volt, d, y):
        return q / (4 * mp.pi * epsilon * y ** 2) * (4 * mp.pi * epsilon * Volt * d - q * d * y ** 3 / (y ** 2 - d ** 2) ** 2)

    for q, eps, volt, d, y in ((1.5, 2.0, 3.0, 1.2, 3.5), (4.0, 1.1, 2.5, 1.9, 3.1), (2.2, 4.7, 1.3, 1.0, 4.8),
                               (3.3, 1.5, 4.1, 1.6, 3.0), (1.1, 3.9, 2.0, 1.3, 4.2)):
        add("cancellation", physics, phys, q=q, epsilon=eps, Volt=volt, d=d, y=y)

    # Huge and tiny arguments.
    for x in (1e5, 1e10, 1e15, 1e20, 1e38):
        add("huge/tiny", "sin(x)", lambda x: mp.sin(x), x=x)
    for x in (700.0, -700.0, 1e-300):
        add("huge/tiny", "exp(x)", lambda x: mp.exp(x), x=x)
    for x in (1e-300, 1e300, 1e-20):
        add("huge/tiny", "log(x)", lambda x: mp.log(x), x=x)
        add("huge/tiny", "sqrt(x)", lambda x: mp.sqrt(x), x=x)
    for x in (20.0, 1e-10, -30.0):
        add("huge/tiny", "tanh(x)", lambda x: mp.tanh(x), x=x)
        add("huge/tiny", "x*exp(-x)", lambda x: x * mp.exp(-x), x=x)
    for x in (1e150, 1e-150):
        add("huge/tiny", "x**2", lambda x: x ** 2, x=x)

    # Smooth and well conditioned (also the anchors' corpus).
    smooth = (("sin(x)*exp(x)", lambda x: mp.sin(x) * mp.exp(x)),
              ("log(1+x**2)", lambda x: mp.log(1 + x ** 2)),
              ("x**3 - 2*x", lambda x: x ** 3 - 2 * x),
              ("tanh(x)*x", lambda x: mp.tanh(x) * x),
              ("sqrt(1+x**2)", lambda x: mp.sqrt(1 + x ** 2)),
              ("atan(x)*cos(x)", lambda x: mp.atan(x) * mp.cos(x)),
              ("exp(-x**2/2)", lambda x: mp.exp(-x ** 2 / 2)),
              ("1/(1+x**2)", lambda x: 1 / (1 + x ** 2)),
              ("sigmoid(x)*x**2", lambda x: x ** 2 / (1 + mp.exp(-x))),
              ("cosh(x)/(2+sin(x))", lambda x: mp.cosh(x) / (2 + mp.sin(x))))
    for text, fun in smooth:
        for x in (-1.3, 0.4, 0.9, 2.1):
            add("smooth", text, fun, x=x)
    # The physics formula at points drawn in [1, 5] (y above d), seeded.
    rng = np.random.default_rng(15)
    for _ in range(8):
        q, eps, volt = (float(v) for v in rng.uniform(1, 5, 3))
        d = float(rng.uniform(1, 2))
        y = float(rng.uniform(3, 5))
        add("smooth", physics, phys, q=q, epsilon=eps, Volt=volt, d=d, y=y)
    return out


LITERAL = re.compile(r"\d+(?:\.\d*)?[eE][-+]?\d+")


def reference(fun, point: dict, name: str, text: str = ""):
    """d fun / d name at the point: mpmath.diff at increasing precision until two
    successive precisions agree to AGREE_DIGITS digits; (value, settled)."""
    previous = None
    # Digits the point's own magnitude uses up: exp(x) at x = 1e-300 is 1 to the
    # first 300 digits, so two low precisions would agree on a derivative of 0.
    # A literal far from 1 the same way: 1 + 1e-100 is 1 at 30 and at 60 digits.
    literals = [float(m) for m in LITERAL.findall(text)]
    decades = max((abs(math.log10(abs(v))) for v in [*point.values(), *literals] if v != 0), default=0.0)
    for dps in PRECISIONS:
        with mp.workdps(dps + math.ceil(decades)):
            args = {k: mpf(float(v)) for k, v in point.items()}

            x = args[name]
            # Differentiate in a relative coordinate: mpmath's default step is
            # absolute, too small to move x = 1e300 and too large near x = 1e-300.
            unit = abs(x) if x != 0 else mpf(1)

            def partial(s):
                return fun(**{**args, name: x + unit * s})

            value = mpmath.diff(partial, mpf(0)) / unit
            if previous is not None:
                scale = max(abs(value), abs(previous))
                if abs(value - previous) <= mpf(10) ** -AGREE_DIGITS * scale:
                    return float(value), True
            previous = value
    return float(previous), False


def relative_error(got: float, exact: float, scale: float) -> float:
    if not np.isfinite(got):
        return float("inf") if np.isfinite(exact) or got != exact else 0.0
    if not np.isfinite(exact):
        return float("inf")
    return abs(got - exact) / (abs(exact) if exact != 0 else max(scale, 1e-300))


def _beyond(wrong, exact, scale) -> bool:
    """Whether a method's error exceeds the tolerance the check allowed it."""
    name, rel, allowed = wrong
    size = abs(exact[name]) if exact[name] != 0 else max(scale, 1e-300)
    return rel * size > allowed


def float64_function(text, point, name):
    """The expression as a float64 function of one variable (for the anchors)."""
    problem = make_problem(text, normalise_point(point))

    def f(t):
        t = np.asarray(t, dtype=np.float64)
        values = {k: np.full(t.shape, v, dtype=np.float64) for k, v in point.items()}
        values[name] = t
        with np.errstate(all="ignore"):
            return np.asarray(evaluate(problem.expr, values, batch=True), dtype=np.float64).reshape(t.shape) \
                if t.ndim else float(evaluate(problem.expr, {k: float(v[()]) for k, v in values.items()}))
    return f


def anchors(text, point, name):
    import numdifftools
    from scipy.differentiate import derivative

    f = float64_function(text, point, name)
    x = float(point[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nd = float(numdifftools.Derivative(lambda t: f(np.asarray(t, dtype=np.float64)))(x))
        sp = float(derivative(f, x).df)
    return nd, sp


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every fifth case only (a smoke test)")
    parser.add_argument("--verbose", action="store_true", help="print every check")
    args = parser.parse_args(argv)
    cases = corpus()
    if args.quick:
        cases = cases[::5]
    verdicts = collections.Counter()
    by_family = collections.defaultdict(collections.Counter)
    worst_smooth, numeric_unsure = [], []
    misses, loose, blamed_right, numeric_failures, unsettled, wrong_bounds = [], [], [], [], [], []
    smooth_errors = {"numeric": [], "numdifftools": [], "scipy.differentiate": []}
    for family, text, fun, point in cases:
        result = check_expr(text, point)
        verdicts[result.verdict] += 1
        by_family[family][result.verdict] += 1
        exact = {}
        for name in point:
            exact[name], settled = reference(fun, point, name, text)
            if not settled:
                unsettled.append(f"{text} at {point} d/d{name}")
        scale = max((abs(v) for v in exact.values() if np.isfinite(v)), default=0.0)
        wrong = {}   # method -> (variable, relative error, what the check allowed it)
        for method, answer in result.results.items():
            if not answer.gradients:
                continue
            for name, value in answer.gradients.items():
                got = float(np.asarray(value))
                err = relative_error(got, exact[name], scale)
                stated = float(np.asarray(answer.errors.get(name, 0.0))) if method == "numeric" else 0.0
                if err > WRONG and abs(got - exact[name]) > stated:
                    allowed = result.tolerances.get(method, {}).get(name)
                    allowed = float(np.asarray(allowed)) if allowed is not None else stated
                    wrong.setdefault(method, (name, err, allowed))
        reference_answer = result.results.get("symbolic")
        if reference_answer is not None and reference_answer.ok:
            for name, value in reference_answer.gradients.items():
                got, bound = float(np.asarray(value)), float(np.asarray(reference_answer.errors[name]))
                if np.isfinite(exact[name]) and abs(got - exact[name]) > bound + 4 * math.ulp(exact[name]):
                    if relative_error(got, exact[name], scale) > 1e-13:
                        wrong_bounds.append(f"{text} at {point} d/d{name}: symbolic {got:.17g} "
                                            f"+- {bound:.3g}, script {exact[name]:.17g}")
        numeric = result.results.get("numeric")
        if numeric is not None and (numeric.status != "ok" or "numeric" in wrong):
            why = numeric.reason if numeric.status != "ok" else f"rel error {wrong['numeric'][1]:.2g}"
            numeric_failures.append(f"{text} at {point}: numeric {numeric.status}: {why[:90]}")
        if numeric is not None and numeric.ok and not all(
                np.all(np.isfinite(e)) for e in numeric.errors.values()):
            numeric_unsure.append(f"{text} at {point}")
        counted = {m: w for m, w in wrong.items()
                   if m != "numeric" or (numeric is not None and numeric.status == "ok")}
        if result.verdict == "agree" and counted:
            beyond = {m: w for m, w in counted.items() if _beyond(w, exact, scale)}
            line = f"{text} at {point}: " + ", ".join(
                f"{m} d/d{v} rel error {e:.2g} (the check allowed {a / max(abs(exact[v]), 1e-300):.2g})"
                for m, (v, e, a) in counted.items())
            (misses if beyond else loose).append(line)
        if result.verdict == "discrepancy":
            for d in result.discrepancies:
                blamed = d.backend
                if blamed in result.results and blamed not in wrong:
                    blamed_right.append(f"{text} at {point}: blamed {blamed}, right within {WRONG:g}")
        if family == "smooth":
            for name in point:
                nd, sp = anchors(text, point, name)
                got = float(np.asarray(result.results["numeric"].gradients[name]))
                smooth_errors["numeric"].append(relative_error(got, exact[name], scale))
                worst_smooth.append((relative_error(got, exact[name], scale), f"{text} at {point} d/d{name}"))
                smooth_errors["numdifftools"].append(relative_error(nd, exact[name], scale))
                smooth_errors["scipy.differentiate"].append(relative_error(sp, exact[name], scale))
        if args.verbose:
            print(f"{family:16s} {text[:40]:40s} {point} -> {result.verdict}: {result.reason[:100]}")

    print(f"hard cases: {len(cases)} checks{' (--quick)' if args.quick else ''}")
    print("verdicts: " + ", ".join(f"{v} {n}" for v, n in verdicts.most_common()))
    for family, counts in by_family.items():
        print(f"  {family:16s} " + ", ".join(f"{v} {n}" for v, n in counts.most_common()))
    print(f"misses (agree while a method is wrong by > {WRONG:g} relative and by more than the "
          f"tolerance the check allowed it): {len(misses)}")
    for line in misses:
        print("  " + line)
    print(f"loose agreements (agree, a method wrong by > {WRONG:g} relative but within the tolerance "
          f"the check allowed it, itself below the value judged): {len(loose)}")
    for line in loose:
        print("  " + line)
    print(f"symbolic references wrong by more than their own error bound: {len(wrong_bounds)}")
    for line in wrong_bounds:
        print("  " + line)
    print(f"discrepancies that blame a right method: {len(blamed_right)}")
    for line in blamed_right:
        print("  " + line)
    print(f"numeric-method failures (wrong by > {WRONG:g} relative beyond its estimate, or skipped): "
          f"{len(numeric_failures)}")
    for line in numeric_failures:
        print("  " + line)
    print(f"numeric said it could not tell (no table converged; excluded from the comparison): "
          f"{len(numeric_unsure)}")
    if args.verbose:
        for line in numeric_unsure:
            print("  " + line)
    if unsettled:
        print(f"references that did not settle to {AGREE_DIGITS} digits by {PRECISIONS[-1]} digits: {len(unsettled)}")
        for line in unsettled:
            print("  " + line)
    if smooth_errors["numeric"]:
        print(f"smooth subset: {len(smooth_errors['numeric'])} partial derivatives, relative error")
        for label, errors in smooth_errors.items():
            print(f"  {label:20s} median {statistics.median(errors):9.2e}   worst {max(errors):9.2e}")
        error, where = max(worst_smooth)
        print(f"  numeric's worst: {where} ({error:.2g})")
    return 1 if misses or blamed_right or wrong_bounds else 0


if __name__ == "__main__":
    sys.exit(main())

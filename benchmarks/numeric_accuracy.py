"""How accurate is the numeric backend?  Run by hand: python benchmarks/numeric_accuracy.py

Over the smooth corpus in tests/corpus.py, compares every partial
derivative from the numeric backend, and from plain central differences with the
fixed step 1e-6 (torch.autograd.gradcheck's default), with the mpmath reference.
Prints the median and worst relative error, how often the error estimate bounds
the true error, function evaluations per derivative, and the verdicts of full
four-method checks with default tolerances (any verdict but agree on a smooth
point is a false alarm).
"""

from __future__ import annotations

import collections
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from corpus import SMOOTH, cases  # noqa: E402

from diffcheck import check_expr  # noqa: E402
from diffcheck.backends import BACKENDS  # noqa: E402
from diffcheck.language.expr import evaluate  # noqa: E402
from diffcheck.checking.harness import make_problem, normalise_point  # noqa: E402


def fixed_step(problem, point, name, h=1e-6):
    values = {k: np.array(v, dtype=float) for k, v in point.items()}
    out = np.empty(problem.shapes[name])
    for index in np.ndindex(*problem.shapes[name]):
        x = values[name][index]
        values[name][index] = x + h
        up = float(evaluate(problem.expr, values))
        values[name][index] = x - h
        down = float(evaluate(problem.expr, values))
        values[name][index] = x
        out[index] = (up - down) / (2 * h)
    return out


def relative(err, ref):
    return err / max(abs(ref), 1e-300) if ref != 0 else err


def main():
    richardson_errors, fixed_errors, evaluations, bounded, total = [], [], [], 0, 0
    verdicts = collections.Counter()
    alarms = []
    pairs = cases()
    for text, at in pairs:
        point = normalise_point(at)
        problem = make_problem(text, point)
        reference = BACKENDS["symbolic"].gradient(problem, point)
        numeric = BACKENDS["numeric"].gradient(problem, point)
        entries = sum(int(np.prod(problem.shapes[n], dtype=int)) for n in problem.wrt)
        evaluations.append(numeric.evaluations / entries)
        for name in problem.wrt:
            fixed = fixed_step(problem, point, name)
            for index in np.ndindex(*problem.shapes[name]):
                ref = float(reference.gradients[name][index])
                err = abs(float(numeric.gradients[name][index]) - ref)
                richardson_errors.append(relative(err, ref))
                fixed_errors.append(relative(abs(float(fixed[index]) - ref), ref))
                bounded += err <= numeric.errors[name][index]
                total += 1
        result = check_expr(text, at)
        verdicts[result.verdict] += 1
        if result.verdict != "agree":
            alarms.append(f"  {text} at {at}: {result.verdict}: {result.reason}")

    def line(label, errors):
        print(f"  {label:38s} median {statistics.median(errors):9.2e}   "
              f"90th pct {np.percentile(errors, 90):9.2e}   worst {max(errors):9.2e}")

    print(f"corpus: {len(SMOOTH)} expressions, {len(pairs)} (expression, point) pairs, "
          f"{total} partial derivatives")
    print("relative error against the mpmath reference:")
    line("numeric backend (Richardson)", richardson_errors)
    line("central difference, fixed h = 1e-6", fixed_errors)
    print(f"  error estimate bounds the true error: {bounded}/{total}")
    print(f"evaluations per derivative: median {statistics.median(evaluations):.0f}, "
          f"mean {statistics.mean(evaluations):.1f}, max {max(evaluations):.0f}")
    print("verdicts of full checks with default tolerances: "
          + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    print("\n".join(alarms) if alarms else "false alarms: 0")
    detected, eligible = engine_mutant_detection(pairs, 1e-7)
    print(f"every engine rule scaled by (1 + 1e-7): detected in {detected}/{eligible} pairs "
          "(pairs whose gradient is not all zero)")


def engine_mutant_detection(pairs, relative):
    """Scale every vector-Jacobian rule by (1 + relative); count checks that notice."""
    import dataclasses

    from diffcheck.language.ops import OPS

    original = dict(OPS)

    def scaled(rule):
        return lambda *args, **params: rule(*args, **params) * (1 + relative)

    try:
        for key, op in original.items():
            OPS[key] = dataclasses.replace(op, vjp=tuple(scaled(r) for r in op.vjp))
        detected = eligible = 0
        for text, at in pairs:
            result = check_expr(text, at)
            reference = result.results["symbolic"].gradients
            if all(not np.any(g) for g in reference.values()):
                continue
            eligible += 1
            detected += result.verdict == "discrepancy" and any(
                d.backend == "engine" for d in result.discrepancies)
        return detected, eligible
    finally:
        OPS.clear()
        OPS.update(original)


if __name__ == "__main__":
    main()

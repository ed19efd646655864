"""How fast is diffcheck?  Run by hand: python benchmarks/throughput.py [--quick]

Every figure is measured side by side in one run and quoted as a ratio, because
the machines this runs on are shared and noisy:

1. Full four-method cross-checks (``diffcheck.check_points``: symbolic reference,
   numeric, engine and torch, with compile time included) against
   ``torch.autograd.gradcheck`` (slow and fast mode, which check torch alone) on
   the same (expression, point) pairs, 32 to 1024 points per expression.
2. The engine's forward and backward pass against torch's (forward plus
   ``torch.autograd.grad``) on the same graphs: chains of 10 to 100,000 ops, and
   a short expression over tensors of 10,000 to 1,000,000 entries; and the time
   for a graph twice as long.
3. The catalogue audit's wall time against the time to start Python and import
   its libraries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sympy.core.cache import clear_cache

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diffcheck.language import engine  # noqa: E402
from diffcheck.checking.batch import check_points  # noqa: E402
from diffcheck.checking.harness import forget_compiled  # noqa: E402
from diffcheck.language.expr import Apply, Var  # noqa: E402
from diffcheck.language.ops import OPS  # noqa: E402

#: (expression, shapes, the same function in torch)
PAIRS = [
    ("sin(x)*exp(y) + log(1 + x**2) * tanh(y)", {"x": (), "y": ()},
     lambda t, x, y: t.sin(x) * t.exp(y) + t.log(1 + x ** 2) * t.tanh(y)),
    ("sum(tanh(v) * w) + mean(v**2)", {"v": (16,), "w": (16,)},
     lambda t, v, w: (t.tanh(v) * w).sum() + (v ** 2).mean()),
    ("mean((sigmoid(X @ w + b) - y)**2)", {"X": (12, 3), "w": (3,), "b": (), "y": (12,)},
     lambda t, X, w, b, y: ((t.sigmoid(X @ w + b) - y) ** 2).mean()),
    ("sum(relu(W @ x + c) * u)", {"W": (8, 4), "x": (4,), "c": (8,), "u": (8,)},
     lambda t, W, x, c, u: (t.relu(W @ x + c) * u).sum()),
]


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def cross_check_rate(points_per_expression: int, repeat: int):
    import torch
    rng = np.random.default_rng(7)
    print(f"1. full cross-checks against gradcheck, {points_per_expression} points per expression "
          f"(ms per pair, best of {repeat})")
    print(f"   {'expression':42} {'diffcheck':>10} {'gc slow':>9} {'gc fast':>9} {'slow/dc':>8} {'fast/dc':>8}")
    ratios = []
    # Warm up: imports and first-call set-up of SymPy and torch are not per-pair costs.
    check_points("sin(x) * y", [{"x": 0.5, "y": 2.0}, {"x": 0.7, "y": 1.0}])
    torch.autograd.gradcheck(torch.sin, (torch.tensor([0.5], dtype=torch.float64, requires_grad=True),))
    for text, shapes, fn in PAIRS:
        points = [{k: rng.normal(size=s) for k, s in shapes.items()} for _ in range(points_per_expression)]
        tensors = [[torch.tensor(p[k], dtype=torch.float64, requires_grad=True) for k in shapes]
                   for p in points]
        verdicts = set()

        def ours():
            # SymPy and diffcheck cache what they derived; a repeat would otherwise
            # not pay for deriving the expression again, which a run does once per expression.
            clear_cache()
            forget_compiled()
            verdicts.update(r.verdict for r in check_points(text, points))

        def gradcheck(fast):
            for args in tensors:
                torch.autograd.gradcheck(lambda *a: fn(torch, *a), args, fast_mode=fast)

        n = len(points)
        t_ours = best_of(ours, repeat) / n * 1e3
        t_slow = best_of(lambda: gradcheck(False), repeat) / n * 1e3
        t_fast = best_of(lambda: gradcheck(True), repeat) / n * 1e3
        ratios.append(t_slow / t_ours)
        print(f"   {text[:42]:42} {t_ours:10.3f} {t_slow:9.3f} {t_fast:9.3f} {t_slow / t_ours:8.2f} "
              f"{t_fast / t_ours:8.2f}   verdicts: {', '.join(sorted(verdicts))}")
    print(f"   geometric mean of gradcheck-slow time / diffcheck time: "
          f"{statistics.geometric_mean(ratios):.2f}")


def chain(length: int):
    """sin(cos(sin(... x))) with ``length`` ops, built directly (the parser caps text size)."""
    node = Var("x")
    ops = [OPS["sin"], OPS["cos"], OPS["tanh"], OPS["mul"]]
    for i in range(length):
        op = ops[i % len(ops)]
        node = Apply(op, (node, node) if op.arity == 2 else (node,))
    return node


def torch_graph(torch, expr, leaves):
    from diffcheck.backends.torch_backend import lower
    return lower(torch, expr, leaves)


def engine_against_torch(repeat: int, lengths: list[int], largest_tensor: int):
    import torch
    print(f"2. engine forward+backward against torch forward+autograd.grad (ms, best of {repeat})")
    print(f"   {'graph':34} {'engine':>9} {'torch':>9} {'engine/torch':>13} {'engine 2x/1x':>13}")
    times = {}
    for length in lengths:
        expr = chain(length)
        x = np.array(0.3)
        t_engine = best_of(lambda: engine.value_and_grad(expr, {"x": x}, ["x"]), repeat)

        def run_torch():
            leaf = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
            out = torch_graph(torch, expr, {"x": leaf})
            torch.autograd.grad(out, [leaf])

        t_torch = best_of(run_torch, repeat)
        times[length] = t_engine
        growth = f"{t_engine / times[length // 2]:13.2f}" if length // 2 in times else " " * 13
        print(f"   {f'chain of {length:,} scalar ops':34} {t_engine * 1e3:9.2f} {t_torch * 1e3:9.2f} "
              f"{t_engine / t_torch:13.2f} {growth}")
    from diffcheck.language.parser import parse
    text = "sum(tanh(A * B + sin(A)) * exp(-B) + sigmoid(A - B) ** 2)"
    expr = parse(text, ["A", "B"])
    check_points(text, [{"A": [0.1, 0.2], "B": [0.3, 0.4]}])   # warm torch's kernels up
    size = 10_000
    while size <= largest_tensor:
        rng = np.random.default_rng(size)
        a, b = rng.normal(size=size), rng.normal(size=size)
        t_engine = best_of(lambda: engine.value_and_grad(expr, {"A": a, "B": b}, ["A", "B"]), repeat)

        def run_torch():
            leaves = {"A": torch.tensor(a, requires_grad=True), "B": torch.tensor(b, requires_grad=True)}
            torch.autograd.grad(torch_graph(torch, expr, leaves), list(leaves.values()))

        t_torch = best_of(run_torch, repeat)
        print(f"   {f'11 ops on {size:,}-entry tensors':34} {t_engine * 1e3:9.2f} {t_torch * 1e3:9.2f} "
              f"{t_engine / t_torch:13.2f}")
        size *= 10


def audit_against_startup(repeat: int):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    imports = "import diffcheck.documents.audit, diffcheck.cli, numpy, sympy, mpmath, torch, rich, jinja2, jsonschema"
    start_up = best_of(lambda: subprocess.run([sys.executable, "-c", imports], check=True, env=env), repeat)
    out = Path("/tmp") / f"diffcheck-throughput-{os.getpid()}"
    print("3. catalogue audit (json report) against starting Python and importing its libraries")
    print(f"   start-up and imports {start_up:.2f} s")
    for jobs in (0, 2):
        audit = best_of(lambda: subprocess.run(
            [sys.executable, "-m", "diffcheck", "audit", "-q", "--exit-zero", "--format", "json",
             "--report-dir", str(out), "--jobs", str(jobs)], check=True, env=env, cwd=ROOT), repeat)
        print(f"   audit --jobs {jobs}: {audit:.2f} s, ratio to start-up {audit / start_up:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer points, smaller graphs")
    args = parser.parse_args()
    import torch
    # One thread each: NumPy (the engine) runs single-threaded, and on a shared
    # two-core machine torch's thread pool measures the neighbours' load.
    torch.set_num_threads(1)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, NumPy {np.__version__}, "
          f"torch {torch.__version__} (1 thread)")
    # The rate grows with the points per expression (compiling is paid once per
    # expression); 32 is the floor the figure is quoted for, 1024 a property run's size.
    for points in ([32, 1024] if args.quick else [32, 256, 1024]):
        cross_check_rate(points, 1 if args.quick else 3)
    lengths = [10, 100, 1_000, 2_000, 10_000, 20_000]
    engine_against_torch(1 if args.quick else 3, lengths + ([] if args.quick else [50_000, 100_000]),
                         100_000 if args.quick else 1_000_000)
    audit_against_startup(1 if args.quick else 3)


if __name__ == "__main__":
    main()

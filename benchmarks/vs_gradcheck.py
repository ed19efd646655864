"""diffcheck.check against torch.autograd.gradcheck (slow and fast mode), side by side.

For inputs of 10 to 100,000 entries: wall time and function evaluations on a
correct sigmoid-MSE loss; detection of a planted single wrong gradient entry
(one entry's derivative 1.5 times too large) and of a small relative error
(every derivative 1e-4 too large); false alarms on the correct loss in float64 and
float32.  Run by hand:

    python benchmarks/vs_gradcheck.py [--sizes 10,100,1000,10000,100000] [--slow-max 10000]

gradcheck's slow mode perturbs every entry (two evaluations each); above
``--slow-max`` entries it is skipped and its time estimated from the largest size
it ran, as quadratic in the size (2n evaluations, each costing O(n)).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

import diffcheck


class Counted:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


def sigmoid_with(index=None, factor=1.0, everywhere=1.0):
    """sigmoid with a custom backward: entry ``index`` scaled by ``factor``, all by ``everywhere``."""

    class Sigmoid(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            s = torch.sigmoid(x)
            ctx.save_for_backward(s)
            return s

        @staticmethod
        def backward(ctx, grad_output):
            s, = ctx.saved_tensors
            derivative = s * (1 - s) * everywhere
            if index is not None:
                derivative = derivative.clone()
                derivative.view(-1)[index] *= factor
            return grad_output * derivative

    return Sigmoid.apply


def loss(sigmoid, target):
    return lambda x: ((sigmoid(x) - target) ** 2).mean()


def run(method, fn, x):
    counted = Counted(fn)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method.startswith("diffcheck"):
            probes = 1 if "1 probe" in method else 2
            ok = diffcheck.check(counted, x, forward=False, probes=probes).verdict == "agree"
        else:
            ok = torch.autograd.gradcheck(counted, (x,), fast_mode=method == "gradcheck fast",
                                          raise_exception=False)
    return ok, time.perf_counter() - start, counted.calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000,10000,100000")
    parser.add_argument("--slow-max", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=100, help="points for the false-alarm rates")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    methods = ["diffcheck", "diffcheck 1 probe", "gradcheck slow", "gradcheck fast"]
    run("diffcheck", loss(torch.sigmoid, torch.zeros(3)), torch.zeros(3, requires_grad=True))  # imports
    rows = []
    slow_rate = None
    for n in sizes:
        rng = np.random.default_rng(n)
        x = torch.tensor(rng.standard_normal(n), requires_grad=True)
        target = torch.tensor(rng.uniform(0, 1, n))
        index = int(rng.integers(0, n))
        for method in methods:
            if method == "gradcheck slow" and n > args.slow_max:
                rows.append((n, method, f"~{slow_rate * n * n:.0f} s (est.)", 2 * n + 2, "-", "-", "-", "-"))
                print(*rows[-1], sep=" | ", flush=True)
                continue
            ok, seconds, calls = run(method, loss(torch.sigmoid, target), x)
            if method == "gradcheck slow":
                slow_rate = seconds / (n * n)
            single = not run(method, loss(sigmoid_with(index, 1.5), target), x)[0]
            small = not run(method, loss(sigmoid_with(everywhere=1 + 1e-4), target), x)[0]
            alarms64 = alarms32 = 0
            repeats = args.repeats if method != "gradcheck slow" else (20 if n <= 1000 else 2)
            for r in range(repeats):
                point = torch.tensor(np.random.default_rng(r).standard_normal(n) * 2)
                alarms64 += not run(method, loss(torch.sigmoid, target), point.clone().requires_grad_(True))[0]
                alarms32 += not run(method, loss(torch.sigmoid, target.float()),
                                    point.float().requires_grad_(True))[0]
            rows.append((n, method, f"{seconds:.3f} s", calls, "yes" if single else "no",
                         "yes" if small else "no", f"{alarms64}/{repeats}", f"{alarms32}/{repeats}"))
            print(*rows[-1], sep=" | ", flush=True)
    header = ("entries", "method", "wall time", "evaluations", "finds 1 wrong entry",
              "finds 1e-4 rel. error", "false alarms f64", "false alarms f32")
    print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    main()

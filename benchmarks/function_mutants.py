"""Mutation suite, torch part: mutants of custom autograd Functions and of the
documents' hand-written gradient formula, checked by diffcheck and by
torch.autograd.gradcheck (default settings, slow and fast mode) at the same points.

Function mutants (of a CustomMul-like product and a broadcast bias-scale):
swapped inputs, a missing grad_output factor, a mean instead of a sum over the
broadcast dimension, and the gradient returned for the wrong input.  Formula
mutants of document 003's ``torch.mean(dl_dy * dy_df * ds_dz * X, dim=0)``: a sum
instead of the batch mean, a lost factor 2, a lost sigmoid derivative, a flipped
sign, and the mean over the wrong axis.  The correct versions, in float64 and
float32, count false alarms.  ``layer`` (a square weight matrix, so a transposed
gradient has the right shape) is used by ``mutations.py``, which runs all of
these at generated inputs.  The subjects live in ``tests/function_subjects.py``.  Run by hand:

    python benchmarks/function_mutants.py [--points 5]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

import diffcheck

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from function_subjects import FORMULAS, FUNCTIONS, formula  # noqa: E402



def inputs(name, rng, dtype):
    if name.startswith("product"):
        return [torch.tensor(rng.standard_normal(6), dtype=dtype, requires_grad=True) for _ in range(2)]
    if name.startswith("broadcast"):
        return [torch.tensor(rng.standard_normal((4, 3)), dtype=dtype, requires_grad=True),
                torch.tensor(rng.standard_normal((1, 3)), dtype=dtype, requires_grad=True)]
    X = torch.tensor(rng.standard_normal((12, 2)) * 2, dtype=dtype)
    y = torch.tensor(rng.uniform(0, 1, 12), dtype=dtype)
    return [torch.tensor(rng.standard_normal(2), dtype=dtype, requires_grad=True),
            torch.tensor(rng.standard_normal(1), dtype=dtype, requires_grad=True), X, y]


def flagged(method, fn, args) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "diffcheck":
            return diffcheck.check(fn, *args).verdict != "agree"
        try:
            return not torch.autograd.gradcheck(fn, tuple(args), fast_mode=method == "gradcheck fast",
                                                raise_exception=False)
        except Exception:   # noqa: BLE001 - gradcheck raising is also a flag
            return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=5)
    args = parser.parse_args()
    methods = ["diffcheck", "gradcheck slow", "gradcheck fast"]
    subjects = [(name, fn) for name, fn in FUNCTIONS.items()]
    subjects += [(f"003 formula: {v}", formula(v)) for v in FORMULAS]
    print("| subject | dtype | " + " | ".join(methods) + " |\n|---|---|" + "---|" * len(methods))
    for name, fn in subjects:
        correct = name.endswith("correct")
        for dtype in ((torch.float64, torch.float32) if correct else (torch.float64,)):
            counts = {m: 0 for m in methods}
            for point in range(args.points):
                rng = np.random.default_rng(point)
                for method in methods:
                    counts[method] += flagged(method, fn, inputs(name, rng, dtype))
            what = "false alarms" if correct else "detected"
            cells = [f"{what} {counts[m]}/{args.points}" for m in methods]
            print(f"| {name} | {str(dtype)[6:]} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

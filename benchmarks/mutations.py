"""Verifying the verifier: inject faults, measure that diffcheck catches every one,
and that correct code raises no alarm.

Three families of mutants, each run against *generated* inputs (Hypothesis, seeded,
so a run of the same source is reproducible), never hand-picked ones:

* engine rules (``tests/rule_mutants.py``): every op's vector-Jacobian rule, every
  argument, every kind of fault.  Each op gets its own pool of expressions from
  :func:`diffcheck.testing.strategies.expressions` over that op and a few companions,
  keeping only trees that apply the op to something that depends on a variable
  (elsewhere the engine never calls its rule), with points from
  :func:`diffcheck.testing.strategies.points` (kinks and ties included); the mutated op is
  substituted into each tree and the pairs are checked in order with
  :func:`diffcheck.checking.batch.check_points` until the first detection;
* ``torch.autograd.Function`` subclasses with custom backward passes and
  hand-written gradient formulas (``tests/function_subjects.py``), at inputs whose shapes
  and values Hypothesis draws, checked by :func:`diffcheck.check` and by
  ``torch.autograd.gradcheck`` at its defaults, slow and fast mode, on the same
  points.

"Examples" is the number of generated (expression, point) pairs, or points for
the torch mutants, up to and including the first one on which the check fails.
A mutant is detected by a ``discrepancy`` naming the mutated method, or by an
``error`` when the mutant crashes it.  Every unmutated run is a false-alarm trial:
any verdict other than ``agree``, ``nondifferentiable`` or ``outside_domain`` on
correct code counts.

    nice python benchmarks/mutations.py [--budget 400] [--seed 0]   # the table
    nice python benchmarks/mutations.py --pairs 10000 [--seed 0]    # false alarms only
"""

from __future__ import annotations

import argparse
import collections
import faulthandler
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hypothesis import strategies as st  # noqa: E402

from mutation_kit import (POINTS_PER_EXPRESSION, SOUND, TORCH_METHODS, _import_everything, _inputs,  # noqa: E402
                          drawn, expression_pool, first_detection, torch_flag, torch_subjects)
from rule_mutants import RuleMutant, all_mutants  # noqa: E402

from diffcheck.checking.batch import check_points  # noqa: E402


@dataclass
class Row:
    family: str
    mutant: str
    detail: str
    detected: dict          # method -> examples needed (int), or None when not detected
    how: dict               # method -> "discrepancy" / "error" / ""
    budget: int


def engine_rows(strategies, budget: int, seed: int, progress=print) -> tuple[list[Row], collections.Counter, list]:
    """One row per engine rule mutant (and per n/a kind), the verdicts of the
    unmutated pools, and the false alarms found there."""
    rows, verdicts, alarms = [], collections.Counter(), []
    pools: dict[str, list] = {}
    for entry in all_mutants():
        if not isinstance(entry, RuleMutant):
            op, position, kind, reason = entry
            rows.append(Row("engine rule", f"{op.name}[{position}]: {kind}", reason, {}, {}, 0))
            continue
        name = entry.op.name
        if name not in pools:
            pools[name] = expression_pool(strategies, name, budget, seed)
            for tree, points in pools[name]:
                for result in check_points(tree, points):
                    verdicts[result.verdict] += 1
                    if result.verdict not in SOUND:
                        alarms.append(result)
        examples, how, tried = first_detection(entry, pools[name])
        rows.append(Row("engine rule", entry.name, entry.detail, {"diffcheck": examples},
                        {"diffcheck": how}, tried))
        progress(f"  {entry.name}: {'not detected' if examples is None else f'{examples} ({how})'}")
    return rows, verdicts, alarms


def torch_rows(budget: int, seed: int, progress=print) -> list[Row]:
    """Per torch subject and method: examples until the first flag (mutants), or the
    number of flags over all ``budget`` points (correct versions)."""
    strategies = _inputs()
    rows = []
    for family, name, fn, key, note in torch_subjects():
        points = drawn(strategies[key], budget, seed)
        correct = name.endswith(": correct")
        detected, how = {}, {}
        for method in TORCH_METHODS:
            flags = []
            for arrays in points:
                flags.append(torch_flag(method, fn, arrays))
                if flags[-1] and not correct:
                    break
            if correct:
                detected[method] = sum(bool(f) for f in flags)
                how[method] = ", ".join(sorted({f for f in flags if f}))
            else:
                detected[method] = len(flags) if flags and flags[-1] else None
                how[method] = flags[-1] if flags else ""
        rows.append(Row(family, name, note, detected, how, len(points)))
        progress(f"  {name}: {detected} {how}")
    return rows


# --- false alarms over many generated pairs ---------------------------------------

def false_alarm_run(strategies, pairs: int, seed: int, progress=print) -> dict:
    """Check ``pairs`` generated (expression, point) pairs of correct code over every
    op: half with points drawn as usual, half kink-heavy (most entries on or a hair
    from a kink or a tie).  Returns verdict counts, counts at kink points, the false
    alarms (as :class:`~diffcheck.testing.strategies.Drawn` with their results) and the time."""
    start = time.perf_counter()
    verdicts, at_kinks, alarms = collections.Counter(), collections.Counter(), []
    checked = 0
    for kink_heavy, share in ((False, pairs // 2), (True, pairs - pairs // 2)):
        pool = drawn(strategies.expressions(max_leaves=8).flatmap(lambda tree: st.lists(
            strategies.points(tree, kink_heavy=kink_heavy), min_size=POINTS_PER_EXPRESSION,
            max_size=POINTS_PER_EXPRESSION).map(lambda pts: (tree, pts))),
            -(-share // POINTS_PER_EXPRESSION), seed + kink_heavy)
        for tree, points in pool:
            began = time.perf_counter()
            # A check stuck for minutes shows where, without being stopped.
            faulthandler.dump_traceback_later(300)
            for point, result in zip(points, check_points(tree, points)):
                checked += 1
                verdicts[result.verdict] += 1
                if result.kinks:
                    at_kinks[result.verdict] += 1
                if result.verdict not in SOUND:
                    alarms.append((strategies.Drawn(tree, point), result))
                    progress(f"  false alarm: {alarms[-1][0]!r}: {result.verdict}: {result.reason}")
            faulthandler.cancel_dump_traceback_later()
            if time.perf_counter() - began > 30:
                progress(f"  slow: {time.perf_counter() - began:.0f} s for {strategies.Drawn(tree, points[0])!r}")
            if checked % 1000 < POINTS_PER_EXPRESSION:
                progress(f"  {checked} pairs, {len(alarms)} false alarms, {time.perf_counter() - start:.0f} s")
    return {"pairs": checked, "verdicts": verdicts, "at_kinks": at_kinks, "alarms": alarms,
            "seconds": time.perf_counter() - start}


# --- the report -----------------------------------------------------------------

def _cell(row: Row, method: str) -> str:
    if method not in row.detected:
        return ""
    found = row.detected[method]
    if row.mutant.endswith(": correct"):
        return f"{found}/{row.budget} false alarms"
    if found is None:
        return f"no (0 of {row.budget})"
    how = row.how.get(method, "")
    return f"yes, {found}" + (f" ({how})" if how and how not in ("discrepancy", "fails") else "")


def print_table(rows: list[Row], methods=("diffcheck",)) -> None:
    print("| family | mutant | fault | " + " | ".join(f"{m}: detected, examples needed" for m in methods) + " |")
    print("|---|---|---|" + "---|" * len(methods))
    for row in rows:
        cells = [_cell(row, m) if row.detected else "n/a" for m in methods]
        print(f"| {row.family} | {row.mutant} | {row.detail} | " + " | ".join(cells) + " |")


def summarise(rows: list[Row], method: str = "diffcheck") -> None:
    """Per kind of fault: mutants, detected, median and worst examples needed."""
    kinds: dict[str, list] = collections.defaultdict(list)
    for row in rows:
        if row.detected and not row.mutant.endswith(": correct") and not row.detail.startswith("equivalent"):
            kinds[row.mutant.split(": ", 1)[1] if row.family == "engine rule" else row.family].append(
                row.detected[method])
    print(f"| kind | mutants | detected by {method} | examples needed: median, worst |\n|---|---|---|---|")
    for kind, found in kinds.items():
        hits = sorted(f for f in found if f is not None)
        spread = f"{int(np.median(hits))}, {hits[-1]}" if hits else "-"
        print(f"| {kind} | {len(found)} | {len(hits)} | {spread} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=400,
                        help="generated pairs (engine) or points (torch) tried per mutant")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=int, default=0,
                        help="only count false alarms over this many generated pairs")
    parser.add_argument("--only", choices=("engine", "torch"), help="run one part of the table")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args()
    _import_everything()
    import diffcheck.testing.strategies as strategies
    progress = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    started = time.perf_counter()
    if args.pairs:
        run = false_alarm_run(strategies, args.pairs, args.seed, progress)
        print(f"{run['pairs']} generated (expression, point) pairs, float64, seed {args.seed}, "
              f"{run['seconds']:.0f} s")
        print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(run["verdicts"].items())))
        print(f"at a kink or tie: {sum(run['at_kinks'].values())} pairs: "
              + ", ".join(f"{k} {v}" for k, v in sorted(run["at_kinks"].items())))
        print(f"false alarms: {len(run['alarms'])}")
        for drawn_pair, result in run["alarms"]:
            print(f"  {drawn_pair!r}: {result.verdict}: {result.reason}")
        return
    rows: list[Row] = []
    if args.only != "torch":
        engine, verdicts, alarms = engine_rows(strategies, args.budget, args.seed, progress)
        print(f"## Engine rules ({args.budget} generated pairs per mutant at most, seed {args.seed})\n")
        print_table(engine)
        print()
        summarise(engine)
        print(f"\nunmutated pools: {sum(verdicts.values())} pairs: "
              + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
              + f"; false alarms: {len(alarms)}")
        for result in alarms:
            print(f"  {result.expression} at { {k: v.tolist() for k, v in result.point.items()} }: "
                  f"{result.verdict}: {result.reason}")
        rows += engine
    if args.only != "engine":
        torch_part = torch_rows(min(args.budget, 50), args.seed, progress)
        print(f"\n## Custom autograd Functions and hand-written formulas "
              f"({min(args.budget, 50)} generated points per subject, seed {args.seed})\n")
        print_table(torch_part, TORCH_METHODS)
        print()
        for method in TORCH_METHODS:
            summarise(torch_part, method)
            print()
    print(f"wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

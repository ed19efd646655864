"""Long fuzz run: hostile and random inputs through the parser, the case loader and
check_expr, with a planted sentinel.  Run by hand:

    nice python benchmarks/fuzz_inputs.py --inputs 100000 --seed 1

Uses the generators of ``tests/hostile.py`` (the CI tests run the same ones, fewer).
Prints inputs tried by kind, faults injected, outcomes, errors escaped and whether
the sentinel fired; exits 1 if anything escaped or ran.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hostile import (COLLIDING_NAMES, Escaped, Sentinel, case_file, expression,  # noqa: E402
                     mutate, point, random_text, try_check, try_load, try_parse)

# Share of inputs by kind; a sample of the parsed expressions also goes through check_expr.
KINDS = {"structured expression": 0.40, "mutated expression": 0.25, "random text": 0.15,
         "case file": 0.05, "mutated case file": 0.10, "random bytes as case file": 0.05}


def run(total: int, seed: int, check_every: int, directory: Path):
    rnd = random.Random(seed)
    sentinel = Sentinel(directory / "sentinel")
    payloads = sentinel.payloads()
    tried, outcomes, faults, escaped = Counter(), Counter(), Counter(), []
    path = directory / "doc.toml"
    parsed = 0
    for number in range(total):
        kind = rnd.choices(list(KINDS), weights=list(KINDS.values()))[0]
        tried[kind] += 1
        names = rnd.sample(COLLIDING_NAMES, 3)
        try:
            if kind.endswith("expression") or kind == "random text":
                if kind == "random text":
                    text = random_text(rnd, 60)
                else:
                    text = expression(rnd, names, payloads)
                    faults["hostile leaf"] += any(p in text for p in payloads)
                    if kind == "mutated expression":
                        text = mutate(rnd, text)
                        faults["mutation"] += 1
                outcome, tree = try_parse(text, names)
                outcomes[f"parse: {outcome}"] += 1
                if outcome == "parsed":
                    parsed += 1
                    if parsed % check_every == 0:
                        tried["check_expr"] += 1
                        outcomes[f"check_expr: {try_check(text, point(rnd, names))}"] += 1
            else:
                if kind == "random bytes as case file":
                    data = rnd.randbytes(rnd.randint(0, 400))
                    faults["random bytes"] += 1
                else:
                    text = case_file(rnd, payloads)
                    if kind == "mutated case file":
                        text = mutate(rnd, text, ["[", "]", "=", '"', "\n", "[[case]]", "{", "}"])
                        faults["mutation"] += 1
                    data = text.encode("utf-8", "surrogatepass")
                path.write_bytes(data)
                cases, errors = try_load(path)
                outcomes["load: cases loaded"] += cases
                outcomes["load: errors reported"] += errors
        except Escaped as err:
            escaped.append(f"{kind}: {err}")
        if number and number % 10_000 == 0:
            print(f"  {number:,} inputs, {len(escaped)} escaped", file=sys.stderr, flush=True)
    triggered = sentinel.triggered()
    sentinel.close()
    return tried, faults, outcomes, escaped, triggered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check-every", type=int, default=40,
                        help="send every Nth parsed expression through check_expr")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        tried, faults, outcomes, escaped, triggered = run(args.inputs, args.seed, args.check_every,
                                                          Path(directory))
    seconds = time.perf_counter() - started
    print(f"inputs tried: {args.inputs:,} (seed {args.seed}, {seconds:.0f} s)")
    for kind, count in tried.most_common():
        print(f"  {kind}: {count:,}")
    print("faults injected:")
    for kind, count in faults.most_common():
        print(f"  {kind}: {count:,}")
    print("outcomes:")
    for kind, count in sorted(outcomes.items()):
        print(f"  {kind}: {count:,}")
    print(f"errors escaped: {len(escaped)}")
    for line in escaped[:20]:
        print(f"  {line[:300]}")
    print(f"sentinel triggered: {int(triggered)}")
    return 1 if escaped or triggered else 0


if __name__ == "__main__":
    sys.exit(main())

"""How many of the hand catalogue's code claims (cases/*.toml) the static code
finder reproduces on the four seed documents (text exports of notebooks).

Rough on purpose: the readers that turn files into blocks are written elsewhere,
so this splits the text exports itself (`In [n]:` starts a cell; the longest
prefix that parses as Python is the code, the paragraphs after it that look like
output are its output; `# >>>` comments become output when nothing else is).
A hand claim counts as reproduced when the finder makes a claim of the same kind
(value, gradient, accumulate or descent entries) with the same numbers (to 3
decimals). Run from the repository root:

    python benchmarks/codefinder_seeds.py [-v] [SEEDS_DIR]
"""

from __future__ import annotations

import ast
import glob
import os
import re
import sys
import tomllib

import numpy as np

from diffcheck.checking.precision import claimed as read_claimed
from diffcheck.reading.codefinder import find
from diffcheck.reading.document import Block, Document, Location

OUTPUT_START = re.compile(r"^(tensor\(|\[|-?\d|array\()")


def split(path: str) -> Document:
    document = Document(os.path.basename(path))
    pieces = re.split(r"^(In \[[^\]]*\]):\n", open(path, encoding="utf-8").read(), flags=re.M)
    for label, body in zip(pieces[1::2], pieces[2::2]):
        lines = body.split("\n")
        best = 0
        for i in range(1, len(lines) + 1):
            if i < len(lines) and lines[i].strip():
                continue
            stop = i + 1 < len(lines) and OUTPUT_START.match(lines[i + 1])
            try:
                ast.parse("\n".join(lines[:i]))
                best = i
            except SyntaxError:
                pass
            if stop:
                break
        code = "\n".join(lines[:best])
        output = []
        for paragraph in re.split(r"\n\s*\n", "\n".join(lines[best:]).strip("\n")):
            prose = re.match(r"^[A-Z][a-z]+ [a-z]+ [a-z]+", paragraph) and not re.search(r"tensor\(|\d", paragraph)
            if paragraph.startswith(("#", "<", "*", "-", "$")) or prose:
                break
            output.append(paragraph)
        arrows = re.findall(r"#\s*>>>\s*(.*)", code)
        if arrows and not output:
            output = ["\n".join(arrows)]
        index = document.add(Block("code", code, Location(document.path, 1, label)))
        if output:
            document.add(Block("output", "\n\n".join(output), Location(document.path, 1, label), of=index))
    return document


def _numbers(text: str):
    try:
        value, _ = read_claimed(text)
    except Exception:
        return None
    return str(np.asarray(value, float).ravel().round(3).tolist())


def numbers_claimed(claims) -> list[tuple[str, str]]:
    out = []
    for claim in claims:
        kind = claim["kind"]
        if kind in ("value", "gradient"):
            out.append((kind, _numbers(claim["claimed"])))
        elif kind == "accumulate":
            out.extend(("accumulate", _numbers(s)) for s in claim.get("shown", []) if s)
        elif kind == "descent":
            for step in claim.get("shown", []):
                if "loss" in step:
                    out.append(("descent", _numbers(step["loss"])))
                for part in ("before", "grad", "after"):
                    out.extend(("descent", _numbers(v)) for v in step.get(part, {}).values())
    return out


def main(argv) -> None:
    verbose = "-v" in argv
    seeds = next((a for a in argv if not a.startswith("-")), "/work/shared/seeds")
    total = reproduced = 0
    for seed in sorted(glob.glob(os.path.join(seeds, "*.txt"))):
        found = find(split(seed))
        name = os.path.basename(seed).replace(".txt", ".toml")
        hand = tomllib.load(open(os.path.join("cases", name), "rb"))
        # Code claims: the kinds code prints, located in a cell.
        hand_claims = numbers_claimed(
            claim for case in hand["case"] for claim in case.get("claim", [])
            if claim["kind"] in ("value", "gradient", "accumulate", "descent")
            and re.search(r"In \[", claim.get("where", case["where"])))
        pool = numbers_claimed(c for case in found.cases for c in case.get("claim", []))
        mine = len(pool)
        hits = 0
        for item in hand_claims:
            if item in pool:
                pool.remove(item)
                hits += 1
            elif verbose:
                print("   not reproduced:", item)
        runs = [(case["where"], c["error"]) for case in found.cases for c in case["claim"] if c["kind"] == "runs"]
        print(f"{name}: hand code claims {len(hand_claims)}, reproduced {hits}; finder claims {mine}, "
              f"runs findings {len(runs)}, unread {len(found.unread)}")
        if verbose:
            for where, error in runs:
                print("   runs:", where, "|", error)
            for unread in found.unread:
                print("   unread:", unread.location.cell, unread.quote[:50], "|", unread.reason)
        total += len(hand_claims)
        reproduced += hits
    print(f"total: {reproduced}/{total}")


if __name__ == "__main__":
    main(sys.argv[1:])

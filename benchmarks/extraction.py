"""How well diffcheck reads documents by itself: extraction against hand catalogues.

Run by hand from the repository root:

    python benchmarks/extraction.py [--seeds DIR] [--cases DIR] [--no-audit]

For every seed document (default /work/shared/seeds/*.txt) with a hand catalogue
`cases/<stem>.toml`, it prints

* the share of the catalogue's claims the extractor found (same kind, a quote or
  location that matches, and the same claimed value), with the misses listed;
* the catalogue's refuted findings that the audit of the document itself
  reproduces with the same diagnosis (same true value, same diagnosis kinds);
* refuted findings of the document audit the catalogue does not have, with
  location and quote, for a human to judge;
* extraction time per seed, and for the generated 40 KB Markdown document
  (whose claims are all right, so its refutations are false alarms).

Then the same figures for the teaching-document corpus in tests/documents
against its answer key expected.toml (planted mistakes found, false alarms,
unread passages listed, extraction time per document).

Needs `diffcheck.reading.extract`; without it, it says so and exits with 2.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS_DIR = REPO / "tests" / "documents"
sys.path[:0] = [str(REPO), str(DOCS_DIR)]      # this checkout's diffcheck, not an installed one
import answerkey

QUOTE_SIMILARITY = 0.6      # difflib ratio above which two quotes are the same passage
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
TIMING_REPEATS = 3


# ------------------------------------------------------------------ claims as comparable rows

def claim_rows(cases: list[dict]) -> list[dict]:
    """Every claim of case tables (catalogue or extracted), flattened with its case's defaults."""
    rows = []
    for case in cases:
        for claim in case.get("claim", []) or []:
            rows.append({
                "kind": claim.get("kind", ""),
                "where": str(claim.get("where") or case.get("where") or ""),
                "quote": str(claim.get("quote") or case.get("quote") or ""),
                "payload": payload(claim),
                "case": case.get("name", ""),
            })
    return rows


def payload(claim: dict) -> str:
    """What a claim asserts, as text: the claimed value, formula, steps or shown trajectory."""
    for key in ("claimed", "formula", "steps", "shown"):
        if key in claim:
            value = claim[key]
            return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return ""


def numbers(text: str) -> list[float]:
    return [float(n) for n in NUMBER.findall(text)]


def same_payload(a: str, b: str) -> bool:
    na, nb = numbers(a), numbers(b)
    if na or nb:
        return len(na) == len(nb) and all(abs(x - y) <= 1e-9 * max(1.0, abs(x)) for x, y in zip(na, nb))
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)


def similar_text(a: str, b: str) -> bool:
    a, b = " ".join(a.split()), " ".join(b.split())
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= QUOTE_SIMILARITY


def same_passage(a: dict, b: dict) -> bool:
    return similar_text(a["quote"], b["quote"]) or (
        bool(a["where"]) and answerkey.parse_where(a["where"]) == answerkey.parse_where(b["where"])
        and answerkey.parse_where(a["where"]) != (None, None))


# ------------------------------------------------------------------ audit runs

def audit(paths: list[Path], workdir: Path) -> tuple[dict | None, str]:
    """Audit `paths` in one run; the JSON report (None if none was written) and stderr."""
    out = Path(tempfile.mkdtemp(dir=workdir))
    run = subprocess.run([sys.executable, "-m", "diffcheck", "audit", *map(str, paths),
                          "--format", "json", "--report-dir", str(out), "-q"],
                         cwd=REPO, capture_output=True, text=True, check=False)
    report = out / "diffcheck-audit.json"
    return (json.loads(report.read_text(encoding="utf-8")) if report.exists() else None), run.stderr


def refuted(report: dict | None, name: str) -> list[dict]:
    if report is None:
        return []
    return [f for f in answerkey.findings_by_document(report).get(name, [])
            if f.get("status") == "refuted"]


def same_diagnosis(a: dict, b: dict) -> bool:
    ta, tb = json.dumps(a.get("true")), json.dumps(b.get("true"))
    kinds_a = {d.get("kind") for d in a.get("diagnoses", [])}
    kinds_b = {d.get("kind") for d in b.get("diagnoses", [])}
    return same_payload(ta, tb) and kinds_a == kinds_b


def timed_extract(extract, path: Path):
    best, result = float("inf"), None
    for _ in range(TIMING_REPEATS):
        start = time.perf_counter()
        result = extract(path)
        best = min(best, time.perf_counter() - start)
    return result, best


# ------------------------------------------------------------------ the two halves

def seeds_report(extract, seeds: list[Path], cases_dir: Path, workdir: Path, run_audit: bool) -> None:
    print("== Seeds against their hand catalogues ==")
    pairs = [(s, cases_dir / f"{s.stem}.toml") for s in seeds]
    pairs = [(s, c) for s, c in pairs if c.exists()]
    if not pairs:
        print("  no seed with a catalogue")
        return
    cat_report = doc_report = None
    if run_audit:
        cat_report, err1 = audit([c for _, c in pairs], workdir)
        doc_report, err2 = audit([s for s, _ in pairs], workdir)
        for err in (err1, err2):
            if "Traceback" in err:
                print("  the audit printed a traceback:\n" + err[-2000:])
    total_found = total_claims = 0
    for seed, catalogue in pairs:
        with open(catalogue, "rb") as fh:
            cat_cases = tomllib.load(fh).get("case", [])
        ex, seconds = timed_extract(extract, seed)
        want, got = claim_rows(cat_cases), claim_rows(ex.cases)
        found, passage_only, missed = 0, 0, []
        for w in want:
            same = [g for g in got if g["kind"] == w["kind"] and same_passage(w, g)]
            if any(same_payload(w["payload"], g["payload"]) for g in same):
                found += 1
            else:
                passage_only += bool(same)
                missed.append(w)
        total_found += found
        total_claims += len(want)
        print(f"\n{seed.name}: extraction {seconds * 1000:.0f} ms, {len(ex.cases)} cases, "
              f"{len(got)} claims, {len(ex.unread)} unread, {len(ex.problems)} problems")
        print(f"  catalogue claims found: {found}/{len(want)} ({found / max(1, len(want)):.0%}); "
              f"{passage_only} more at the right place with another value")
        for w in missed:
            print(f"    missed {w['kind']:<11} {w['where'][:30]:<30} {w['quote'][:60]!r}")
        if not run_audit:
            continue
        want_ref = refuted(cat_report, seed.name)
        got_ref = refuted(doc_report, seed.name)
        reproduced = [w for w in want_ref
                      if any(same_passage(_row(w), _row(g)) and same_diagnosis(w, g) for g in got_ref)]
        print(f"  catalogue refutations reproduced with the same diagnosis: "
              f"{len(reproduced)}/{len(want_ref)}")
        for w in want_ref:
            if w not in reproduced:
                print(f"    not reproduced: {w.get('where', '')[:30]} {w.get('quote', '')[:60]!r}")
        extra = [g for g in got_ref if not any(same_passage(_row(w), _row(g)) for w in want_ref)]
        print(f"  refutations the catalogue does not have (judge by hand): {len(extra)}")
        for g in extra:
            print(f"    {g.get('where', '')} | {g.get('quote', '')[:70]!r}\n      {g.get('message', '')[:150]}")
    print(f"\nall seeds: catalogue claims found {total_found}/{total_claims} "
          f"({total_found / max(1, total_claims):.0%})")


def _row(finding: dict) -> dict:
    return {"where": str(finding.get("where", "")), "quote": str(finding.get("quote", ""))}


def long_markdown_timing(extract, workdir: Path, run_audit: bool) -> None:
    spec = importlib.util.spec_from_file_location("hostile_make", DOCS_DIR / "hostile" / "make.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    path = make.make_long_markdown(workdir)
    ex, seconds = timed_extract(extract, path)
    print(f"\n== Generated Markdown ({path.stat().st_size / 1000:.1f} kB) ==\n"
          f"  extraction {seconds:.2f} s (best of {TIMING_REPEATS}), {len(ex.cases)} cases, "
          f"{len(claim_rows(ex.cases))} claims, {len(ex.unread)} unread, {len(ex.problems)} problems")
    if run_audit:
        # Every claim of this document is right by construction: any refutation is a false alarm.
        start = time.perf_counter()
        report, _ = audit([path], workdir)
        alarms = refuted(report, path.name)
        print(f"  audit {time.perf_counter() - start:.1f} s, refuted (all false alarms): {len(alarms)}")
        for f in alarms[:10]:
            print(f"    {f.get('where', '')} | {f.get('quote', '')[:70]!r}")


def corpus_report(extract, workdir: Path, run_audit: bool) -> None:
    print("\n== Teaching-document corpus against expected.toml ==")
    key = answerkey.load_key()
    report = audit([d.path for d in key], workdir)[0] if run_audit else None
    totals = {k: 0 for k in ("claims", "located", "mistakes", "found", "alarms", "unexplained", "unread", "listed")}
    for doc in key:
        ex, seconds = timed_extract(extract, doc.path)
        cells = answerkey.notebook_cells(doc.path) if doc.file.endswith(".ipynb") else None
        extracted = [answerkey.Where(*answerkey.parse_where(r["where"]), r["quote"])
                     for r in claim_rows(ex.cases)]
        claims = [c for c in doc.claims if c.kind != "unread"]
        located = [c for c in claims if any(c in answerkey.candidates(doc, w, cells) for w in extracted)]
        findings = answerkey.findings_by_document(report).get(doc.file, []) if report else []
        s = answerkey.score(doc, findings, ex.unread, ex.problems)
        n_mistakes = len(doc.mistakes())
        line = (f"{doc.file:<32} {seconds * 1000:6.0f} ms  claims located {len(located):>2}/{len(claims):<2}"
                f"  unread listed {len(s.unread_listed)}/{len(doc.unread())}")
        if run_audit:
            line += (f"  mistakes found {len(s.found)}/{n_mistakes}  false alarms {len(s.false_alarms)}"
                     f"  unexplained {len(s.unexplained)}")
        print(line)
        for c in s.missed if run_audit else ():
            print(f"    missed: {c.describe()} -- {c.why}")
        for f, _ in s.false_alarms:
            print(f"    false alarm: {f.get('where')} {f.get('quote', '')[:60]!r}: {f.get('message', '')[:100]}")
        for f in s.unexplained:
            print(f"    unexplained: {f.get('where')} {f.get('quote', '')[:60]!r}: {f.get('message', '')[:100]}")
        for c in s.unread_missing:
            print(f"    not listed as unread: {c.describe()}")
        for k, v in {"claims": len(claims), "located": len(located), "mistakes": n_mistakes,
                     "found": len(s.found), "alarms": len(s.false_alarms), "unexplained": len(s.unexplained),
                     "unread": len(doc.unread()), "listed": len(s.unread_listed)}.items():
            totals[k] += v
    print(f"\ncorpus: claims located {totals['located']}/{totals['claims']}, "
          f"unread listed {totals['listed']}/{totals['unread']}"
          + (f", planted mistakes found {totals['found']}/{totals['mistakes']}, "
             f"false alarms {totals['alarms']}, unexplained refutations {totals['unexplained']}"
             if run_audit else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, default=Path("/work/shared/seeds"),
                        help="folder of seed documents (*.txt, *.md, *.ipynb, ...)")
    parser.add_argument("--cases", type=Path, default=REPO / "cases", help="folder of hand catalogues")
    parser.add_argument("--no-audit", action="store_true", help="extraction figures only (quicker)")
    args = parser.parse_args(argv)
    try:
        from diffcheck.reading.extract import extract
    except ImportError as exc:
        print(f"diffcheck.reading.extract is not available ({exc}); the document readers have not "
              "landed on this branch yet, so there is nothing to measure.", file=sys.stderr)
        return 2
    seeds = sorted(p for p in args.seeds.iterdir() if p.is_file()) if args.seeds.is_dir() else []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        seeds_report(extract, seeds, args.cases, workdir, not args.no_audit)
        long_markdown_timing(extract, workdir, not args.no_audit)
        corpus_report(extract, workdir, not args.no_audit)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How long the reports take: the default audit (all four formats) against the
JSON-only audit, and the JSON-only audit against Python's start-up with the
libraries imported, side by side in one run.

    python benchmarks/report_speed.py [--paths cases] [--repeat 1] [--jobs 0]

Each round runs, one after another in fresh processes:

1. ``python -c "import numpy, sympy, mpmath, torch, click, rich, jinja2, jsonschema"``
   (the start-up any run of diffcheck pays before it checks anything);
2. ``python -m diffcheck audit -q --format json`` on the paths;
3. ``python -m diffcheck audit -q --format json,md,junit,html --plots findings`` on
   the same paths (the plots a project gets by default).

Rounds alternate the three, so a machine shared with other work slows each about
equally; the best of the rounds is kept for each.  Both wall time and CPU time
(user + system of the child process) are printed: on a busy machine the CPU time
is the steadier of the two.  The two ratios the targets are stated in:

* all formats / JSON only (target: at most 1.5);
* JSON only / Python start-up with the libraries (target: at most 2).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = "numpy, sympy, mpmath, torch, click, rich, jinja2, jsonschema"


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child process run to the end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode not in (0, 1):   # 1: the audit found something, as the catalogue does
        raise SystemExit(f"{' '.join(command)} exited {finished.returncode}:\n{finished.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", nargs="*", default=["cases"], help="case files or folders (default: cases)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best of each is kept (default: 1)")
    parser.add_argument("--jobs", type=int, default=0, help="the audit's --jobs (default: 0, in process)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="diffcheck-report-speed-") as scratch:
        audit = [sys.executable, "-m", "diffcheck", "audit", "-q", "--jobs", str(args.jobs), *args.paths]
        runs = {
            "python + libraries": [sys.executable, "-c", f"import {LIBRARIES}"],
            "audit, json": [*audit, "--format", "json", "--report-dir", os.path.join(scratch, "json")],
            # --plots findings: the default of a project without `reproducible = true`
            # (this repository's own setting draws none, for its committed reports).
            "audit, all formats": [*audit, "--format", "json,md,junit,html", "--plots", "findings",
                                   "--report-dir", os.path.join(scratch, "all")],
        }
        best = {name: (float("inf"), float("inf")) for name in runs}
        for _ in range(args.repeat):
            for name, command in runs.items():
                wall, cpu = timed(command)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
        html = Path(scratch, "all", "diffcheck-audit.html")
        html_size = html.stat().st_size if html.exists() else 0

    print(f"paths: {' '.join(args.paths)}; best of {args.repeat} round(s); --jobs {args.jobs}")
    print(f"{'':24} {'wall s':>8} {'CPU s':>8}")
    for name, (wall, cpu) in best.items():
        print(f"{name:24} {wall:8.2f} {cpu:8.2f}")
    start, json_only, every = best["python + libraries"], best["audit, json"], best["audit, all formats"]
    print(f"{'all formats / json':24} {every[0] / json_only[0]:8.2f} {every[1] / json_only[1]:8.2f}"
          "   (target <= 1.5)")
    print(f"{'json / python start-up':24} {json_only[0] / start[0]:8.2f} {json_only[1] / start[1]:8.2f}"
          "   (target <= 2)")
    print(f"HTML report: {html_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

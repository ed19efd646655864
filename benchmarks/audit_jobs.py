"""Wall time of the catalogue audit with cases checked in the audit process
(``--jobs 0``) and in one and two worker processes, measured side by side.

    python benchmarks/audit_jobs.py [--rounds 3] [--jobs 0 1 2]

Each round runs every setting once, in turn, so that the machine's load falls on
all of them alike; the median and the fastest of the rounds are printed with
their ratios to ``--jobs 0``.  The command timed is the one a CI job runs:
``python -m diffcheck audit -q --exit-zero --format json --report-dir DIR --jobs J``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def audit_seconds(jobs: int, report_dir: str) -> float:
    command = [sys.executable, "-m", "diffcheck", "audit", "-q", "--exit-zero", "--format", "json",
               "--report-dir", report_dir, "--jobs", str(jobs)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=environment, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    times: dict[int, list[float]] = {jobs: [] for jobs in args.jobs}
    with tempfile.TemporaryDirectory() as report_dir:
        for round_number in range(args.rounds):
            for jobs in args.jobs:
                times[jobs].append(audit_seconds(jobs, report_dir))
            print(f"round {round_number + 1}: " + ", ".join(f"--jobs {j}: {t[-1]:.2f} s" for j, t in times.items()),
                  flush=True)
    base = statistics.median(times[args.jobs[0]])
    fastest = min(times[args.jobs[0]])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{os.cpu_count()} CPUs, load average {load:.1f}, Python {sys.version.split()[0]}; "
          f"{args.rounds} rounds")
    print(f"| --jobs | median wall time (s) | ratio | fastest round (s) | ratio |")
    print("|---|---|---|---|---|")
    for jobs, samples in times.items():
        median, least = statistics.median(samples), min(samples)
        print(f"| {jobs} | {median:.2f} | {median / base:.2f} | {least:.2f} | {least / fastest:.2f} |")


if __name__ == "__main__":
    main()

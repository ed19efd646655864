"""The catalogue audit spread out: in shards merged back, and on a Dask cluster.

Run by hand: python benchmarks/scale_out.py [--shards N] [--workers W] [--rounds R] [--no-plots]

Audits ``cases/`` three ways in one run and prints, for each, its wall time as a
ratio to the audit in this one process, and whether its JSON report equals that
audit's apart from ``run``:

1. in this process (the reference);
2. in N shards, one after another here (each as ``diffcheck audit --shard I/N``
   would check it), their JSON reports merged as ``diffcheck merge`` does;
3. on a ``distributed.LocalCluster`` of W worker processes on loopback, through
   the Dask executor (cluster start-up excluded, worker warm-up included).

The three are measured in turn, R rounds (default 2), and each figure is its
fastest round: on a shared machine the slower rounds measure the neighbours.
The shards run one after another, so their total is the work a CI matrix
spreads over N machines; the figure shows what sharding costs beyond that work.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diffcheck.reports import jsonreport  # noqa: E402
from diffcheck.documents.audit import load_all, run_audit  # noqa: E402
from diffcheck.scale.merge import merge_records  # noqa: E402
from diffcheck.reports.records import audit_record  # noqa: E402
from diffcheck.scale.shards import Shard, select  # noqa: E402


def as_json(record: dict) -> dict:
    """The record as the JSON report writes and a reader reads it."""
    return json.loads(jsonreport.render(record))


def without_run(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "run"}


def in_process(plots: bool):
    started = time.perf_counter()
    record = audit_record(run_audit(load_all(["cases"]), profiles=plots))
    return time.perf_counter() - started, record


def sharded(count: int, plots: bool):
    started = time.perf_counter()
    reports = []
    for index in range(1, count + 1):
        selection = select(load_all(["cases"]), Shard(index, count))
        result = run_audit(selection.files, profiles=plots)
        record = audit_record(result)
        record["shard"] = selection.record(result.cases, plots)
        reports.append((f"shard {index}/{count}", as_json(record)))
    merged = merge_records(reports)
    return time.perf_counter() - started, merged, [len(r["cases"]) for _, r in reports]


def on_dask(workers: int, plots: bool):
    from distributed import LocalCluster

    from diffcheck.scale.daskexecutor import DaskExecutor
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        started = time.perf_counter()
        record = audit_record(run_audit(load_all(["cases"]), profiles=plots,
                                        executor=DaskExecutor(cluster.scheduler_address)))
        return time.perf_counter() - started, record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-plots", action="store_true", help="skip the HTML report's plot data")
    args = parser.parse_args()
    os.chdir(ROOT)   # case paths relative to the project, as `diffcheck audit` there gives them
    plots = not args.no_plots

    run_audit(load_all(["cases/002_2c3b5acc974a63e6.toml"]), profiles=plots)   # warm imports and caches
    times: dict[str, list[float]] = {"base": [], "shards": [], "dask": []}
    for _ in range(args.rounds):
        seconds, base = in_process(plots)
        times["base"].append(seconds)
        seconds, merged, sizes = sharded(args.shards, plots)
        times["shards"].append(seconds)
        seconds, remote = on_dask(args.workers, plots)
        times["dask"].append(seconds)
    base_seconds, shard_seconds, dask_seconds = (min(times[k]) for k in ("base", "shards", "dask"))
    expected = without_run(as_json(base))
    print(f"catalogue: {len(base['cases'])} cases; plot data {'computed' if plots else 'skipped'}; "
          f"{os.cpu_count()} CPUs; fastest of {args.rounds} rounds")
    print(f"{'how':<44} {'seconds':>8} {'ratio':>6}  same report")
    rows = [("in this process", base_seconds, True),
            (f"{args.shards} shards in turn ({'+'.join(map(str, sizes))} cases), merged", shard_seconds,
             without_run(as_json(merged)) == expected),
            (f"Dask LocalCluster, {args.workers} worker processes", dask_seconds,
             without_run(as_json(remote)) == expected)]
    for how, seconds, same in rows:
        print(f"{how:<44} {seconds:8.2f} {seconds / base_seconds:6.2f}  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()

"""Running audits at scale: worker processes under limits, interrupts, shards,
merging shard reports, and Dask.

Owns the forkserver pool with per-case time and memory limits (:mod:`workers`),
SIGINT/SIGTERM handling that keeps finished work (:mod:`interrupts`),
deterministic shards (:mod:`shards`), merging their JSON reports (:mod:`merge`)
and the Dask executor (:mod:`daskexecutor`).  Imports every layer below it;
only the command line and the pytest plugin sit above.
"""

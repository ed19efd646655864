"""Checking cases in worker processes, each case under a time and a memory limit.

:class:`WorkerPool` is an audit executor (see :class:`diffcheck.documents.audit.InProcess`).
It keeps its own small pool of processes, one pipe each, rather than using
:mod:`concurrent.futures`, because a case that hangs (a SymPy ``simplify`` that
never ends) must be stopped by killing its worker, which a futures pool cannot
do for one task.  A case that runs past the time limit, that exhausts the
worker's memory, or whose worker dies (killed, a segfault in a native library)
is reported with that outcome (:data:`~diffcheck.documents.audit.TIMEOUT`,
:data:`~diffcheck.documents.audit.RESOURCE_LIMIT`, :data:`~diffcheck.documents.audit.WORKER_DIED`);
its worker is replaced and the other cases are unaffected.

Workers are started with the ``forkserver`` method (``spawn`` where there is
none): forking the audit process itself would copy torch's and other libraries'
threads and locks mid-state.  The fork server imports the heavy libraries once,
so a replacement worker starts in milliseconds.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait

from diffcheck.backends.sympy_lowering import deep_recursion
from diffcheck.documents.audit import (
    DEFAULT_SETTINGS,
    RESOURCE_LIMIT,
    TIMEOUT,
    WORKER_DIED,
    CaseResult,
    CheckingSettings,
    check_case,
)
from diffcheck.errors import DiffcheckError

#: Imported once by the fork server, so that workers start with them loaded.
PRELOAD = ["diffcheck.documents.audit", "diffcheck.backends.symbolic", "diffcheck.documents.plotdata", "sympy", "torch"]
#: Pickling an expression tree recurses a few levels per node; the parser allows 1,000 levels.
PICKLE_RECURSION_LIMIT = 10_000
#: How long a worker asked to stop may take before it is killed.
STOP_GRACE_SECONDS = 1.0


class WorkerError(RuntimeError):
    """An unexpected exception in a worker: a bug, reported with the worker's traceback."""


def context():
    """The multiprocessing context workers start in (never plain ``fork``)."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _send(conn, message) -> None:
    with deep_recursion(PICKLE_RECURSION_LIMIT):
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    conn.send_bytes(data)


def _receive(conn):
    data = conn.recv_bytes()
    with deep_recursion(PICKLE_RECURSION_LIMIT):
        return pickle.loads(data)


@dataclass
class WorkerSettings:
    """What a worker needs to know of the audit, sent once at start-up."""

    backends: list | None
    profiles: bool | str   # a plots policy (diffcheck.documents.plotdata.PLOTS), or False
    memory_mb: int | None
    checking: CheckingSettings


def _serve(conn, settings: WorkerSettings) -> None:
    """A worker's life: check the cases sent until told to stop or the audit is gone."""
    # Ctrl-C reaches the whole process group; the audit process decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _load_libraries()
    if settings.memory_mb:
        _limit_memory(settings.memory_mb)
    _exit_with_parent()
    while True:
        try:
            message = _receive(conn)
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, case = message
        try:
            result = check_case(case, settings.backends, settings.profiles, settings.checking)
            _send(conn, ("done", index, result))
        except MemoryError as err:
            _send(conn, ("memory", index, f"{type(err).__name__}: {err}".rstrip(": ")))
            return   # a heap that ran out may be in any state: a fresh worker takes over
        except BaseException:  # noqa: BLE001 - a bug: its traceback goes to the audit process
            _send(conn, ("bug", index, traceback.format_exc()))
            return


def _load_libraries() -> None:
    """Import what cases use before the memory limit, so the limit is the cases' alone;
    one torch thread per worker, since the workers are the parallelism."""
    import sympy  # noqa: F401
    import torch
    torch.set_num_threads(1)


def _limit_memory(megabytes: int) -> None:
    """Let this process's address space grow by ``megabytes`` beyond its start-up size."""
    import resource
    limit = _address_space() + megabytes * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    """This process's virtual memory size in bytes (Linux), else 0."""
    try:
        with open("/proc/self/statm") as stream:
            return int(stream.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _exit_with_parent() -> None:
    """End this worker if the audit process dies (killed with SIGKILL, say), even in
    the middle of a case that would never end by itself.  The audit process, not the
    fork server (which lives as long as its children do), is the one watched."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch():
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class _Worker:
    def __init__(self, ctx, settings: WorkerSettings):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, settings), name="diffcheck-worker",
                                   daemon=True)
        self.process.start()
        child.close()
        self.index: int | None = None   # the case being checked
        self.started = 0.0

    def give(self, index: int, case) -> None:
        self.index, self.started = index, time.monotonic()
        try:
            _send(self.conn, (index, case))
        except OSError:
            pass   # it died: the pool finds it dead with this case, and reports that

    def discard(self) -> None:
        """End a worker whose case ended badly (it may be stuck, dying or dead)."""
        self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        """Ask an idle worker to stop; kill a busy or unresponsive one."""
        if self.process.is_alive() and self.index is None:
            try:
                _send(self.conn, None)
            except OSError:
                pass
            self.process.join(STOP_GRACE_SECONDS)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


def _death(process) -> str:
    process.join(STOP_GRACE_SECONDS)
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class WorkerPool:
    """The executor that checks cases in ``jobs`` worker processes.

    ``timeout`` is each case's wall-time limit in seconds; ``memory_mb`` how far a
    worker's address space may grow beyond its start-up size (``RLIMIT_AS``).
    """

    def __init__(self, jobs: int, timeout: float | None = None, memory_mb: int | None = None):
        if jobs < 1:
            raise ValueError(f"a worker pool needs at least one worker, got {jobs}")
        self.jobs, self.timeout, self.memory_mb = jobs, timeout, memory_mb
        self._workers: list[_Worker] = []

    def running(self) -> dict[int, int]:
        """Case index to the process id of the worker checking it, now."""
        return {w.index: w.process.pid for w in self._workers if w.index is not None}

    def run(self, cases, backends, profiles: bool, checking: CheckingSettings = DEFAULT_SETTINGS):
        ctx = context()
        settings = WorkerSettings(list(backends) if backends else None, profiles or False, self.memory_mb,
                                  checking)
        pending = deque(range(len(cases)))
        try:
            for _ in range(min(self.jobs, len(cases))):
                self._workers.append(_Worker(ctx, settings))
            while True:
                for position, worker in enumerate(self._workers):
                    if worker.index is None and pending:
                        if not worker.process.is_alive():   # died between two cases
                            worker.discard()
                            worker = self._workers[position] = _Worker(ctx, settings)
                        index = pending.popleft()
                        worker.give(index, cases[index])
                busy = [w for w in self._workers if w.index is not None]
                if not busy:
                    return
                wait([w.conn for w in busy] + [w.process.sentinel for w in busy], self._next_deadline(busy))
                for worker in busy:
                    outcome = self._collect(worker, cases)
                    if outcome is None:
                        continue
                    index, result, replace = outcome
                    worker.index = None
                    if replace:
                        worker.discard()
                        self._workers[self._workers.index(worker)] = _Worker(ctx, settings)
                    yield index, result
        finally:
            for worker in self._workers:
                worker.stop()
            self._workers = []

    def _next_deadline(self, busy) -> float | None:
        if self.timeout is None:
            return None
        now = time.monotonic()
        return max(0.0, min(w.started + self.timeout for w in busy) - now)

    def _collect(self, worker: _Worker, cases):
        """``(index, result, replace the worker)`` if the worker's case has ended, else None."""
        index, case = worker.index, cases[worker.index]
        seconds = time.monotonic() - worker.started
        if worker.conn.poll():
            try:
                kind, _, payload = _receive(worker.conn)
            except (EOFError, OSError):
                return index, self._unfinished(case, WORKER_DIED, self._died(worker), seconds), True
            if kind == "done":
                return index, payload, False
            if kind == "memory":
                limit = f" (limit: {self.memory_mb} MiB per worker)" if self.memory_mb else ""
                return index, self._unfinished(case, RESOURCE_LIMIT, f"ran out of memory{limit}: {payload}",
                                               seconds), True
            raise WorkerError(f"checking {case.id} failed in a worker:\n{payload}")
        if not worker.process.is_alive():
            return index, self._unfinished(case, WORKER_DIED, self._died(worker), seconds), True
        if self.timeout is not None and seconds >= self.timeout:
            worker.process.kill()
            return index, self._unfinished(
                case, TIMEOUT, f"not finished within the time limit of {self.timeout:g} s per case",
                seconds), True
        return None

    def _died(self, worker: _Worker) -> str:
        reason = f"the worker process checking it died ({_death(worker.process)})"
        if self.memory_mb:
            reason += f"; its memory limit was {self.memory_mb} MiB"
        return reason

    @staticmethod
    def _unfinished(case, outcome: str, reason: str, seconds: float) -> CaseResult:
        return CaseResult(case, outcome=outcome, reason=reason, seconds=seconds)


class LimitsNeedWorkers(DiffcheckError):
    """A time or memory limit asked for with the cases checked in the audit process."""


def executor_for(jobs: int | None, timeout: float | None, memory_mb: int | None):
    """The executor the options ask for: None (check cases in this process) or a pool.

    Without ``jobs``, cases run in this process, unless a limit is set: limits are
    enforced on workers, so one worker then checks them.
    """
    if jobs is None:
        jobs = 1 if (timeout or memory_mb) else 0
    if jobs == 0:
        if timeout or memory_mb:
            raise LimitsNeedWorkers("a time or memory limit needs worker processes: "
                                    "use --jobs 1 or more (or drop the limit)")
        return None
    return WorkerPool(jobs, timeout, memory_mb)

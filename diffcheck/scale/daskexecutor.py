"""An audit executor that checks cases on an existing Dask cluster.

``diffcheck audit --executor dask --scheduler tcp://HOST:8786`` submits every case
to the cluster's scheduler as one task and reports cases as they finish; the
audit puts them back in case order, so the reports are those of an audit run in
one process.  Dask is an optional extra (``pip install "diffcheck[dask]"``) and
is imported only here, only when this executor is used.

What travels: a case pickles as plain data (ops by name), a result as plain data
and SymPy expressions.  The audit's settings (the tolerance multipliers of
``[tool.diffcheck.tolerance]``, and ``--allow-import``) travel with every task
and are passed to the check on the worker, so a worker needs no configuration
of its own.  Workers need diffcheck (and, for cases
that name Python code, that code) importable; checking is single-threaded
Python, so workers with one thread each (``dask worker ADDRESS --nthreads 1
--nworkers N``) use the cores best.
"""

from __future__ import annotations

import uuid

from diffcheck.documents.audit import DEFAULT_SETTINGS, CheckingSettings, check_case
from diffcheck.errors import DiffcheckError

#: Seconds to wait for the scheduler to answer before giving up.
CONNECT_TIMEOUT = 10.0


class ExecutorError(DiffcheckError):
    """An executor that cannot run: Dask missing, or a scheduler that does not answer."""


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ExecutorError('the Dask executor needs dask.distributed, which is not installed: '
                            'pip install "diffcheck[dask]"') from None
    return distributed


class DaskExecutor:
    """Checks cases on the Dask cluster at ``scheduler`` (an address such as
    ``tcp://10.0.0.5:8786``, or a ``distributed.Client`` to use as it is).

    Connects when made, so an unreachable cluster fails before any work.  A
    client made from an address is closed when :meth:`run` finishes, or by
    :meth:`close`; a client passed in is left open.
    """

    def __init__(self, scheduler, timeout: float | None = None):
        distributed = _distributed()
        if isinstance(scheduler, distributed.Client):
            self.client, self._owned = scheduler, False
            return
        try:
            self.client = distributed.Client(scheduler, timeout=timeout or CONNECT_TIMEOUT,
                                             set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            reason = " ".join(str(err).split()) or type(err).__name__
            raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {reason}") from None
        self._owned = True

    def run(self, cases, backends, profiles: bool, settings: CheckingSettings = DEFAULT_SETTINGS):
        """Yield ``(index, CaseResult)`` as the cluster finishes cases; unfinished
        tasks are cancelled if the caller stops early (Ctrl-C included)."""
        distributed = _distributed()
        run_id = uuid.uuid4().hex[:8]
        futures = {}
        try:
            for index, case in enumerate(cases):
                future = self.client.submit(check_on_worker, case, backends, profiles, settings,
                                            key=f"diffcheck-{run_id}-{index}", pure=False)
                futures[future] = index
            for future in distributed.as_completed(futures, loop=self.client.loop):
                yield futures[future], future.result()
        finally:
            pending = [future for future in futures if not future.done()]
            if pending:
                self.client.cancel(pending)
            if self._owned:
                self.close()

    def close(self) -> None:
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def check_on_worker(case, backends, profiles: bool, settings: CheckingSettings):
    """:func:`~diffcheck.documents.audit.check_case` on a worker, under the audit's settings."""
    return check_case(case, backends, profiles, settings)

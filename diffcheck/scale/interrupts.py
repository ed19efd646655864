"""SIGINT and SIGTERM during an audit: stop checking, keep what finished, say so.

The first signal raises :class:`KeyboardInterrupt` (:class:`Terminated` for
SIGTERM) where the audit is, which :func:`diffcheck.documents.audit.run_audit` turns into
an incomplete result; later signals, and any signal once the checking is over,
are only remembered, so that the reports of what finished are always written.
The command then exits with ``128 + signal number``: 130 for SIGINT, 143 for
SIGTERM, as shells report a process a signal ended.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so that the same code keeps what finished."""


class Interrupts:
    """The signals received while installed (see :func:`caught`)."""

    def __init__(self):
        self.signal: int | None = None
        self.raising = True

    def handle(self, signum, frame) -> None:
        first = self.signal is None
        if first:
            self.signal = signum
        if first and self.raising:
            self.raising = False
            raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    def hold(self) -> None:
        """From now on, signals are remembered and nothing is raised."""
        self.raising = False

    @property
    def exit_status(self) -> int | None:
        return None if self.signal is None else 128 + self.signal


@contextmanager
def caught():
    """Catch SIGINT and SIGTERM as described above while the block runs."""
    interrupts = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield interrupts   # handlers can only be installed from the main thread
        return
    previous = {sig: signal.signal(sig, interrupts.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield interrupts
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""Report formats behind one small interface, and the one function that owns files.

A reporter is a module with ``FILENAME`` and ``render(record) -> str``, where
``record`` is :func:`diffcheck.reports.records.audit_record`'s plain data.  Reporters
only format; :func:`write_reports` checks the directory before any work, and
writes each file atomically (a temporary file in the same directory, then a
rename), so a reader never sees half a report and a failed write never destroys
the previous one.  Two audits writing into one directory take turns (a lock
on the directory), so its reports always come from one audit.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from diffcheck.errors import DiffcheckError

#: Format name to the module that renders it.
REPORTERS = {"json": "jsonreport", "md": "mdreport", "junit": "junitreport", "html": "htmlreport"}
DEFAULT_FORMATS = ("json", "md", "junit", "html")
#: The pre-flight probe writes this much, so that a full disk fails it (an empty file needs no space).
PROBE_BYTES = 64 * 1024


class ReportError(DiffcheckError):
    """A report directory that cannot be written."""


def reporter(name: str):
    if name not in REPORTERS:
        raise ReportError(f"unknown report format {name!r} (choose from {', '.join(REPORTERS)})")
    return importlib.import_module(f".{REPORTERS[name]}", __package__)


def prepare_directory(directory: Path | str, create: bool = True) -> Path:
    """Create the directory if needed and prove it writable, and not full, before the
    audit runs: a probe file of :data:`PROBE_BYTES` is written, synced and removed.

    With ``create=False`` a directory that does not exist yet is left uncreated
    (a run that may write nothing leaves no empty folder behind): the nearest
    folder that exists above it must be one this process may create it in."""
    path = Path(directory)
    if not create and not path.exists():
        parent = next((p for p in path.absolute().parents if p.exists()), None)
        if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise ReportError(f"cannot write reports to {path}: "
                              f"{parent or path} is not a directory this process may write in")
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".diffcheck-probe-", delete=True) as probe:
            probe.write(b"\0" * PROBE_BYTES)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as err:
        raise ReportError(f"cannot write reports to {path}: {err.strerror or err}") from None
    return path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that ``path`` is always either the old file or the new."""
    path = Path(path)
    temporary = _write_beside(path, text)
    try:
        os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


def _write_beside(path: Path, text: str) -> str:
    """``text`` written and synced to a temporary file beside ``path``; its name."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private; a report is meant to be read like any file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
    except BaseException:
        _remove(temporary)
        raise
    return temporary


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_reports(record: dict, directory: Path | str, formats=DEFAULT_FORMATS) -> list[Path]:
    """Render and write each format; returns the paths written.

    Every file is written in full before any is renamed into place, so a failure
    (a full disk) leaves all the earlier reports as they were."""
    path = prepare_directory(directory)
    modules = [reporter(name) for name in formats]
    rendered = [(path / module.FILENAME, module.render(record)) for module in modules]
    temporaries: list[str] = []
    with _turn(path):
        try:
            for target, text in rendered:
                try:
                    temporaries.append(_write_beside(target, text))
                except OSError as err:
                    raise ReportError(f"cannot write {target}: {err.strerror or err}") from None
            for temporary, (target, _) in zip(temporaries, rendered):
                try:
                    os.replace(temporary, target)
                except OSError as err:
                    raise ReportError(f"cannot write {target}: {err.strerror or err}") from None
        finally:
            for temporary in temporaries:
                _remove(temporary)   # gone already when renamed
    return [target for target, _ in rendered]


@contextmanager
def _turn(directory: Path):
    """Hold a lock on the directory itself while its reports are replaced (where the
    system has ``flock``; elsewhere each file is still atomic on its own)."""
    try:
        import fcntl
        handle = os.open(directory, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)   # closing releases the lock

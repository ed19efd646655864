"""Report formats behind one small interface, and the one function that owns files.

A reporter is a module with ``FILENAME`` and ``render(record) -> str``, where
``record`` is :func:`diffcheck.records.audit_record`'s plain data.  Reporters
only format; :func:`write_reports` checks the directory before any work, and
writes each file atomically (a temporary file in the same directory, then a
rename), so a reader never sees half a report and a failed write never destroys
the previous one.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path

from .errors import DiffcheckError

#: Format name to the module that renders it.
REPORTERS = {"json": "jsonreport", "md": "mdreport", "junit": "junitreport", "html": "htmlreport"}
DEFAULT_FORMATS = ("json", "md", "junit", "html")


class ReportError(DiffcheckError):
    """A report directory that cannot be written."""


def reporter(name: str):
    if name not in REPORTERS:
        raise ReportError(f"unknown report format {name!r} (choose from {', '.join(REPORTERS)})")
    return importlib.import_module(f".{REPORTERS[name]}", __package__)


def prepare_directory(directory: Path | str) -> Path:
    """Create the directory if needed and prove it writable, before the audit runs."""
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".diffcheck-probe-", delete=True):
            pass
    except OSError as err:
        raise ReportError(f"cannot write reports to {path}: {err.strerror or err}") from None
    return path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that ``path`` is always either the old file or the new."""
    path = Path(path)
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
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def write_reports(record: dict, directory: Path | str, formats=DEFAULT_FORMATS) -> list[Path]:
    """Render and write each format; returns the paths written."""
    path = prepare_directory(directory)
    written = []
    for name in formats:
        module = reporter(name)
        target = path / module.FILENAME
        try:
            write_atomic(target, module.render(record))
        except OSError as err:
            raise ReportError(f"cannot write {target}: {err.strerror or err}") from None
        written.append(target)
    return written

"""The work behind the ``diffcheck`` commands, kept out of ``cli.py`` so that file
holds only what click needs (options, help texts, the commands' order of steps).

What is here: the terminal console that honours ``--color``; turning the audit's
options and ``[tool.diffcheck]`` settings into one ``AuditPlan`` (every usage error
raised before any work); running an audit's phases (read the case files, pick a
shard, check with a progress display, report); the final exit status.

diffcheck's own layers (and rich) are imported inside the functions that use
them: ``diffcheck --help`` and ``--version`` load this module too and should not
pay for NumPy and SymPy.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from diffcheck.printable import printable
from diffcheck.vocabulary import FOUND, INTERRUPTED

#: Where reports go when neither the command line nor [tool.diffcheck] says.
DEFAULT_REPORT_DIR = "diffcheck-reports"


def console(stderr: bool = False):
    """A rich Console that honours ``--color`` and, under ``auto``, ``NO_COLOR``
    (rich reads it itself) and whether the output is a terminal."""
    from rich.console import Console  # lazy: start-up cost (see the module docstring)
    context = click.get_current_context(silent=True)
    color = context.meta.get("diffcheck.color", "auto") if context else "auto"
    if color == "always":
        return Console(stderr=stderr, force_terminal=True, no_color=False)
    if color == "never":
        return Console(stderr=stderr, no_color=True, color_system=None)
    return Console(stderr=stderr)


def say(where, text: str) -> None:
    """One plain line on a console: no rich markup or highlighting of the user's text."""
    where.print(printable(text), markup=False, highlight=False)


def first(*values):
    """The first value given: the command line's, else the setting's."""
    return next((v for v in values if v is not None), None)


def check_backend_names(backends) -> None:
    """A usage error for the first name that is not a method, naming the choices."""
    from diffcheck.backends import BACKENDS
    for name in backends:
        if name not in BACKENDS:
            raise click.UsageError(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})")


def exit_status(status: int, exit_zero: bool) -> int:
    """The status a finished run exits with: ``--exit-zero`` forgives findings only."""
    return 0 if exit_zero and status == FOUND else status


@dataclass
class AuditPlan:
    """What one ``diffcheck audit`` does, every option settled and checked."""
    settings: object          # the [tool.diffcheck] settings (checking.config.Settings)
    checking: object          # documents.audit.CheckingSettings
    backends: list | None     # None: all four methods
    report_dir: str | None    # None: --no-reports
    formats: list
    plots: str                # findings, all or none
    executor_name: str        # local or dask
    scheduler: str | None
    executor: object          # the local executor; a Dask one connects when the run starts


def plan_audit(settings, *, backends, report_dir, no_reports, formats, plots, allow_import,
               executor_name, scheduler, jobs, timeout, memory_mb) -> AuditPlan:
    """Settle the audit's options against ``settings``; a usage error for any
    contradiction, and the report directory prepared, before any case is read."""
    from diffcheck.checking.config import tolerances_of
    from diffcheck.documents.audit import CheckingSettings
    from diffcheck.reports.writer import DEFAULT_FORMATS, prepare_directory

    checking = CheckingSettings(tolerances_of(settings), bool(allow_import))
    backends = list(backends) or settings.backends
    check_backend_names(backends or ())
    if no_reports and report_dir:
        raise click.UsageError("--no-reports and --report-dir contradict each other")
    report_dir = None if no_reports else (report_dir or settings.report_dir or DEFAULT_REPORT_DIR)
    formats = list(formats) or settings.formats or list(DEFAULT_FORMATS)
    plots = plots or ("none" if settings.reproducible else "findings")
    _check_executor_options(executor_name, scheduler, jobs, timeout, memory_mb)
    executor = _local_executor(settings, jobs, timeout, memory_mb) if executor_name == "local" else None
    if report_dir:
        prepare_directory(report_dir)   # fail before the work, not after it
    return AuditPlan(settings, checking, backends, report_dir, formats, plots, executor_name, scheduler, executor)


def _check_executor_options(executor_name, scheduler, jobs, timeout, memory_mb) -> None:
    if (executor_name == "dask") != bool(scheduler):
        raise click.UsageError("--executor dask and --scheduler ADDRESS go together")
    if executor_name == "dask" and (jobs is not None or timeout or memory_mb):
        raise click.UsageError("--jobs, --timeout and --memory-mb are for local workers, not --executor dask")


def _local_executor(settings, jobs, timeout, memory_mb):
    from diffcheck.scale.workers import executor_for
    return executor_for(first(jobs, settings.jobs), first(timeout, settings.timeout),
                        first(memory_mb, settings.memory_mb))


def run_audit_command(plan: AuditPlan, paths, shard, quiet: bool, exit_zero: bool):
    """Read, check, report; then exit with the audit's status (130 or 143 when a
    signal stopped it: what finished is still reported)."""
    from diffcheck.reports.records import audit_record, reproducible
    from diffcheck.reports.textreport import print_nothing_compared
    from diffcheck.scale import interrupts

    errors = console(stderr=True)
    with interrupts.caught() as caught:
        files = _read_case_files(list(paths) or plan.settings.paths, caught, errors)
        files, selection = _select_shard(files, shard, plan, quiet, errors)
        executor = plan.executor
        if plan.executor_name == "dask":
            from diffcheck.scale.daskexecutor import DaskExecutor
            executor = DaskExecutor(plan.scheduler)   # connects now: an unreachable cluster fails before the work
        total = sum(len(f.cases) for f in files)
        # Plot data only for an HTML report, and only for the cases it draws.
        profiles = plan.plots if "html" in plan.formats and plan.report_dir and plan.plots != "none" else False
        result = run_with_progress(files, plan.backends, total, errors, quiet, profiles, executor, plan.checking)
        caught.hold()   # what finished is reported, whatever signal comes now
        record = audit_record(result)
        if selection:
            record["shard"] = selection.record(result.cases, plots=bool(profiles))
        elif plan.settings.reproducible:
            record = reproducible(record)   # committed reports: the same on every machine
        report(record, plan.report_dir, plan.formats, quiet, errors)
        print_nothing_compared(record, plan.backends, errors)
    if caught.exit_status or not result.complete:
        sys.exit(caught.exit_status or INTERRUPTED)
    sys.exit(exit_status(record["summary"]["exit_status"], exit_zero))


def _read_case_files(paths, caught, errors) -> list:
    """The case files, each one's errors printed as met; an interrupt here exits at once."""
    from diffcheck.documents.audit import load_all
    try:
        files = load_all(paths)
    except KeyboardInterrupt:
        click.echo("diffcheck: interrupted while reading the case files; nothing was checked "
                   "and no report was written", err=True)
        sys.exit(caught.exit_status or INTERRUPTED)
    for case_file in files:
        for error in case_file.errors:
            say(errors, f"diffcheck: error: {error}")
    return files


def _select_shard(files, shard, plan: AuditPlan, quiet: bool, errors):
    """``(files, selection)``: all the files and no selection without ``--shard``."""
    if not shard:
        return files, None
    from diffcheck.scale.shards import select
    selection = select(files, shard, plan.backends, settings=plan.checking)
    if not quiet:
        say(errors, f"shard {shard}: {len(selection.positions)} of the {selection.total} cases")
    return selection.files, selection


def report(record, report_dir, formats, quiet, errors) -> None:
    """The terminal tables (unless quiet) and the report files (unless ``--no-reports``)."""
    from diffcheck.reports.textreport import print_audit
    from diffcheck.reports.writer import write_reports
    if not quiet:
        print_audit(record, console(), load_errors=False)   # printed as they were met
    if not report_dir:
        if not quiet:
            say(errors, "no report written (--no-reports)")
        return
    written = write_reports(record, report_dir, formats)
    if not quiet:
        say(errors, f"reports written to {report_dir}/: {', '.join(p.name for p in written)}")


def progress_bar(console_):
    """A transient rich progress bar: description, bar, done/total, elapsed time."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console_, transient=True)


def run_with_progress(files, backends, total, console_, quiet, profiles, executor=None, checking=None):
    """``run_audit`` with a progress bar on a terminal, a line per case in a log (CI),
    nothing when quiet."""
    from diffcheck.documents.audit import DEFAULT_SETTINGS, run_audit
    run = {"profiles": profiles, "executor": executor, "settings": checking or DEFAULT_SETTINGS}
    if quiet:
        return run_audit(files, backends, **run)
    if not console_.is_terminal:
        # A log (CI) gets a line per case where a terminal gets a progress bar.
        done = iter(range(1, total + 1))

        def log(case, result):
            outcome = f"{result.problems} problem{'s' if result.problems != 1 else ''}" \
                if result.outcome == "finished" else result.outcome
            say(console_, f"[{next(done)}/{total}] {case.id}: {outcome}")

        return run_audit(files, backends, progress=log, **run)
    with progress_bar(console_) as progress:
        task = progress.add_task("checking cases", total=total)

        def advance(case, result):
            progress.update(task, advance=1, description=f"checking {case.name[:40]}")

        return run_audit(files, backends, progress=advance, **run)

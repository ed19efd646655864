"""The ``diffcheck`` command line.

Exit status: 0 when nothing is wrong, 1 when a check found a discrepancy (or a
method failed), 2 for bad input or usage, 130 and 143 when SIGINT or SIGTERM
stopped an audit.  diffcheck's own errors print as one line; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import json
import sys

import click

from diffcheck.cli_helpers import (
    DEFAULT_REPORT_DIR,
    check_backend_names,
    console,
    exit_status,
    plan_audit,
    progress_bar,
    run_audit_command,
    say,
)
from diffcheck.errors import DiffcheckError
from diffcheck.vocabulary import BAD_INPUT, FOUND, INCONCLUSIVE, INTERRUPTED, UNDECIDABLE

# diffcheck's layers are imported inside the commands (and the callbacks): `diffcheck
# --help` and `--version` should not pay for NumPy and SymPy.


def _parse_assignments(pairs) -> dict:
    from diffcheck.language.parser import parse_value
    at = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--at takes NAME=VALUE, got {pair!r}")
        at[name.strip()] = parse_value(text, where=f"--at {name.strip()}")
    return at


REPORT_FORMATS = ("json", "md", "junit", "html")
COLOR_CHOICES = ("auto", "always", "never")


def _split_formats(ctx, param, values):
    """``--format json,md`` and ``--format json --format md`` alike; unknown names are
    a usage error naming the choices."""
    names = [name.strip() for value in values or () for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in REPORT_FORMATS]
    if unknown:
        raise click.BadParameter(f"unknown format {unknown[0]!r} (choose from {', '.join(REPORT_FORMATS)}; "
                                 f"several as a comma list: json,md)", ctx=ctx, param=param)
    return tuple(dict.fromkeys(names))


def _set_color(ctx, param, value):
    if value is not None:
        ctx.meta["diffcheck.color"] = value
    return value


def _color_option(command):
    """``--color auto|always|never``, on the group and on every command alike."""
    return click.option("--color", type=click.Choice(COLOR_CHOICES), default=None, expose_value=False,
                        callback=_set_color, is_eager=True,
                        help="Colour in the terminal: auto (default; off when NO_COLOR is set or the "
                             "output is not a terminal), always, or never.")(command)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DiffcheckError as err:
            click.echo(f"diffcheck: error: {err}", err=True)
            ctx.exit(BAD_INPUT)
        except KeyboardInterrupt:
            click.echo("diffcheck: interrupted", err=True)
            ctx.exit(INTERRUPTED)


@click.group(cls=_Group)
@click.version_option(package_name="diffcheck")
@_color_option
def main():
    """Is this derivative right?  diffcheck differentiates an expression four ways
    (symbolic, numeric, its own engine, torch) and cross-checks them."""


@main.command()
@_color_option
@click.argument("expression")
@click.option("--at", "assignments", multiple=True, metavar="NAME=VALUE",
              help="A variable's value: a number or a list such as [1, 2] (repeatable).")
@click.option("--wrt", multiple=True, metavar="NAME",
              help="Differentiate with respect to this variable (repeatable; default: all).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def check(expression, assignments, wrt, fmt):
    """Cross-check the gradient of EXPRESSION at one point."""
    from diffcheck.checking.harness import DISCREPANCY, ERROR, check_expr
    result = check_expr(expression, _parse_assignments(assignments), list(wrt) or None)
    if fmt == "json":
        from diffcheck.reports.records import check_record
        click.echo(json.dumps(check_record(result), indent=2, allow_nan=False))
    else:
        from diffcheck.reports.textreport import print_check
        print_check(result, console())
    sys.exit(FOUND if result.verdict in (DISCREPANCY, ERROR) else UNDECIDABLE if result.verdict == INCONCLUSIVE else 0)


@main.command()
@_color_option
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--report-dir", type=click.Path(file_okay=False), default=None,
              help=f"Write reports here (default: [tool.diffcheck] report_dir, else {DEFAULT_REPORT_DIR}).")
@click.option("--no-reports", is_flag=True, help="Write no report files (the terminal summary and exit status only).")
@click.option("--format", "formats", multiple=True, callback=_split_formats, metavar="FORMATS",
              help="Report formats to write: json, md, junit, html, as a comma list or repeated "
                   "(default: [tool.diffcheck] formats, else all).")
@click.option("--plots", type=click.Choice(["findings", "all", "none"]), default=None,
              help="Cases the HTML report draws: those with a finding about a derivative and a fixed "
                   "sample of the rest (default), every case, or none (the default with [tool.diffcheck] "
                   "reproducible = true: plots differ in pixels between CPUs).")
@click.option("--backend", "backends", multiple=True, metavar="NAME",
              help="Use only these methods (repeatable; default: all four).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when claims are wrong or methods disagree.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or tables; reports and exit status only.")
@click.option("--allow-import", is_flag=True,
              help="Import and run the Python code that cases name (callable = \"module:function\"); "
                   "without it such cases are refused.")
@click.option("--shard", metavar="I/N", callback=lambda ctx, param, value: _parse_shard(value),
              help="Check only shard I of N: a fixed slice of the cases, by a stable hash of each "
                   "case's file and name (combine the shards' reports with diffcheck merge).")
@click.option("--executor", "executor_name", type=click.Choice(["local", "dask"]), default="local",
              show_default=True, help="Where cases are checked: on this machine, or on a Dask cluster.")
@click.option("--scheduler", metavar="ADDRESS", help="The Dask scheduler's address (with --executor dask).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None, metavar="N",
              help="Check cases in N worker processes; 0 checks them in this process (default: "
                   "[tool.diffcheck] jobs, else 0, or 1 when a limit is set).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="Stop a case after this wall time and report it as timeout (needs workers).")
@click.option("--memory-mb", type=click.IntRange(min=1), default=None, metavar="MB",
              help="Memory a worker may add while checking a case; a case that needs more is "
                   "reported as resource_limit.")
def audit(paths, report_dir, no_reports, formats, plots, backends, exit_zero, quiet, allow_import, shard,
          executor_name, scheduler, jobs, timeout, memory_mb):
    """Audit case files (default: [tool.diffcheck] paths, else cases/): cross-check every
    case with the four methods and check every claim of the documents."""
    from diffcheck.checking.config import load_settings
    plan = plan_audit(load_settings(), backends=backends, report_dir=report_dir, no_reports=no_reports,
                      formats=formats, plots=plots, allow_import=allow_import, executor_name=executor_name,
                      scheduler=scheduler, jobs=jobs, timeout=timeout, memory_mb=memory_mb)
    run_audit_command(plan, paths, shard, quiet, exit_zero)


@main.command()
@_color_option
@click.option("--examples", default=200, show_default=True, type=click.IntRange(min=1),
              help="Generated (expression, point) pairs to check.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="The same seed draws the same examples and finds the same failures.")
@click.option("--ops", "ops", multiple=True, metavar="NAMES",
              help="Build expressions from these ops only (comma-separated or repeated; default: all).")
@click.option("--max-leaves", default=8, show_default=True, type=click.IntRange(min=1),
              help="Largest number of leaves (variables and numbers) in an expression.")
@click.option("--scalars", is_flag=True, help="Scalar variables only (default: also vectors and matrices).")
@click.option("--kinks", is_flag=True, help="Put most point entries on or near kinks and ties.")
@click.option("--backend", "backends", multiple=True, metavar="NAME",
              help="Use only these methods (repeatable; default: all four).")
@click.option("--report-dir", type=click.Path(file_okay=False), default="fuzz-cases", show_default=True,
              help="Write a case file for each failure here.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary; case files and exit status only.")
def fuzz(examples, seed, ops, max_leaves, scalars, kinks, backends, report_dir, quiet):
    """Cross-check generated expressions at generated points (Hypothesis, seeded).
    Each failure is shrunk to a small expression and written as a case file that
    `diffcheck audit` reproduces."""
    from hypothesis.errors import InvalidArgument

    from diffcheck.reports.textreport import print_fuzz
    from diffcheck.reports.writer import prepare_directory
    from diffcheck.testing.fuzz import parse_ops, run_fuzz, write_case_files
    from diffcheck.testing.strategies import ARRAYS, SCALARS, problems

    check_backend_names(backends)
    if len(set(backends)) == 1:
        raise click.UsageError(f"fuzz compares methods with each other, and only {backends[0]} was given: "
                               "name at least two with --backend, or none for all four")
    ops = parse_ops(ops)
    shapes = SCALARS if scalars else ARRAYS
    try:
        problems(ops, max_leaves=max_leaves, shapes=shapes).validate()
    except InvalidArgument as err:
        raise click.UsageError(str(err)) from None
    prepare_directory(report_dir, create=False)   # fail before the work; created only for a failure
    run = dict(max_leaves=max_leaves, shapes=shapes, kink_heavy=kinks, backends=list(backends) or None)
    if quiet:
        result = run_fuzz(examples, seed, ops, **run)
    else:
        with progress_bar(console(stderr=True)) as progress:
            search = progress.add_task("checking examples", total=examples)
            shrink = progress.add_task("shrinking failures", total=None, visible=False)

            def advance(stage, n):
                progress.update(search if stage == "search" else shrink, advance=n,
                                visible=True)

            result = run_fuzz(examples, seed, ops, progress=advance, **run)
    write_case_files(result, report_dir)
    if not quiet:
        print_fuzz(result, console())
    sys.exit(result.exit_status)


def _parse_shard(value):
    if value is None:
        return None
    from diffcheck.scale.shards import parse_shard
    try:
        return parse_shard(value)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="'--shard'") from None


@main.command()
@_color_option
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--report-dir", type=click.Path(file_okay=False), default=None,
              help=f"Write the merged reports here (default: [tool.diffcheck] report_dir, else {DEFAULT_REPORT_DIR}).")
@click.option("--format", "formats", multiple=True, callback=_split_formats, metavar="FORMATS",
              help="Report formats to write: json, md, junit, html, as a comma list or repeated "
                   "(default: [tool.diffcheck] formats, else all; html only if the shards computed its plots).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when claims are wrong or methods disagree.")
@click.option("--quiet", "-q", is_flag=True, help="No tables; reports and exit status only.")
def merge(reports, report_dir, formats, exit_zero, quiet):
    """Combine the JSON reports of an audit's shards (diffcheck audit --shard I/N) into
    the reports of the whole audit; the exit status is the whole audit's."""

    from diffcheck.checking.config import load_settings
    from diffcheck.reports.records import reproducible
    from diffcheck.reports.textreport import print_audit
    from diffcheck.reports.writer import DEFAULT_FORMATS, write_reports
    from diffcheck.scale.merge import merge_files, report_formats

    settings = load_settings()
    report_dir = report_dir or settings.report_dir or DEFAULT_REPORT_DIR
    record = merge_files(reports)
    errors = console(stderr=True)
    chosen, note = report_formats(record, list(formats), settings.formats or list(DEFAULT_FORMATS))
    if note:
        say(errors, f"diffcheck: {note}")
    if settings.reproducible:
        record = reproducible(record)   # after report_formats, which reads the shards' run records
    if not quiet:
        print_audit(record, console())
    written = write_reports(record, report_dir, chosen)
    if not quiet:
        say(errors, f"reports written to {report_dir}/: {', '.join(p.name for p in written)}")
    if not record["complete"]:
        sys.exit(INTERRUPTED)
    sys.exit(exit_status(record["summary"]["exit_status"], exit_zero))


@main.command()
@_color_option
@click.argument("documents", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the case file here (default: standard output). With several documents, "
                   "one file per document: OUTPUT is then a directory.")
def extract(documents, output):
    """Find the claims of DOCUMENTS (notebooks, Markdown, notebook exports, scripts,
    LaTeX, reStructuredText) and write them as case files to review and commit.

    Each case and claim keeps its quote and location; what the reader was unsure
    of has `review = true`; passages it could not check are listed, with the
    reason, in a comment at the top.  Nothing in a document is run."""
    from pathlib import Path

    from diffcheck.reading.extract import extract as read_claims
    from diffcheck.reading.extract import to_case_file
    from diffcheck.reports.writer import write_atomic

    errors = console(stderr=True)
    many = len(documents) > 1
    if many and output:
        Path(output).mkdir(parents=True, exist_ok=True)
    status = 0
    for document in documents:
        extraction = read_claims(document)
        for problem in extraction.problems:
            say(errors, f"diffcheck: {problem}")
            status = BAD_INPUT
        text = to_case_file(extraction)
        if output is None:
            click.echo(text, nl=False)
            continue
        target = Path(output) / (Path(document).name + ".toml") if many else Path(output)
        write_atomic(target, text)
        errors.print(f"{document}: {len(extraction.cases)} cases, {len(extraction.unread)} unread passages "
                     f"-> {target}", markup=False, highlight=False)
    sys.exit(status)

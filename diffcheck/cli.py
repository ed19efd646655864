"""The ``diffcheck`` command line.

Exit status: 0 when nothing is wrong, 1 when a check found a discrepancy (or a
method failed), 2 for bad input or usage.  diffcheck's own errors print as one
line; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import sys

import click

from .errors import DiffcheckError

FOUND, BAD_INPUT = 1, 2


def _parse_assignments(pairs) -> dict:
    from .parser import parse_value
    at = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--at takes NAME=VALUE, got {pair!r}")
        at[name.strip()] = parse_value(text, where=f"--at {name.strip()}")
    return at


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DiffcheckError as err:
            click.echo(f"diffcheck: error: {err}", err=True)
            ctx.exit(BAD_INPUT)


@click.group(cls=_Group)
@click.version_option(package_name="diffcheck")
def main():
    """Is this derivative right?  diffcheck differentiates an expression four ways
    (symbolic, numeric, its own engine, torch) and cross-checks them."""


@main.command()
@click.argument("expression")
@click.option("--at", "assignments", multiple=True, metavar="NAME=VALUE",
              help="A variable's value: a number or a list such as [1, 2] (repeatable).")
@click.option("--wrt", multiple=True, metavar="NAME",
              help="Differentiate with respect to this variable (repeatable; default: all).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def check(expression, assignments, wrt, fmt):
    """Cross-check the gradient of EXPRESSION at one point."""
    from .harness import DISCREPANCY, ERROR, check_expr
    result = check_expr(expression, _parse_assignments(assignments), list(wrt) or None)
    if fmt == "json":
        from .records import check_record
        click.echo(json.dumps(check_record(result), indent=2, allow_nan=False))
    else:
        from .textreport import print_check
        print_check(result)
    sys.exit(FOUND if result.verdict in (DISCREPANCY, ERROR) else 0)

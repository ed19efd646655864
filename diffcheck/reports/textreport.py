"""Terminal rendering of check results with rich tables: one row per gradient
entry, one column per method, the disagreeing cells in red."""

from __future__ import annotations

from diffcheck.printable import printable
from diffcheck.vocabulary import is_problem

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from diffcheck.reports.mdreport import problems
from diffcheck.reports.records import nothing_compared

VERDICT_STYLE = {"agree": "bold green", "discrepancy": "bold red", "nondifferentiable": "bold yellow",
                 "outside_domain": "bold yellow", "inconclusive": "bold yellow", "unsupported": "bold magenta", "error": "bold red"}
MAX_ROWS = 12
MAX_FORMULA = 240


def _entries(result):
    """(label, variable, index) for the value and every gradient entry, capped."""
    rows = [("value", None, ())]
    for name in result.wrt:
        shape = np.shape(result.point[name])
        for index in np.ndindex(*shape):
            rows.append((f"∂/∂{name}{list(index) if index else ''}", name, index))
    return rows


def _cell(gradient, name, index) -> str:
    if name is None:
        return f"{gradient.value:.12g}"
    value = float(np.asarray(gradient.gradients[name])[index])
    error = float(np.asarray(gradient.errors.get(name, 0.0))[index]) if name in gradient.errors else 0.0
    text = f"{value:.12g}"
    if error and gradient.backend == "numeric":
        text += f" ±{error:.1g}"
    return text


def check_table(result) -> Table:
    table = Table(title=f"{result.expression}", title_justify="left", title_style="bold")
    table.add_column("")
    names = list(result.results)
    for backend in names:
        table.add_column(backend + (" (ref)" if backend == result.reference else ""), justify="right")
    blamed = {(d.backend, d.variable, d.index) for d in result.discrepancies}
    entries = _entries(result)
    for label, name, index in entries[:MAX_ROWS]:
        cells = []
        for backend in names:
            g = result.results[backend]
            if not g.ok:
                cells.append(Text(g.status, style="dim"))
                continue
            bad = (backend, name or "", tuple(index)) in blamed
            cells.append(Text(_cell(g, name, index), style="bold red" if bad else ""))
        table.add_row(label, *cells)
    if len(entries) > MAX_ROWS:
        table.add_row(f"… {len(entries) - MAX_ROWS} more", *[""] * len(names))
    return table


def print_check(result, console: Console | None = None) -> None:
    console = console or Console()
    console.print(check_table(result))
    for name, g in result.results.items():
        if not g.ok:
            console.print(f"  {name}: {g.status}: {g.reason}", style="dim", highlight=False)
    line = Text("verdict: ") + Text(result.verdict, style=VERDICT_STYLE.get(result.verdict, "bold"))
    if result.reason:
        line += Text(f" — {result.reason}")
    console.print(line)
    symbolic = result.results.get("symbolic")
    if symbolic is not None and symbolic.ok:
        for name, formulas in symbolic.details.get("formulas", {}).items():
            if len(formulas) == 1:
                formula = formulas[0]
                if len(formula) > MAX_FORMULA:
                    formula = formula[:MAX_FORMULA] + f"… ({len(formulas[0])} characters; --format json has it whole)"
                console.print(f"  symbolic ∂/∂{name} = {formula}", highlight=False)


def clip(text, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word or number boundary, with
    an ellipsis saying that it was cut (never ``0.12345`` shown as ``0.12``)."""
    text = str(text)
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    boundary = max(cut.rfind(mark) for mark in (" ", ",", ";", "(", "["))
    return (cut[:boundary + 1].rstrip() if boundary > limit // 2 else cut) + "…"


def print_audit(record: dict, console: Console | None = None, limit: int = 40,
                load_errors: bool = True) -> None:
    """The audit in a terminal: a table per document, then the findings, one line
    each.  ``load_errors=False`` leaves out the case files that could not be read
    (the audit printed each as it met it)."""
    console = console or Console()
    if not record["cases"]:
        console.print("diffcheck audit: no case was checked", style="bold yellow", highlight=False)
    else:
        console.print(_document_table(record))
    if load_errors:
        for error in record["load_errors"]:
            console.print(Text(f"case file error: {printable(error)}", style="bold red"))
    rows = problems(record)
    for number, row in enumerate(rows[:limit], start=1):
        diagnosis = row["diagnosis"]
        line = Text(f"{number:3}. ", style="bold")
        line.append(printable(f"{row['case']['document']} · {row['where']}: "), style="cyan")
        line.append(printable(f"{row['what']}: claimed {clip(row['claimed'], 60)}, true {clip(row['true'], 60)}. "
                              if row["claimed"] else f"{row['what']}: "))
        line.append(printable(diagnosis), style="yellow")
        console.print(line, overflow="fold")
    if len(rows) > limit:
        console.print(f"... and {len(rows) - limit} more findings (see the reports)")
    unread = record.get("unread", [])
    if unread:
        documents = len({u["file"] for u in unread})
        console.print(Text(f"{len(unread)} passage{'s' * (len(unread) != 1)} in {documents} "
                           f"document{'s' * (documents != 1)} could not be checked (listed, with the "
                           "reason, in the reports)", style="yellow"))
    if not record["complete"]:
        console.print(Text("The audit was interrupted: these results cover the cases finished.",
                           style="bold yellow"))


def _document_table(record: dict) -> Table:
    """One row per document: its cases, and its claims and method problems counted."""
    table = Table(title="diffcheck audit", title_justify="left")
    columns = ["document", "cases", "claims right", "claims wrong", "undecided", "method problems"]
    unfinished = any("unfinished" in case for case in record["cases"])
    columns += ["not finished"] if unfinished else []
    for column in columns:
        table.add_column(column, justify="left" if column == "document" else "right")
    documents: dict[str, list[int]] = {}
    for case in record["cases"]:
        row = documents.setdefault(case["document"], [0] * (len(columns) - 1))
        row[0] += 1
        if unfinished:
            row[5] += "unfinished" in case
        for f in case["findings"]:
            row[1] += f["status"] == "confirmed"
            row[2] += is_problem(f["status"])
            row[3] += f["status"] == "undecided"
        row[4] += sum(is_problem(c["verdict"]) for c in case["checks"])
        row[4] += sum(is_problem(s["verdict"]) for s in case["scenarios"])
    for document, row in documents.items():
        table.add_row(Text(printable(document)), *[Text(str(n), style="bold red" if i in (2, 4, 5) and n else "")
                                  for i, n in enumerate(row)])
    return table


def print_nothing_compared(record: dict, backends, console: Console) -> None:
    """A line saying so when no cross-check compared two methods (the exit status is 2)."""
    if nothing_compared(record["summary"]["cross_checks"]):
        asked = f"only {', '.join(backends)} {'was' if len(backends) == 1 else 'were'} asked" \
            if backends else "no two methods could differentiate any case"
        console.print(f"diffcheck: nothing was cross-checked ({asked}): every cross-check is unsupported, "
                      "so the methods were never compared; exit status 2", markup=False, highlight=False)


def print_fuzz(result, console: Console | None = None) -> None:
    """A fuzz run in a terminal: the verdicts counted, then each failure shrunk,
    with the case file that reproduces it."""
    console = console or Console()
    ops = ", ".join(result.ops) if result.ops else "all ops"
    console.print(f"diffcheck fuzz: {result.examples} example{'s' * (result.examples != 1)}, seed {result.seed}, {ops} "
                  f"({result.seconds:.1f} s)", style="bold", highlight=False)
    table = Table(title_justify="left")
    table.add_column("verdict")
    table.add_column("examples", justify="right")
    table.add_column("on a kink or tie", justify="right")
    for verdict, count in sorted(result.counts.items(), key=lambda item: -item[1]):
        table.add_row(Text(verdict, style=VERDICT_STYLE.get(verdict, "bold red")), str(count),
                      str(result.on_kinks[verdict]))
    console.print(table)
    if not result.failures and not result.compared:
        console.print(Text("nothing was cross-checked: no example could be differentiated by two methods "
                           "(every one unsupported), so no failure could have been found", style="bold yellow"))
    elif not result.failures:
        console.print(Text(f"no failures in {result.compared} cross-checked example"
                           f"{'s' * (result.compared != 1)}", style="bold green"))
    for number, failure in enumerate(result.failures, start=1):
        line = Text(f"{number:3}. ", style="bold")
        line.append(failure.label, style="bold red")
        line.append(f" in {failure.occurrences} example{'s' * (failure.occurrences != 1)}; "
                    f"{'shrunk to' if failure.shrunk else 'not shrunk:'} ")
        line.append(failure.drawn.text, style="cyan")
        values = ", ".join(f"{k} = {np.asarray(v).tolist()}" for k, v in failure.drawn.point.items())
        line.append(f" at {values}")
        console.print(line, overflow="fold", highlight=False)
        console.print(f"     {failure.reason}", style="dim", overflow="fold", highlight=False)
        if failure.path is not None:
            console.print(f"     case file: {failure.path} (diffcheck audit {failure.path})",
                          highlight=False)

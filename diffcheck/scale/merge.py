"""``diffcheck merge``: the JSON reports of an audit's shards, put back together.

Each report is validated against the shipped schema and must be a shard's
(``diffcheck audit --shard I/N``); the shards must be of one audit (the same
number of shards and the same fingerprint of case list and settings), none may
be given twice, and none may be missing.  The merged record is the one the
unsharded audit would have produced, apart from ``run``: cases in the unsharded
order (each shard records its cases' places), the load errors once (every shard
reports them), and the summary recomputed from the cases.

``run`` of the merged record holds the earliest start, the sum of the shards'
times (the checking time spent, not the wall time of a parallel matrix), every
case's time, and each shard's own run metadata under ``shards``.

The HTML report draws plot data that the shards computed; a shard run without
the HTML format has none, and :func:`plots_available` says so.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from diffcheck.errors import DiffcheckError
from diffcheck.reports.jsonreport import schema
from diffcheck.reports.records import report_record


class MergeError(DiffcheckError):
    """Shard reports that cannot be read, are not shards, or do not make one audit."""


def read_shard_report(path: str | Path) -> dict:
    """One shard's JSON report, validated; a :class:`MergeError` naming the file otherwise."""
    import jsonschema

    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise MergeError(f"{shown}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise MergeError(f"{shown}: not UTF-8 text (byte {err.start})") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise MergeError(f"{shown}: not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from None
    except RecursionError:
        raise MergeError(f"{shown}: not valid JSON: nested too deeply") from None
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(record))
    if error is not None:
        place = "/".join(str(part) for part in error.absolute_path) or "top level"
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        raise MergeError(f"{shown}: not a diffcheck audit report: {place}: {message}")
    shard = record.get("shard")
    if shard is None:
        raise MergeError(f"{shown}: not a shard's report (it has no shard field; "
                         "shards are written by diffcheck audit --shard I/N)")
    if shard["index"] > shard["count"]:
        raise MergeError(f"{shown}: shard {_name(record)}: there is no shard {shard['index']} of {shard['count']}")
    if len(shard["positions"]) != len(record["cases"]):
        raise MergeError(f"{shown}: shard {_name(record)} lists {len(shard['positions'])} places "
                         f"for {len(record['cases'])} cases")
    if any(place >= shard["total_cases"] for place in shard["positions"]):
        raise MergeError(f"{shown}: shard {_name(record)} places a case beyond the audit's "
                         f"{shard['total_cases']} cases")
    return record


def merge_files(paths) -> dict:
    """Read, check and merge the shard reports at ``paths`` (see :func:`merge_records`)."""
    if not paths:
        raise MergeError("no shard reports given")
    return merge_records([(str(path), read_shard_report(path)) for path in paths])


def merge_records(named: list[tuple[str, dict]]) -> dict:
    """The audit record of the whole audit from ``(name, shard record)`` pairs."""
    _check_one_audit(named)
    placed: dict[int, tuple[str, dict]] = {}
    for name, record in named:
        for place, case in zip(record["shard"]["positions"], record["cases"]):
            if place in placed:
                raise MergeError(f"{placed[place][0]} and {name} both hold case {case['id']!r}")
            placed[place] = (name, case)
    first = named[0][1]
    complete = all(record["complete"] for _, record in named)
    total = first["shard"]["total_cases"]
    if complete and len(placed) != total:
        raise MergeError(f"the shards hold {len(placed)} of the audit's {total} cases, "
                         "though none was interrupted")
    cases = [placed[place][1] for place in sorted(placed)]
    return report_record(cases, first["load_errors"], complete, _merged_run(named, cases))


def _check_one_audit(named: list[tuple[str, dict]]) -> None:
    """Refuse shards of different audits, a shard given twice, and missing shards."""
    first_name, first = named[0]
    count = first["shard"]["count"]
    by_index: dict[int, str] = {}
    for name, record in named:
        shard = record["shard"]
        if shard["count"] != count:
            raise MergeError(f"{first_name} is shard {_name(first)} but {name} is shard {_name(record)}")
        if (shard["fingerprint"], shard["total_cases"]) != (first["shard"]["fingerprint"],
                                                           first["shard"]["total_cases"]):
            raise MergeError(f"{first_name} and {name} are shards of different audits "
                             "(their case files, cases, methods, tolerances or --allow-import differ)")
        if record["load_errors"] != first["load_errors"]:
            raise MergeError(f"{first_name} and {name} report different case-file errors, "
                             "so they did not read the same files")
        if shard["index"] in by_index:
            raise MergeError(f"{by_index[shard['index']]} and {name} are both shard {_name(record)}")
        by_index[shard["index"]] = name
    missing = [index for index in range(1, count + 1) if index not in by_index]
    if missing:
        raise MergeError(f"shard{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(f'{index}/{count}' for index in missing)} "
                         f"{'are' if len(missing) > 1 else 'is'} missing (given: "
                         + ", ".join(f"{by_index[i]} ({i}/{count})" for i in sorted(by_index)) + ")")


def report_formats(record: dict, requested: list[str], default: list[str]) -> tuple[list[str], str]:
    """The formats to write for a merged record, and a note for the user (or ``""``).

    The HTML report's plots come from data the shards computed only when run with
    the html format (the merged ``run`` keeps each shard's account of itself).
    Without it, an html report asked for is refused, and one that is merely a
    default is left out with a note: never a page silently missing its plots."""
    without = [shard["report"] for shard in record["run"]["shards"] if not shard["plots"]]
    formats = list(requested or default)
    if "html" not in formats or not without:
        return formats, ""
    reason = f"the shard reports {', '.join(without)} have no plot data (run shards with --format html)"
    if requested:
        raise MergeError(f"cannot write the HTML report: {reason}")
    return [name for name in formats if name != "html"], f"no HTML report: {reason}"


def _merged_run(named, cases) -> dict:
    runs = [record["run"] for _, record in named]
    seconds: dict[str, float] = {}
    for run in runs:
        seconds.update(run.get("case_seconds", {}))
    shards = [{"report": name, "shard": _name(record), "plots": record["shard"]["plots"],
               "complete": record["complete"],
               **{key: value for key, value in record["run"].items() if key != "case_seconds"}}
              for name, record in sorted(named, key=lambda pair: pair[1]["shard"]["index"])]
    merged = {
        "started": min((run["started"] for run in runs), key=_instant),
        "seconds": round(sum(run["seconds"] for run in runs), 3),
        "case_seconds": {case["id"]: seconds[case["id"]] for case in cases if case["id"] in seconds},
    }
    for key in ("python", "versions"):
        if key in runs[0]:
            merged[key] = runs[0][key]
    merged["shards"] = shards
    return merged


def _instant(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _name(record: dict) -> str:
    return f"{record['shard']['index']}/{record['shard']['count']}"

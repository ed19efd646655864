"""The HTML report: one self-contained page a reader can open, mail or archive.

Self-contained means no external scripts, styles, fonts or images: the CSS is
inline and each case's plots are a PNG in a ``data:`` URI, so the page shows the
same offline, years later, and loads nothing from anywhere.  Case files are
untrusted text (a case may be named ``<script>...``), so the template is
rendered with autoescaping on; nothing is marked safe except the data URIs this
module builds itself.

The same record renders to the same bytes: the plots are drawn with fixed
matplotlib settings and saved without a timestamp or version stamp, so two
renderings can be diffed.  Like every reporter, this one only formats: the plot
data comes computed in ``case["profile"]`` (:mod:`diffcheck.documents.plotdata`), and a
case without it renders without plots.
"""

from __future__ import annotations

from diffcheck.vocabulary import is_listed, is_problem

import base64
import functools
import io
import math
import re

import jinja2

from diffcheck.reports.mdreport import failed_test_row
from diffcheck.reports.records import wording

FILENAME = "diffcheck-audit.html"
TEMPLATE = "report.html.j2"

MAX_ENTRIES_SHOWN = 8    # per axis of an array; the JSON report has them all
MAX_TEXT_SHOWN = 240     # characters of a symbolic formula
PLOT_DPI = 80
#: A fixed corner, half see-through over the curves: placing legends "best"
#: tests every corner against every point, a seventh of a plot's cost.
LEGEND_PLACE, LEGEND_ALPHA = "upper left", 0.6
PALETTE_COLORS = 128
#: Line styles per backend, so curves that coincide stay distinguishable.
STYLES = {"symbolic": dict(color="#222222", linewidth=2.4, linestyle="-"),
          "numeric": dict(color="#d95f02", linewidth=1.4, linestyle="--"),
          "engine": dict(color="#1b9e77", linewidth=0, marker="o", markersize=3.5),
          "torch": dict(color="#7570b3", linewidth=0, marker="x", markersize=5)}


def render(record: dict) -> str:
    """The page for an audit record (:func:`diffcheck.reports.records.audit_record`)."""
    cases = record["cases"]
    context = {
        "record": record,
        "words": wording(record),
        "summary": record["summary"],
        "problems": problem_rows(record),
        "case_problems": [case_problem_count(case) for case in cases],
        "plots": {number: plot_profile(case["profile"]) for number, case in enumerate(cases, start=1)
                  if has_plot_data(case.get("profile"))},
    }
    return _environment().get_template(TEMPLATE).render(**context)


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("diffcheck.reports", "templates"),
        autoescape=True,                 # case text is untrusted, whatever the file name
        undefined=jinja2.StrictUndefined,  # a misspelt field fails loudly, not blank
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    environment.filters["num"] = format_number
    environment.filters["compact"] = compact
    environment.filters["clip"] = clip
    environment.filters["brief"] = brief
    environment.globals["entry_label"] = entry_label
    return environment


# ---- what counts as a problem -------------------------------------------------------------

def case_problem_count(case: dict) -> int:
    """Unconfirmed claims, cross-checks and scenarios where the methods disagree or
    fail, and a pytest test that failed."""
    return (("unfinished" in case) + (case.get("outcome") == "failed")
            + sum(is_listed(f["status"]) for f in case["findings"])
            + sum(is_problem(c["verdict"]) for c in case["checks"])
            + sum(is_problem(s["verdict"]) for s in case["scenarios"]))


def problem_rows(record: dict) -> list[dict]:
    """One row per thing a reader must look at, in document order: unconfirmed
    findings, cross-check discrepancies and failures, diverging scenarios."""
    rows = []
    for number, case in enumerate(record["cases"], start=1):
        base = {"case_number": number, "document": case["document"], "case": case["name"]}
        failed = failed_test_row(case)
        if failed:
            rows.append({**base, "source": "the test", "status": "failed", "where": case["where"],
                         "subject": failed["what"], "claimed": "", "true": "", "message": failed["diagnosis"],
                         "diagnoses": [], "note": ""})
        if "unfinished" in case:
            rows.append({**base, "source": "the case", "status": case["unfinished"]["outcome"],
                         "where": case["where"], "subject": "not checked to the end", "claimed": "",
                         "true": "", "message": case["unfinished"]["reason"], "diagnoses": [], "note": ""})
        for f in case["findings"]:
            if is_listed(f["status"]):
                rows.append({**base, "source": f"claim {f['claim']} ({f['kind']})" if f["claim"] else f["kind"],
                             "status": f["status"], "where": f["where"], "subject": f["subject"],
                             "claimed": f["claimed"], "true": compact(f["true"]), "message": f["message"],
                             "diagnoses": f["diagnoses"], "note": f["note"]})
        for check in case["checks"]:
            if not is_problem(check["verdict"]):
                continue
            for d in check["discrepancies"] or [None]:
                rows.append({**base, **_check_row(check, d), "where": case["where"]})
        for s in case["scenarios"]:
            if is_problem(s["verdict"]):
                rows.append({**base, "source": f"claim {s['claim']} ({s['kind']} scenario)",
                             "status": s["verdict"], "where": case["where"],
                             "subject": f"{s['kind']} run over {s['steps']} steps, every method",
                             "claimed": "", "true": "", "message": s["reason"], "diagnoses": [],
                             "note": ""})
    return rows


def _check_row(check: dict, d: dict | None) -> dict:
    row = {"source": "cross-check", "status": check["verdict"], "message": check["reason"],
           "diagnoses": [], "note": ""}
    if d is None:
        return {**row, "subject": f"gradient of {check['expression']}", "claimed": "", "true": ""}
    what = f"d/d{entry_label(d['variable'], d['index'])}" if d["variable"] else "value"
    return {**row, "subject": f"{what} of {check['expression']}",
            "claimed": f"{d['backend']}: {format_number(d['value'])}",
            "true": f"{d.get('reference_backend', check['reference'])}: {format_number(d['reference'])}",
            "message": (f"abs error {format_number(d['abs_error'], 3)}, "
                        f"tolerance {format_number(d['tolerance'], 3)}")}


# ---- formatting ---------------------------------------------------------------------------

def entry_label(variable: str, index) -> str:
    """``x``, ``w[0]``, ``X[1, 0]``."""
    return variable if not index else f"{variable}[{', '.join(map(str, index))}]"


def format_number(x, digits: int = 10) -> str:
    """A record number as text; the record's ``"nan"``/``"inf"`` strings pass through."""
    if x is None:
        return "—"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    return f"{x:.{digits}g}"


def compact(value, limit: int = MAX_ENTRIES_SHOWN) -> str:
    """Record data (numbers, nested lists, dicts) as one short line, arrays cut at
    ``limit`` entries per axis with the count of the rest."""
    if isinstance(value, dict):
        return ", ".join(f"{k} = {compact(v, limit)}" for k, v in value.items())
    if isinstance(value, list):
        shown = [compact(v, limit) for v in value[:limit]]
        if len(value) > limit:
            shown.append(f"… {len(value) - limit} more")
        return "[" + ", ".join(shown) + "]"
    if value is None:
        return "—"
    return format_number(value)


_LONG_NUMBER = re.compile(r"-?\d+\.\d{5,}(?:e[+-]?\d+)?")
_FLAT_LIST = re.compile(r"\[([^\[\]]*)\]")
EVIDENCE_ENTRIES = 3     # shown of each list in a sentence of evidence
EVIDENCE_DIGITS = 4


def brief(text, limit: int = MAX_TEXT_SHOWN) -> str:
    """Evidence text (claimed and true values at the equivalence test's random
    points, for instance) made readable: numbers at 4 significant digits, each
    list cut to its first 3 entries and the count of the rest, then clipped.
    The JSON report has the values whole."""
    def short_number(match):
        return f"{float(match.group(0)):.{EVIDENCE_DIGITS}g}"

    def short_list(match):
        entries = [e.strip() for e in match.group(1).split(",")]
        if len(entries) <= EVIDENCE_ENTRIES + 1:
            return f"[{', '.join(entries)}]"
        return f"[{', '.join(entries[:EVIDENCE_ENTRIES])}, … {len(entries) - EVIDENCE_ENTRIES} more]"

    return clip(_FLAT_LIST.sub(short_list, _LONG_NUMBER.sub(short_number, str(text))), limit)


def clip(text: str, limit: int = MAX_TEXT_SHOWN) -> str:
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


# ---- plots --------------------------------------------------------------------------------

def has_plot_data(profile) -> bool:
    return bool(profile) and profile.get("variable") is not None and "slice" in profile


def _floats(values) -> list[float]:
    # float() reads the record's "nan", "inf" and "-inf" spellings.
    return [float(v) for v in values]


def plot_profile(profile: dict) -> str:
    """The case's three panels (function along the slice, each method's derivative
    along it, central-difference error against step size) as a PNG data URI."""
    import numpy as np
    from matplotlib import style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    # matplotlib's own defaults, not the user's matplotlibrc, so that every
    # machine draws the same pixels; a bare Figure on its own Agg canvas touches
    # no global pyplot state and needs no closing.
    # A fixed title height spares matplotlib measuring every tick label for it.
    with style.context(["default", {"axes.titley": 1.0, "axes.titlepad": 5.0}]):
        figure = Figure(figsize=(11, 3.0), dpi=PLOT_DPI)
        canvas = FigureCanvasAgg(figure)
        value_axes, derivative_axes, step_axes = figure.subplots(1, 3)
        # Fixed margins: a layout engine measures every label, and would cost
        # more than the drawing.
        figure.subplots_adjust(left=0.05, right=0.99, bottom=0.16, top=0.9, wspace=0.22)
        _draw_slice(profile, value_axes, derivative_axes)
        _draw_steps(profile, step_axes)
        canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())
    # A palette of a few colours holds line plots without visible loss at a third
    # of the size: ~40 cases stay a page of about a megabyte.  Saved by Pillow
    # with no text chunks (no software version, no time): same record, same bytes.
    image = Image.fromarray(pixels).convert("RGB").quantize(colors=PALETTE_COLORS)
    buffer = io.BytesIO()
    image.save(buffer, format="png", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _draw_slice(profile: dict, value_axes, derivative_axes) -> None:
    sliced, entry, x0 = profile["slice"], profile["entry"], float(profile["point"])
    ts = _floats(sliced["t"])
    values = _floats(sliced["value"])
    value_axes.plot(ts, values, color="#222222", linewidth=1.8)
    middle = len(ts) // 2
    value_axes.plot([x0], [values[middle]], "o", color="#c0392b", markersize=6, label="the case's point")
    value_axes.set_title(f"f along {entry}", fontsize=10)
    value_axes.set_xlabel(entry)
    value_axes.legend(fontsize=8, loc=LEGEND_PLACE, framealpha=LEGEND_ALPHA)
    for name, data in sliced["backends"].items():
        derivative = _floats(data["derivative"])
        if all(math.isnan(v) for v in derivative):
            continue
        derivative_axes.plot(ts, derivative, label=name, **STYLES.get(name, {}))
    derivative_axes.axvline(x0, color="#c0392b", linewidth=1, linestyle=":")
    derivative_axes.set_title(f"df/d{entry} by each method", fontsize=10)
    derivative_axes.set_xlabel(entry)
    if derivative_axes.get_legend_handles_labels()[0]:
        derivative_axes.legend(fontsize=8, loc=LEGEND_PLACE, framealpha=LEGEND_ALPHA)
    for axes in (value_axes, derivative_axes):
        _few_ticks(axes)
        axes.tick_params(labelsize=8)
        axes.grid(True, alpha=0.3)


def _few_ticks(axes) -> None:
    """Five ticks or fewer per linear axis: ticks and their labels are most of
    what drawing a panel costs."""
    from matplotlib.ticker import MaxNLocator
    axes.xaxis.set_major_locator(MaxNLocator(nbins=4))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=4))


def _draw_steps(profile: dict, axes) -> None:
    from matplotlib.ticker import FuncFormatter

    steps = profile["steps"]
    from matplotlib.ticker import LogLocator, NullLocator

    axes.set_xscale("log")
    axes.set_yscale("log")
    # Every decade labelled, no minor ticks: the drawing's cost is mostly ticks.
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_locator(LogLocator(numticks=7))
        axis.set_minor_locator(NullLocator())
    # Plain "1e-08" labels: the default mathtext ones cost more than the plot.
    plain = FuncFormatter(lambda v, _: f"{v:.0e}")
    axes.xaxis.set_major_formatter(plain)
    axes.yaxis.set_major_formatter(plain)
    axes.tick_params(labelsize=8)
    axes.grid(True, which="major", alpha=0.3)
    axes.set_xlabel("step h")
    if steps["reference"] is None:
        axes.set_title("no reference derivative at the point", fontsize=10)
        axes.text(0.5, 0.5, "no method gave the derivative", ha="center", va="center",
                  transform=axes.transAxes, fontsize=9)
        return
    hs, errors = _floats(steps["h"]), _floats(steps["error"])
    numeric = steps["numeric"]
    error = float(numeric["error"]) if numeric["status"] == "ok" else math.nan
    estimate = float(numeric["estimate"]) if numeric["status"] == "ok" else math.nan
    positive = [v for v in [*errors, error, estimate] if v > 0 and math.isfinite(v)]
    # An exact (zero) error has no place on a log axis: it is drawn on a floor
    # a decade below the smallest error there is, and labelled as exact.
    floor = min(positive) / 10 if positive else 1e-16
    drawn = [(h, e) for h, e in zip(hs, errors) if e > 0 and math.isfinite(e)]
    exact = [h for h, e in zip(hs, errors) if e == 0]
    if drawn:
        axes.plot(*zip(*drawn), "o-", color="#1f77b4", markersize=4, label="central difference")
    if exact:
        axes.plot(exact, [floor] * len(exact), "v", color="#1f77b4", markersize=5,
                  label="central difference, exact (0)")
    if numeric["status"] == "ok":
        axes.axhline(error if error > 0 else floor, color="#d95f02", linewidth=1.4,
                     label=f"numeric backend's error ({format_number(error, 2)})")
        if math.isfinite(estimate) and estimate > 0:
            axes.axhline(estimate, color="#d95f02", linewidth=1.2, linestyle="--",
                         label=f"its error estimate ({format_number(estimate, 2)})")
    axes.set_title(f"|difference quotient − {steps['reference']}|", fontsize=10)
    axes.legend(fontsize=7, loc=LEGEND_PLACE, framealpha=LEGEND_ALPHA)

"""``diffcheck fuzz``: a property-based cross-check, reproducible from a seed.

Two Hypothesis runs, both seeded and without an example database, so the same
seed draws the same examples on every machine:

1. the search: ``examples`` (expression, point) pairs from
   :func:`diffcheck.testing.strategies.problems`, each cross-checked by the four
   methods; nothing is raised, every verdict is counted and every failure (a
   discrepancy, or a method's error; never a kink) is kept, grouped by kind
   (the verdict and the methods blamed);
2. the shrinking, once per kind: the same search again, now failing on that
   kind only, so Hypothesis stops at its first example of the kind and shrinks
   it to the smallest expression and simplest point that still fail that way.

Each shrunk failure is written as a case file in the format of ``cases/``, so
``diffcheck audit`` reproduces it and it can join the catalogue as a regression
case.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from diffcheck.checking.batch import check_points
from diffcheck.checking.harness import DISCREPANCY, ERROR, CheckResult
from diffcheck.reports.writer import prepare_directory, write_atomic
from diffcheck.testing.strategies import ARRAYS, SCALARS, Drawn, problems


@dataclass
class Failure:
    """One kind of failure: its first example, and that example shrunk."""

    kind: tuple
    verdict: str
    reason: str
    found: Drawn
    drawn: Drawn          # shrunk, or ``found`` if shrinking lost it
    shrunk: bool = False
    occurrences: int = 1  # examples of the search that failed this way
    path: Optional[Path] = None

    @property
    def label(self) -> str:
        verdict, who = self.kind
        return f"{verdict} ({', '.join(who)})" if who else verdict


@dataclass
class FuzzResult:
    examples: int
    seed: int
    ops: Optional[list[str]]
    options: str = ""     # the other command-line options that shape the examples
    counts: Counter = field(default_factory=Counter)     # examples by verdict
    on_kinks: Counter = field(default_factory=Counter)   # those on a kink or a tie, by verdict
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def command(self) -> str:
        """The command that draws the same examples again."""
        ops = f" --ops {','.join(self.ops)}" if self.ops else ""
        return f"diffcheck fuzz --examples {self.examples} --seed {self.seed}{ops}{self.options}"

    @property
    def compared(self) -> int:
        """Examples where the methods could be compared (any verdict but unsupported)."""
        return sum(n for verdict, n in self.counts.items() if verdict != "unsupported")

    @property
    def exit_status(self) -> int:
        """1 when something failed; 2 when no example could be cross-checked (every
        one unsupported: "no failures" would then claim what was never checked)."""
        if self.failures:
            return 1
        return 2 if self.compared == 0 else 0


class _Failing(AssertionError):
    def __init__(self, kind: tuple, verdict: str, reason: str, drawn: Drawn):
        super().__init__(f"{verdict}: {reason}")
        self.kind, self.verdict, self.reason, self.drawn = kind, verdict, reason, drawn


def failure_kind(result: CheckResult) -> Optional[tuple]:
    """(verdict, methods blamed) for a failing check, None for any other verdict."""
    if result.verdict == DISCREPANCY:
        return DISCREPANCY, tuple(sorted({d.backend for d in result.discrepancies}))
    if result.verdict == ERROR:
        return ERROR, tuple(sorted(n for n, r in result.results.items() if r.status == ERROR))
    return None


def check_one(drawn: Drawn, backends=None) -> tuple[str, str, Optional[tuple], bool]:
    """(verdict, reason, failure kind, whether the point is on a kink) of one drawn
    problem.  An exception out of the check itself is a failure of kind
    ("exception", its type)."""
    try:
        result = check_points(drawn.expr, [drawn.point], backends=backends)[0]
    except Exception as err:  # noqa: BLE001 - a crash of the harness is itself a finding
        name = type(err).__name__
        return "exception", f"{name}: {err}", ("exception", (name,)), False
    return result.verdict, result.reason, failure_kind(result), bool(result.kinks)


def _settings(examples: int, phases) -> settings:
    return settings(max_examples=examples, database=None, deadline=None, phases=phases,
                    derandomize=False, suppress_health_check=list(HealthCheck),
                    verbosity=Verbosity.quiet, report_multiple_bugs=False, print_blob=False)


def run_fuzz(examples: int, seed: int, ops: Optional[Sequence[str]] = None, *,
             max_leaves: int = 8, shapes=ARRAYS, kink_heavy: bool = False, backends=None,
             progress: Optional[Callable[[str, int], None]] = None) -> FuzzResult:
    """Search ``examples`` generated problems, then shrink one example of each kind
    of failure.  ``progress(stage, n)`` is called after each search example
    (``stage == "search"``) and each shrinking attempt (``"shrink"``)."""
    started = time.perf_counter()
    strategy = problems(ops, max_leaves=max_leaves, shapes=shapes, kink_heavy=kink_heavy)
    options = "".join([f" --max-leaves {max_leaves}" if max_leaves != 8 else "",
                       " --scalars" if tuple(shapes) == SCALARS else "",
                       " --kinks" if kink_heavy else "",
                       "".join(f" --backend {b}" for b in backends or ())])
    result = FuzzResult(examples, seed, list(ops) if ops else None, options)
    found: dict[tuple, Failure] = {}

    @hypothesis_seed(seed)
    @_settings(examples, [Phase.generate])
    @given(strategy)
    def search(drawn):
        verdict, reason, kind, on_kink = check_one(drawn, backends)
        result.counts[verdict] += 1
        result.on_kinks[verdict] += on_kink
        if kind is not None:
            if kind in found:
                found[kind].occurrences += 1
            else:
                found[kind] = Failure(kind, verdict, reason, drawn, drawn)
        if progress:
            progress("search", 1)

    search()
    for kind, failure in found.items():
        _shrink(failure, strategy, examples, seed, backends, progress)
        result.failures.append(failure)
    result.seconds = time.perf_counter() - started
    return result


def _shrink(failure: Failure, strategy, examples, seed, backends, progress) -> None:
    @hypothesis_seed(seed)
    @_settings(examples, [Phase.generate, Phase.shrink])
    @given(strategy)
    def same_kind(drawn):
        verdict, reason, kind, _ = check_one(drawn, backends)
        if progress:
            progress("shrink", 1)
        if kind == failure.kind:
            raise _Failing(kind, verdict, reason, drawn)

    try:
        same_kind()
    except _Failing as failing:
        failure.drawn, failure.reason, failure.shrunk = failing.drawn, failing.reason, True


# --- case files ------------------------------------------------------------------

def _toml_string(text: str) -> str:
    # JSON's string escapes are all valid in a TOML basic string.
    return json.dumps(text, ensure_ascii=False)


def _toml_value(value) -> str:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return repr(float(array))
    return "[" + ", ".join(_toml_value(v) for v in array) + "]"


def case_file_text(failure: Failure, number: int, result: FuzzResult) -> str:
    """A case file holding one failure: the shrunk expression at its point."""
    drawn = failure.drawn
    command = result.command
    variables = ", ".join(f"{name} = {_toml_value(v)}" for name, v in drawn.point.items())
    wrt = ", ".join(_toml_string(name) for name in drawn.wrt)
    note = (f"{failure.verdict}: {failure.reason}" if failure.shrunk else
            f"{failure.verdict} (not shrunk: the shrinking run did not meet this kind again): "
            f"{failure.reason}")
    lines = [
        f"# A failure found by `{command}`; regenerate it with that command.",
        "# It becomes a regression case when copied into cases/.",
        "",
        "format = 1",
        f"document = {_toml_string(f'fuzz-seed{result.seed}')}",
        f"title = {_toml_string('Failures found by ' + command)}",
        "",
        "[[case]]",
        f"name = {_toml_string(f'fuzz-seed{result.seed}-{number}')}",
        f"where = {_toml_string(f'{command}, failure {number}: {failure.label}')}",
        f"expression = {_toml_string(drawn.text)}",
        f"variables = {{ {variables} }}",
        f"wrt = [{wrt}]",
        f"note = {_toml_string(note)}",
        "",
    ]
    return "\n".join(lines)


def write_case_files(result: FuzzResult, directory: Path | str) -> list[Path]:
    """Write each failure's case file into ``directory``; returns the paths.  With
    no failure, nothing is written and the directory is not created."""
    if not result.failures:
        return []
    path = prepare_directory(directory)
    written = []
    for number, failure in enumerate(result.failures, start=1):
        target = path / f"fuzz-seed{result.seed}-{number}.toml"
        write_atomic(target, case_file_text(failure, number, result))
        failure.path = target
        written.append(target)
    return written


def parse_ops(values: Iterable[str]) -> Optional[list[str]]:
    """``--ops`` values, each a name or a comma-separated list of names."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return names or None

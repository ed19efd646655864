"""The audit: every case of every file, cross-checked, and every claim checked.

Produces data (:class:`AuditResult`); :mod:`diffcheck.reports.records` turns it into the
plain record every report format renders.  A case that fails to load, or whose
checking raises one of diffcheck's own errors, is reported and the audit goes on.
"""

from __future__ import annotations

import time
import tomllib
from pathlib import Path
from dataclasses import dataclass, field
from typing import Callable, Iterable

from diffcheck.checking.harness import CheckResult
from diffcheck.checking.tolerances import DEFAULT_TOLERANCES, Tolerances
from diffcheck.documents import claims, draws, scenarios
from diffcheck.reading.detect import is_document
from diffcheck.documents.catalogue import Case, CaseFile, discover, load
from diffcheck.documents.claims import CaseRun, Finding
from diffcheck.documents.codecases import check_code_case
from diffcheck.documents.plotdata import profile, wanted
from diffcheck.errors import DiffcheckError
from diffcheck.language.expr import variables

CHECKERS = {**claims.CHECKERS, **scenarios.CHECKERS}
from diffcheck.vocabulary import (  # noqa: F401
    BAD_INPUT,
    CLEAN,
    FAILED,
    FINISHED,
    FOUND,
    RESOURCE_LIMIT,
    TIMEOUT,
    UNFINISHED,
    WORKER_DIED,
    is_problem,
)


@dataclass
class CaseResult:
    case: Case
    checks: list[CheckResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    scenarios: list = field(default_factory=list)
    profile: dict | None = None
    seconds: float = 0.0
    outcome: str = FINISHED   # or one of UNFINISHED, with the reason
    reason: str = ""

    @property
    def problems(self) -> int:
        """Refuted or unusable claims, cross-checks where the methods disagree, and
        a case that could not be checked to the end."""
        return (is_problem(self.outcome)
                + sum(is_problem(f.status) for f in self.findings)
                + sum(is_problem(c.verdict) for c in self.checks)
                + sum(is_problem(s.verdict) for s in self.scenarios))


@dataclass
class AuditResult:
    files: list[CaseFile] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)
    started: float = 0.0
    seconds: float = 0.0
    complete: bool = True

    @property
    def load_errors(self) -> list[str]:
        return [str(e) for f in self.files for e in f.errors]

    def count(self, status: str) -> int:
        return sum(f.status == status for c in self.cases for f in c.findings)

    @property
    def exit_status(self) -> int:
        if self.load_errors:
            return BAD_INPUT
        return FOUND if any(c.problems for c in self.cases) else CLEAN


@dataclass(frozen=True)
class CheckingSettings:
    """The settings a case's check depends on: the tolerance multipliers
    (``[tool.diffcheck.tolerance]``) and whether code that cases name may be
    imported (``--allow-import``).  A value passed down to every check, by the
    in-process executor, the worker pool and the Dask executor alike (it pickles),
    never process-wide state: two audits in one process cannot see each other's."""

    tolerances: Tolerances = DEFAULT_TOLERANCES
    allow_imports: bool = False


#: What a check uses when no settings are given: default tolerances, no imports.
DEFAULT_SETTINGS = CheckingSettings()


def load_all(paths: Iterable) -> list[CaseFile]:
    """Every case file and document under ``paths``, loaded.

    A document is read by the extractors unless a reviewed case file names it
    (its ``document`` field is the document's file name): one given in the same
    run, or one lying beside the document.  A reviewed file is what a person
    corrected after ``diffcheck extract``; it is used in the document's place."""
    found = discover(paths)
    files = [load(path) for path in found if not is_document(path)]
    reviewed = {f.document for f in files if f.document}
    for path in found:
        if not is_document(path):
            continue
        if path.name in reviewed:
            continue
        beside = _reviewed_beside(path)
        if beside is not None:
            files.append(beside)
            reviewed.add(path.name)
        else:
            files.append(load(path))
    return files


def _reviewed_beside(document: Path) -> CaseFile | None:
    for candidate in sorted(document.parent.glob("*.toml")):
        if _names_document(candidate, document.name):
            return load(candidate)
    return None


def _names_document(case_file: Path, name: str) -> bool:
    """Whether a TOML file's top-level ``document`` is ``name`` (read cheaply;
    anything unreadable is simply not a reviewed file for it)."""
    try:
        with case_file.open("rb") as handle:
            return tomllib.load(handle).get("document") == name
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
        return False


def check_case(case: Case, backends=None, profiles: bool = False,
               settings: CheckingSettings = DEFAULT_SETTINGS) -> CaseResult:
    """Cross-check the case at each of its points, then check each claim, under
    ``settings``; with ``profiles`` (a policy of :data:`diffcheck.documents.plotdata.PLOTS`,
    ``True`` for the default), also compute the data the HTML report plots for it."""
    started = time.perf_counter()
    if case.code is not None:
        return check_code_case(case, CaseResult(case), started, settings.allow_imports, settings.tolerances)
    run = CaseRun(case, backends, settings.tolerances)
    result = CaseResult(case)
    # A case with no variable (a `runs` claim, plain arithmetic) has no derivative to cross-check.
    for point in case.points if variables(case.tree) else ():
        try:
            run.check(case.tree, point, case.wrt or variables(case.tree))
        except DiffcheckError as err:
            result.findings.append(Finding(0, "case", "the case's expression", FAILED, str(err),
                                           where=case.where, quote=case.quote))
    for claim in case.claims:
        try:
            result.findings.extend(CHECKERS[claim.kind](run, claim))
        except DiffcheckError as err:
            result.findings.append(run.finding(claim, claim.label, FAILED, str(err)))
    # Outputs of other random draws are read across claims: one cell's outputs together.
    draws.diagnose_draws(run, result.findings)
    result.checks, result.scenarios = run.checks, run.scenarios
    if profiles:
        if wanted(case.id, result, profiles):
            result.profile = profile(case, backends)
    result.seconds = time.perf_counter() - started
    return result


class InProcess:
    """The executor that checks cases one after another in this process.

    An executor has one method, ``run(cases, backends, profiles, settings)``,
    yielding ``(index, CaseResult)`` pairs in any order as cases finish, every
    case checked under ``settings`` (a :class:`CheckingSettings`); the audit puts
    results back in case order, so reports do not depend on the executor.
    """

    def run(self, cases: list[Case], backends, profiles: bool, settings: CheckingSettings = DEFAULT_SETTINGS):
        for index, case in enumerate(cases):
            started = time.perf_counter()
            try:
                yield index, check_case(case, backends, profiles, settings)
            except MemoryError as err:
                reason = f"ran out of memory: {type(err).__name__}: {err}"
                yield index, CaseResult(case, outcome=RESOURCE_LIMIT, reason=reason,
                                        seconds=time.perf_counter() - started)


def run_audit(files: list[CaseFile], backends=None,
              progress: Callable[[Case, CaseResult], None] | None = None,
              profiles: bool = False, executor=None,
              settings: CheckingSettings = DEFAULT_SETTINGS) -> AuditResult:
    """Check every loaded case under ``settings``; ``progress`` is called after
    each.  Interrupted by Ctrl-C, it returns what finished, marked incomplete."""
    audit = AuditResult(files=files, started=time.time())
    clock = time.perf_counter()
    cases = [case for case_file in files for case in case_file.cases]
    finished: dict[int, CaseResult] = {}
    results = (executor or InProcess()).run(cases, backends, profiles, settings)
    try:
        for index, result in results:
            finished[index] = result
            if progress:
                progress(cases[index], result)
    except KeyboardInterrupt:
        audit.complete = False
    finally:
        # An executor stops its workers when closed, not when garbage-collected.
        getattr(results, "close", lambda: None)()
    audit.cases = [finished[index] for index in sorted(finished)]
    audit.seconds = time.perf_counter() - clock
    return audit

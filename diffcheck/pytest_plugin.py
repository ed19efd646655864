"""diffcheck's pytest plugin: checks made in a test run, recorded and reported.

Registered through the ``pytest11`` entry point (``diffcheck``), so pytest loads
it in every project where diffcheck is installed; ``-p diffcheck`` loads it when
plugin autoloading is off.  Loading it must cost nothing: this module imports
only pytest and diffcheck's light modules (no NumPy, SymPy or torch) until a
test makes a check.

What it gives:

* every check made by :func:`diffcheck.assert_gradients_agree` or the
  ``diffcheck_check`` fixture is recorded against the test that made it;
* a ``diffcheck`` terminal summary section: counts by verdict and the failing
  checks;
* ``--diffcheck-report DIR`` (and ``--diffcheck-format``, repeatable): the report
  formats of ``diffcheck audit`` for the whole run, one case per test;
* the ``diffcheck`` marker: ``@pytest.mark.diffcheck(require_differentiable=True,
  outside_domain="fail", backends=[...])`` sets the helper's defaults for one test
  (its explicit arguments still win), and ``-m diffcheck`` selects such tests
  (tests using the fixture are marked automatically);
* the Hypothesis settings profile ``diffcheck`` (``--hypothesis-profile=diffcheck``):
  no per-example deadline.  Hypothesis tests in modules that use diffcheck (or
  marked ``diffcheck``) get no deadline anyway unless they set one: a first check
  imports SymPy and torch and each new expression is compiled once, which is not
  the test being slow.

Under pytest-xdist each worker records its own tests and sends them to the
controller in ``workeroutput`` when it finishes; the controller's summary and
reports cover every test.
"""

from __future__ import annotations

import sys
import time

import pytest

from diffcheck.errors import DiffcheckError
from diffcheck.reports.writer import ReportError, prepare_directory, write_reports
from diffcheck.testing import assertions

RECORDS_KEY = "diffcheck_tests"     # the key in xdist's workeroutput
FORMATS = ("json", "md", "junit", "html")
MARKER_OPTIONS = ("backends", "require_differentiable", "outside_domain")
MAX_LISTED = 10                     # failing checks listed in the terminal summary
HYPOTHESIS_PROFILE = "diffcheck"
DEFAULT_DEADLINE_MS = 200           # Hypothesis's own default


def pytest_addoption(parser):
    group = parser.getgroup("diffcheck", "diffcheck gradient checks")
    group.addoption("--diffcheck-report", metavar="DIR", default=None,
                    help="Write reports of the run's diffcheck checks to DIR (the formats of diffcheck audit).")
    group.addoption("--diffcheck-format", action="append", default=None, metavar="FORMATS",
                    help="Report formats to write, a comma list or repeated (default: all of json, md, "
                         "junit, html).")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line(
        "markers", "diffcheck(backends=None, require_differentiable=False, outside_domain='reject'): "
        "a test of gradients with diffcheck; the options become the defaults of "
        "diffcheck.assert_gradients_agree within the test.")
    # Hypothesis loads the profile named on its command line in its own configure hook.
    if config.getoption("hypothesis_profile", None) == HYPOTHESIS_PROFILE or "hypothesis" in sys.modules:
        register_hypothesis_profile()
    report_formats(config)   # a misspelt format fails the run before the tests, not after
    directory = config.getoption("diffcheck_report")
    if directory and not hasattr(config, "workerinput"):
        try:
            prepare_directory(directory)   # fail before the tests run, not after
        except ReportError as err:
            raise pytest.UsageError(f"--diffcheck-report: {err}") from None
    recorder = Recorder(config)
    config.pluginmanager.register(recorder, "diffcheck-recorder")
    assertions.OBSERVERS.append(recorder.observe)


def report_formats(config) -> tuple[str, ...]:
    """``--diffcheck-format`` values, each a name or a comma list; all formats by default."""
    names = [name.strip() for value in config.getoption("diffcheck_format") or ()
             for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in FORMATS]
    if unknown:
        raise pytest.UsageError(f"--diffcheck-format: unknown format {unknown[0]!r} "
                                f"(choose from {', '.join(FORMATS)})")
    return tuple(dict.fromkeys(names)) or FORMATS


def pytest_unconfigure(config):
    recorder = config.pluginmanager.get_plugin("diffcheck-recorder")
    if recorder is not None:
        if recorder.observe in assertions.OBSERVERS:
            assertions.OBSERVERS.remove(recorder.observe)
        config.pluginmanager.unregister(recorder)


def register_hypothesis_profile() -> None:
    """The ``diffcheck`` profile: Hypothesis's defaults without the per-example deadline."""
    from hypothesis import settings
    settings.register_profile(HYPOTHESIS_PROFILE, deadline=None)


@pytest.fixture(scope="session")
def diffcheck_check():
    """``diffcheck_check(expr, at, wrt=None, backends=None)``: cross-check a gradient
    and record it in the run's reports; returns the check result (or a list of
    them, for a list of points) whatever its verdict.  Session-scoped, so
    Hypothesis tests can use it."""
    return assertions.check_recorded


def pytest_collection_modifyitems(session, config, items):
    relaxed: set[int] = set()
    for item in items:
        marker = item.get_closest_marker("diffcheck")
        if marker is not None:
            _validate_marker(item, marker)
        elif "diffcheck_check" in getattr(item, "fixturenames", ()):
            item.add_marker("diffcheck")
            marker = item.get_closest_marker("diffcheck")
        function = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        if getattr(function, "is_hypothesis_test", False) and id(function) not in relaxed:
            if marker is not None or _uses_diffcheck(getattr(item, "module", None)):
                _without_default_deadline(function)
                relaxed.add(id(function))


def _validate_marker(item, marker) -> None:
    unknown = [name for name in marker.kwargs if name not in MARKER_OPTIONS]
    if marker.args or unknown:
        given = ", ".join([repr(a) for a in marker.args] + unknown)
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.diffcheck takes only the keyword options "
                                f"{', '.join(MARKER_OPTIONS)}; got {given}")
    policy = marker.kwargs.get("outside_domain", "reject")
    if policy not in assertions.OUTSIDE_DOMAIN_POLICIES:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.diffcheck(outside_domain=...) is one of "
                                f"{', '.join(assertions.OUTSIDE_DOMAIN_POLICIES)}; got {policy!r}")


def _uses_diffcheck(module) -> bool:
    """Whether a test module imported anything from diffcheck."""
    if module is None:
        return False
    for value in vars(module).values():
        origin = value.__name__ if isinstance(value, type(sys)) else getattr(value, "__module__", None)
        if isinstance(origin, str) and (origin == "diffcheck" or origin.startswith("diffcheck.")):
            return True
    return False


def _without_default_deadline(function) -> None:
    from hypothesis import settings
    current = getattr(function, "_hypothesis_internal_use_settings", None) or settings.default
    deadline = current.deadline
    if deadline is not None and deadline.total_seconds() * 1000 == DEFAULT_DEADLINE_MS:
        function._hypothesis_internal_use_settings = settings(current, deadline=None)


class Recorder:
    """The checks of this process's tests, and (on the controller) every worker's."""

    def __init__(self, config):
        self.config = config
        self.tests: dict[str, dict] = {}       # test id -> {"file", "name", "checks"}
        self.outcomes: dict[str, list] = {}    # test id -> [outcome, seconds]
        self.current = None
        self.started = time.time()
        self.clock = time.perf_counter()
        self.written: list = []
        self.report_error = ""
        self.worker_of: dict[str, str] = {}     # test id -> the xdist worker that ran it
        self.lost: dict[str, list[str]] = {}    # a worker that died without reporting -> its tests

    # ---- recording -------------------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.current = item
        marker = item.get_closest_marker("diffcheck")
        assertions.DEFAULTS.clear()
        if marker is not None:
            assertions.DEFAULTS.update(marker.kwargs)
        try:
            yield
        finally:
            self.current = None
            assertions.DEFAULTS.clear()

    def observe(self, result, provisional: bool) -> None:
        if provisional:
            return
        from diffcheck.reports.records import check_record  # lazy: records imports NumPy
        item = self.current
        test_id = item.nodeid if item is not None else "(outside any test)"
        if test_id not in self.tests:
            file = item.location[0] if item is not None else ""
            self.tests[test_id] = {"id": test_id, "file": file, "name": item.name if item is not None else "",
                                   "checks": []}
        self.tests[test_id]["checks"].append(check_record(result))

    def pytest_runtest_logreport(self, report):
        outcome, seconds = self.outcomes.setdefault(report.nodeid, ["passed", 0.0])
        if report.failed:
            outcome = "failed"
        elif report.skipped and outcome == "passed":
            outcome = "skipped"
        self.outcomes[report.nodeid] = [outcome, seconds + getattr(report, "duration", 0.0)]
        worker = getattr(getattr(getattr(report, "node", None), "gateway", None), "id", None)
        if worker:
            self.worker_of[report.nodeid] = worker

    # ---- pytest-xdist ------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        output = getattr(node, "workeroutput", {}) or {}
        if RECORDS_KEY not in output:
            # The worker died before handing over its checks (they travel at its
            # session's end): every test it ran lost them.  Said, never hidden.
            worker = getattr(getattr(node, "gateway", None), "id", "a worker")
            self.lost[worker] = sorted(t for t, w in self.worker_of.items() if w == worker)
            return
        for test in output[RECORDS_KEY]:
            self.tests.setdefault(test["id"], {**test, "checks": []})["checks"].extend(test["checks"])

    # ---- the end of the run --------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session, exitstatus):
        if hasattr(self.config, "workerinput"):
            self.config.workeroutput[RECORDS_KEY] = list(self.tests.values())
            return
        directory = self.config.getoption("diffcheck_report")
        if directory:
            try:
                self.written = write_reports(self.record(), directory, report_formats(self.config))
            except DiffcheckError as err:
                self.report_error = str(err)

    def record(self) -> dict:
        """The run as the record every report format renders: one case per test."""
        from diffcheck.reports.records import (
            case_record_of_test,
            report_record,
            run_record,
        )
        cases = []
        for test_id in sorted(self.tests):
            test = self.tests[test_id]
            outcome = self.outcomes.get(test_id, ["passed", 0.0])[0]
            cases.append(case_record_of_test(test_id, test["file"], test["name"], test["checks"], outcome))
        seconds = {test_id: self.outcomes.get(test_id, [None, 0.0])[1] for test_id in sorted(self.tests)}
        run = run_record(self.started, time.perf_counter() - self.clock, seconds)
        record = report_record(cases, [], not self.lost, run, source="pytest")
        if self.lost:
            record["lost"] = [{"worker": worker, "tests": tests} for worker, tests in sorted(self.lost.items())]
        return record

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        if hasattr(config, "workerinput") or not (self.tests or self.written or self.report_error or self.lost):
            return
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "diffcheck")
        for worker, tests in sorted(self.lost.items()):
            shown = ", ".join(tests[:MAX_LISTED]) + (" ..." if len(tests) > MAX_LISTED else "")
            write(f"incomplete: worker {worker} died before reporting its checks; lost with it: "
                  f"{shown or 'the checks of the tests it was running'}", red=True)
        checks = [(test_id, c) for test_id, test in sorted(self.tests.items()) for c in test["checks"]]
        verdicts: dict[str, int] = {}
        for _, check in checks:
            verdicts[check["verdict"]] = verdicts.get(check["verdict"], 0) + 1
        write(f"{len(checks)} gradient check{'s' if len(checks) != 1 else ''} in {len(self.tests)} "
              f"test{'s' if len(self.tests) != 1 else ''}: "
              + ", ".join(f"{count} {verdict}" for verdict, count in sorted(verdicts.items())))
        failing = [(test_id, c) for test_id, c in checks if c["verdict"] in ("discrepancy", "error", "unsupported")]
        for test_id, check in failing[:MAX_LISTED]:
            write(f"{check['verdict']}: {test_id}: {check['expression']}: {check['reason']}")
        if len(failing) > MAX_LISTED:
            write(f"... and {len(failing) - MAX_LISTED} more (see the reports)")
        for path in self.written:
            write(f"wrote {path}")
        if self.report_error:
            write(f"diffcheck: error: {self.report_error}", red=True)

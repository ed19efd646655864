"""The pytest plugin and the assertion helper, as a fresh project uses them.

Each run is a separate ``python -m pytest`` in a temporary project, with plugin
autoloading off so that only the plugin under test (from this checkout, through
PYTHONPATH) is active, however diffcheck is installed.  The runs start together
and share a few seconds of start-up.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
import tomllib
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest

# Slow: whole audits or runs in subprocesses; `-m "not slow"` leaves them out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

# The three lines (and the test they make) that the README shows.
THREE_LINES = '''\
from hypothesis import given
from diffcheck.testing.strategies import problems
from diffcheck import assert_gradients_agree


@given(problems())
def test_gradients_agree(drawn):
    assert_gradients_agree(drawn.expr, drawn.point)
'''

# A wrong engine rule planted for one test: d/dx cos(x) = +sin(x), the sign flipped.
PLANTED = '''\
import dataclasses

import numpy as np
import pytest
from hypothesis import given, strategies as st

from diffcheck import assert_gradients_agree
from diffcheck.language.ops import OPS

WRONG = dataclasses.replace(OPS["cos"], vjp=(lambda g, ans, x: g * np.sin(x),))


def test_planted(monkeypatch):
    monkeypatch.setitem(OPS, "cos", WRONG)
    assert_gradients_agree("cos(x)*y", {"x": 0.5, "y": 2.0})


@given(st.sampled_from([0.25, 0.5, 0.75, 1.0]))
def test_planted_property(x):
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(OPS, "cos", WRONG)
        assert_gradients_agree("cos(x)", {"x": x})
'''

MARKED = '''\
import pytest

from diffcheck import assert_gradients_agree


def test_a_kink_passes():
    assert_gradients_agree("relu(x)", {"x": 0.0})


@pytest.mark.diffcheck(require_differentiable=True)
def test_a_kink_fails_when_marked():
    assert_gradients_agree("relu(x)", {"x": 0.0})


def test_fixture(diffcheck_check):
    assert diffcheck_check("x*y", {"x": 3.0, "y": -4.0}).gradients["symbolic"] == {"x": -4.0, "y": 3.0}
'''

# CI-sized Hypothesis runs, the same examples every time.
CONFTEST = '''\
from hypothesis import settings

settings.register_profile("ci-sized", max_examples=8, derandomize=True)
settings.load_profile("ci-sized")
'''

TESTS = {"test_three.py": THREE_LINES, "test_planted.py": PLANTED, "test_marked.py": MARKED}
EXPECTED_OUTCOMES = {"test_three.py::test_gradients_agree": "passed", "test_planted.py::test_planted": "failed",
                     "test_planted.py::test_planted_property": "failed",
                     "test_marked.py::test_a_kink_passes": "passed",
                     "test_marked.py::test_a_kink_fails_when_marked": "failed",
                     "test_marked.py::test_fixture": "passed"}
HEAVY = ("numpy", "sympy", "mpmath", "torch", "matplotlib")


def environment(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *extra.pop("path", [])]),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **extra}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def start_pytest(project: Path, *args, **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                            cwd=project, env=environment(**env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def make_project(path: Path, files: dict) -> Path:
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def fake_installation(path: Path) -> Path:
    """A directory holding a distribution whose only content is the pytest11 entry
    points that pyproject.toml declares: what an installation of it would register."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    info = path / "diffcheck_entry_points-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: diffcheck-entry-points\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        "[pytest11]\n" + "".join(f"{name} = {target}\n" for name, target in declared.items()))
    return path


LOAD_PROBE = '''\
import sys
import pytest

class Probe:
    def pytest_sessionfinish(self):
        print("HEAVY:", sorted(m for m in {heavy!r} if m in sys.modules))
        print("PLUGIN:", "diffcheck.pytest_plugin" in sys.modules)

sys.exit(pytest.main(["-p", "diffcheck.pytest_plugin", "-p", "no:cacheprovider", "-q", "--co"],
                     plugins=[Probe()]))
'''


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every subprocess this module needs, started at once; their outputs by name."""
    base = tmp_path_factory.mktemp("plugin")
    project = make_project(base / "project", {"conftest.py": CONFTEST, **TESTS})
    parallel = make_project(base / "parallel", {"conftest.py": CONFTEST, **TESTS})
    by_entry_point = make_project(base / "entry", {"test_one.py": textwrap.dedent('''\
        from diffcheck import assert_gradients_agree

        def test_one():
            assert_gradients_agree("x**3", {"x": 2.0})
        ''')})
    empty = make_project(base / "empty", {"test_nothing.py": "def test_nothing():\n    pass\n"})
    processes = {
        "plain": (project, start_pytest(project, "-p", "diffcheck.pytest_plugin", "--diffcheck-report", "out")),
        "xdist": (parallel, start_pytest(parallel, "-p", "diffcheck.pytest_plugin", "-p", "xdist.plugin",
                                         "-n", "2", "--diffcheck-report", "out", "--diffcheck-format", "json")),
        "entry": (by_entry_point, start_pytest(by_entry_point, "-p", "diffcheck", "--diffcheck-report", "out",
                                               "--diffcheck-format", "md",
                                               path=[str(fake_installation(base / "site"))])),
        "load": (empty, subprocess.Popen([sys.executable, "-c", LOAD_PROBE.format(heavy=HEAVY)], cwd=empty,
                                         env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         text=True)),
    }
    outputs = {}
    for name, (directory, process) in processes.items():
        output, _ = process.communicate(timeout=300)
        outputs[name] = (directory, process.returncode, output)
    return outputs


def report(directory: Path) -> dict:
    from diffcheck.reports.jsonreport import schema
    record = json.loads((directory / "out" / "diffcheck-audit.json").read_text())
    jsonschema.validate(record, schema())
    return record


def test_loading_the_plugin_imports_no_numerical_library(runs):
    _, status, output = runs["load"]
    assert status == 0, output
    assert "PLUGIN: True" in output
    assert "HEAVY: []" in output


def test_the_three_line_test_passes_in_a_fresh_project(runs):
    directory, status, output = runs["plain"]
    assert "test_three.py::test_gradients_agree PASSED" in output or re.search(r"test_three\.py \.", output), output
    record = report(directory)
    three = next(c for c in record["cases"] if c["id"] == "test_three.py::test_gradients_agree")
    # Hypothesis drew 8 examples; points outside a domain are rejected, not counted as passes.
    assert len(three["checks"]) >= 8
    assert {c["verdict"] for c in three["checks"]} <= {"agree", "nondifferentiable", "outside_domain"}
    assert len({c["expression"] for c in three["checks"]}) > 1


def test_a_wrong_gradient_fails_with_a_readable_message(runs):
    _, status, output = runs["plain"]
    assert status == 1
    line = next(line for line in output.splitlines()
                if line.startswith("E") and "GradientsDisagree: diffcheck: the gradient of cos(x)*y" in line)
    message = line.split("GradientsDisagree: ", 1)[1]
    assert message.startswith("diffcheck: the gradient of cos(x)*y at x = 0.5, y = 2.0 is wrong in engine: "
                              "its worst entry is d/dx, where engine gives ")
    # d/dx cos(x) y = -y sin(x) = -2 sin(0.5); the planted rule gives its negative.
    given, true = map(float, re.search(r"engine gives (\S+) and symbolic gives (\S+) ", message).groups())
    assert given == pytest.approx(2 * math.sin(0.5), rel=1e-15)
    assert true == pytest.approx(-2 * math.sin(0.5), rel=1e-15)
    assert re.search(r"\(abs error 1\.92, rel error 2, tolerance \d\.\d+e-1[45]\)\.", message)
    assert "numeric and torch agree with symbolic." in message
    assert "a flipped sign" in message
    assert "\n" not in message


def test_the_marker_and_the_fixture(runs):
    directory, _, output = runs["plain"]
    assert ("diffcheck: the gradient of relu(x) at x = 0.0 does not exist (require_differentiable=True): "
            "relu at column 1 is at its kink") in output
    cases = {c["id"]: c for c in report(directory)["cases"]}
    assert [c["verdict"] for c in cases["test_marked.py::test_a_kink_passes"]["checks"]] == ["nondifferentiable"]
    fixture = cases["test_marked.py::test_fixture"]["checks"]
    assert [(c["expression"], c["verdict"]) for c in fixture] == [("x*y", "agree")]


def test_the_report_covers_the_run_in_every_format(runs):
    directory, _, output = runs["plain"]
    record = report(directory)
    assert record["source"] == "pytest"
    assert {c["id"]: c["outcome"] for c in record["cases"]} == EXPECTED_OUTCOMES
    planted = next(c for c in record["cases"] if c["id"] == "test_planted.py::test_planted")
    (check,) = planted["checks"]
    assert check["verdict"] == "discrepancy"
    assert [(d["backend"], d["variable"]) for d in check["discrepancies"]] == [("engine", "x")]
    # Hypothesis met many failing examples while it shrank; only the one it reports is recorded.
    prop = next(c for c in record["cases"] if c["id"] == "test_planted.py::test_planted_property")
    assert [c["verdict"] for c in prop["checks"]].count("discrepancy") == 1
    assert record["summary"]["cross_checks"]["discrepancy"] == 2
    assert record["summary"]["problems"] == 2
    markdown = (directory / "out" / "diffcheck-audit.md").read_text()
    assert markdown.startswith("# diffcheck checks in a pytest run\n")
    assert "test\\_planted.py::test\\_planted" in markdown   # underscores escaped: Markdown shows them as written
    junit = ET.parse(directory / "out" / "diffcheck-audit-junit.xml").getroot()
    assert int(sum(int(s.get("failures")) for s in junit)) == 2
    assert "test_planted.py::test_planted" in (directory / "out" / "diffcheck-audit.html").read_text()
    # The terminal summary: counts, the failing check, the files written.
    section = output.split("= diffcheck =", 1)[1]
    total = sum(len(c["checks"]) for c in record["cases"])
    assert f"{total} gradient checks in 6 tests: " in section
    assert "discrepancy: test_planted.py::test_planted: cos(x)*y: engine d/dx" in section
    assert "wrote out/diffcheck-audit.json" in section


def test_under_xdist_the_workers_checks_reach_the_report(runs):
    directory, status, output = runs["xdist"]
    assert "created: 2/2 workers" in output, output
    assert status == 1
    record = report(directory)
    # The controller runs no test itself: every record came from a worker.
    assert {c["id"]: c["outcome"] for c in record["cases"]} == EXPECTED_OUTCOMES
    plain = {c["id"]: [k["verdict"] for k in c["checks"]] for c in report(runs["plain"][0])["cases"]}
    for case in record["cases"]:
        assert [k["verdict"] for k in case["checks"]] == plain[case["id"]]
    assert output.count("= diffcheck =") == 1
    assert "discrepancy: test_planted.py::test_planted" in output
    assert sorted(p.name for p in (directory / "out").iterdir()) == ["diffcheck-audit.json"]


def test_the_entry_point_loads_the_plugin_as_diffcheck(runs):
    directory, status, output = runs["entry"]
    assert status == 0, output
    assert "1 gradient check in 1 test: 1 agree" in output
    assert (directory / "out" / "diffcheck-audit.md").exists()


def test_the_installed_distribution_declares_the_entry_point():
    declared = [ep for ep in metadata.entry_points(group="pytest11") if ep.name == "diffcheck"]
    if not declared:
        pytest.skip("diffcheck is not installed with this checkout's entry points (reinstall to check)")
    assert [ep.value for ep in declared] == ["diffcheck.pytest_plugin"]


def test_an_unknown_marker_option_is_refused_by_name():
    from diffcheck.pytest_plugin import _validate_marker

    item = SimpleNamespace(nodeid="test_x.py::test_y")
    marker = SimpleNamespace(name="diffcheck", args=(), kwargs={"tolerance": 1})
    with pytest.raises(pytest.UsageError, match=r"^test_x\.py::test_y: @pytest\.mark\.diffcheck takes only the "
                       r"keyword options backends, require_differentiable, outside_domain; got tolerance$"):
        _validate_marker(item, marker)


# ---- the helper's policies, in this process -------------------------------------------------

def test_outside_the_domain_passes_by_default_and_fails_on_request():
    from diffcheck import GradientsDisagree, assert_gradients_agree
    # d/dx log(x) needs x > 0.
    assert assert_gradients_agree("log(x)", {"x": 0.0}).verdict == "outside_domain"
    with pytest.raises(GradientsDisagree) as raised:
        assert_gradients_agree("log(x)", [{"x": 1.0}, {"x": 0.0}, {"x": -1.0}], outside_domain="fail")
    assert str(raised.value) == (
        "diffcheck: the gradient of log(x) at x = 0.0 (point 2 of 3) is outside the domain "
        "(outside_domain='fail'): log at column 1: argument 1 is outside the domain of the derivative (x > 0). "
        "1 other point of 3 fails too.")
    assert [r.verdict for r in raised.value.results] == ["agree", "outside_domain", "outside_domain"]


def test_a_hypothesis_example_outside_the_domain_is_rejected_not_passed():
    from hypothesis import given, settings, strategies as st
    from hypothesis.errors import Unsatisfiable

    from diffcheck import assert_gradients_agree
    returned = []

    @settings(max_examples=3, database=None, deadline=None)
    @given(st.just(0.0))
    def every_example_outside(x):
        returned.append(assert_gradients_agree("log(x)", {"x": x}))

    with pytest.raises(Unsatisfiable):
        every_example_outside()
    assert returned == []


def test_fewer_than_two_methods_fail_the_assertion():
    from diffcheck import GradientsDisagree, assert_gradients_agree
    with pytest.raises(GradientsDisagree, match=r"^diffcheck: the gradient of x\*y at x = 1\.0, y = 2\.0 could not "
                       r"be checked \(unsupported\): fewer than two methods could differentiate this: "
                       r"only engine was asked"):
        assert_gradients_agree("x*y", {"x": 1.0, "y": 2.0}, backends=["engine"])

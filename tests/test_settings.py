"""Settings are values passed down, not process state: two audits (or checks) in
one process, with different tolerances or import permissions, never see each
other's."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from diffcheck.checking.config import load_settings, tolerances_of
from diffcheck.checking.harness import AGREE, DISCREPANCY, check_expr
from diffcheck.checking.tolerances import DEFAULT_TOLERANCES, Tolerances
from diffcheck.documents.audit import CheckingSettings, InProcess, load_all

# A point where the methods differ from the 50-digit reference by rounding and
# truncation only: numeric's Richardson table is off by about 1e-14 (it cannot be
# exact: its error estimate is not zero), engine and torch by a unit in the last
# place of 2.7.  With every multiplier a million times (floor) to a trillion times
# (estimates, rounding) smaller than the defaults, the tolerance falls to about
# 1e-22, below any of those errors: a discrepancy.  With the defaults, the floor
# alone is 16 * 2.2e-16 * 1.5 = 5e-15 per unit of the gradient and the numeric
# estimate's error bar covers its 1e-14: agreement.
EXPRESSION, POINT = "exp(x) * sin(y)", {"x": 0.3, "y": 1.1}
STRICT = Tolerances(rounding_safety=1e-12, estimate_safety=1e-12, floor_ulps=1e-6)

CASES = '''
format = 1
document = "doc.txt"
''' + "".join(f'''
[[case]]
name = "product-{n}"
where = "Sec {n}"
expression = "{EXPRESSION}"
variables = {{ x = 0.3, y = 1.1 }}
''' for n in range(3))


def test_the_expression_is_judged_by_the_tolerances_it_is_given():
    assert check_expr(EXPRESSION, POINT, tolerances=STRICT).verdict == DISCREPANCY
    assert check_expr(EXPRESSION, POINT).verdict == AGREE
    assert check_expr(EXPRESSION, POINT, tolerances=DEFAULT_TOLERANCES).verdict == AGREE


def test_two_audits_interleaved_in_one_process_keep_their_own_tolerances(tmp_path):
    (tmp_path / "doc.toml").write_text(CASES)
    cases = [case for case_file in load_all([tmp_path]) for case in case_file.cases]
    assert len(cases) == 3
    strict = InProcess().run(cases, None, False, CheckingSettings(STRICT))
    default = InProcess().run(cases, None, False, CheckingSettings())
    verdicts = {"strict": [], "default": []}
    # Case by case in turn: a setting applied to the process by one audit would
    # be what the other audit's next case sees.
    for (_, from_strict), (_, from_default) in zip(strict, default):
        verdicts["strict"] += [c.verdict for c in from_strict.checks]
        verdicts["default"] += [c.verdict for c in from_default.checks]
    assert verdicts == {"strict": [DISCREPANCY] * 3, "default": [AGREE] * 3}


def test_checks_in_two_threads_keep_their_own_tolerances():
    seen: dict[str, set] = {"strict": set(), "default": set()}
    start = threading.Barrier(2)

    def run(name, tolerances):
        start.wait()
        for _ in range(6):
            seen[name].add(check_expr(EXPRESSION, POINT, tolerances=tolerances).verdict)

    threads = [threading.Thread(target=run, args=("strict", STRICT)),
               threading.Thread(target=run, args=("default", DEFAULT_TOLERANCES))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"strict": {DISCREPANCY}, "default": {AGREE}}


def test_pyproject_tolerances_make_a_value_and_change_nothing_else(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.diffcheck.tolerance]\nfloor_ulps = 64.0\n")
    tolerances = tolerances_of(load_settings(tmp_path))
    assert tolerances == Tolerances(rounding_safety=32.0, estimate_safety=2.0, floor_ulps=64.0)
    assert DEFAULT_TOLERANCES == Tolerances(32.0, 2.0, 16.0)


def test_user_code_checks_use_the_same_tolerances():
    torch = pytest.importorskip("torch")
    import diffcheck

    x = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    eps = float(np.finfo(np.float64).eps)
    # The relative floor of a float64 function: floor_ulps units of float64's
    # epsilon, plus the numeric reference's own 1e-9 (NUMERIC_RTOL).
    default = diffcheck.check(lambda v: torch.sin(v).sum(), x)
    wider = diffcheck.check(lambda v: torch.sin(v).sum(), x, tolerances=Tolerances(floor_ulps=1e6))
    assert default.rtol == pytest.approx(16 * eps + 1e-9, rel=1e-12)
    assert wider.rtol == pytest.approx(1e6 * eps + 1e-9, rel=1e-12)
    assert default.verdict == wider.verdict == AGREE
    # The harness's estimate and rounding multipliers apply too: with them near
    # zero and a floor of 1e-6 ulps, numeric's truncation error is a discrepancy.
    strict = diffcheck.check(lambda v: torch.sin(v).sum(), x, rtol=0.0, tolerances=STRICT)
    assert strict.verdict == DISCREPANCY
    assert strict.worst.reference_backend == strict.worst.reference_method == "numeric"

"""Hostile and odd inputs, second round: each a located one-line error or a
clean result, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from diffcheck.checking.harness import check_expr
from diffcheck.errors import ExpressionError


def diffcheck_cli(*args):
    return subprocess.run([sys.executable, "-m", "diffcheck", *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize("axis", ["1e30", "-1e30", "3", "400"])
def test_an_axis_no_variable_has_is_refused_at_its_column(axis):
    with pytest.raises(ExpressionError, match=r"column 13: sum\(\): axis .* does not exist"):
        check_expr(f"sum(x, axis={axis})", {"x": [1.0, 2.0]})


def test_a_huge_axis_on_the_command_line_is_one_line_and_exit_2():
    done = diffcheck_cli("check", "sum(x, axis=1e30)", "--at", "x=[1,2]")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "axis 1e+30 does not exist" in done.stderr


def test_an_expression_without_variables_is_checked_by_every_method():
    # 0.5 * 3 = 1.5, by every method; nothing to differentiate.
    result = check_expr("0.5 * 3", {})
    assert result.verdict == "agree", result.reason
    assert {name: r.value for name, r in result.results.items()} == {
        "symbolic": 1.5, "numeric": 1.5, "engine": 1.5, "torch": 1.5}


def test_an_expression_without_variables_on_the_command_line():
    done = diffcheck_cli("check", "0.5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr

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


def test_escape_sequences_from_a_case_file_never_reach_the_terminal_raw(tmp_path):
    case_file = tmp_path / "evil.toml"
    case_file.write_text('format = 1\ndocument = "evil\\u001b[2J.txt"\n\n[[case]]\nname = "c"\n'
                         'where = "here\\u001b]0;owned\\u0007"\nquote = "q\\u001b[31m"\nexpression = "x**2"\n'
                         'variables = { x = 3.0 }\n\n[[case.claim]]\nkind = "gradient"\nwrt = "x"\n'
                         'claimed = "7"\n')
    done = diffcheck_cli("audit", str(case_file), "--no-reports")
    assert done.returncode == 1
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout + done.stderr
    assert "\\x1b" in done.stdout   # shown, not swallowed


@pytest.mark.parametrize("value,verdict", [("nan", "outside_domain"), ("-inf", "outside_domain"),
                                           ("1e200", "agree")])
def test_at_accepts_what_the_api_and_case_files_accept(value, verdict):
    # d/dx (3*x) = 3 at any finite x; a non-finite x has no gradient.
    done = diffcheck_cli("check", "3*x", "--at", f"x={value}", "--format", "json")
    assert "Traceback" not in done.stderr
    assert f'"verdict": "{verdict}"' in done.stdout, done.stdout + done.stderr


def test_a_literal_in_an_expression_is_still_bounded():
    with pytest.raises(ExpressionError, match="number is larger than 1e\\+100"):
        check_expr("x + 1e200", {"x": 1.0})


def test_markdown_from_a_case_file_is_shown_literally_in_the_markdown_report(tmp_path):
    case_file = tmp_path / "md.toml"
    case_file.write_text('format = 1\ndocument = "**ALL CLAIMS VERIFIED**"\n\n[[case]]\nname = "c"\n'
                         'where = "![pwned](http://example.invalid/x.png)"\nexpression = "x**2"\n'
                         'variables = { x = 3.0 }\n\n[[case.claim]]\nkind = "gradient"\nwrt = "x"\n'
                         'claimed = "7"\n')
    done = diffcheck_cli("audit", str(case_file), "--format", "md", "--report-dir", str(tmp_path / "out"), "-q")
    assert done.returncode == 1
    report = (tmp_path / "out" / "diffcheck-audit.md").read_text()
    assert "**ALL CLAIMS VERIFIED**" not in report and "![pwned]" not in report
    assert "\\*\\*ALL CLAIMS VERIFIED\\*\\*" in report and "\\!\\[pwned\\]" in report


def test_a_killed_xdist_worker_makes_the_report_incomplete_and_names_its_tests(tmp_path):
    (tmp_path / "test_die.py").write_text(
        "import os\nfrom diffcheck import assert_gradients_agree\n\n"
        "def test_checks_then_dies():\n    assert_gradients_agree('x**2', {'x': 3.0})\n    os._exit(3)\n\n"
        "def test_fine():\n    assert_gradients_agree('sin(x)', {'x': 1.0})\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q",
                           "--diffcheck-report", "out", "--diffcheck-format", "json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert "died before reporting its checks" in done.stdout, done.stdout[-2000:]
    import json
    record = json.loads((tmp_path / "out" / "diffcheck-audit.json").read_text())
    assert record["complete"] is False
    assert [t for lost in record["lost"] for t in lost["tests"]] == ["test_die.py::test_checks_then_dies"]


@pytest.mark.parametrize("expression,at", [("tan(arccos(z))", {"z": 0.0}),   # tan at pi/2: a pole
                                           ("cos(x)", {"x": 2.0 ** 1023})])   # the numeric step overflows
def test_extreme_points_are_no_false_discrepancy(expression, at):
    result = check_expr(expression, at)
    assert result.verdict in ("inconclusive", "outside_domain"), result.reason
    assert not result.discrepancies


def test_definitions_that_double_at_each_level_are_refused_before_anything_is_built(tmp_path):
    # a1 = x*x has 3 nodes; a_k = sin(a_{k-1}) + cos(a_{k-1}) has 2 * size(a_{k-1}) + 3,
    # so size(a_k) = 6 * 2**(k-1) - 3: a15 = 98,301 is within the 100,000 budget,
    # a16 = 196,605 is the first definition over it.
    lines = ['format = 1', 'document = "d.txt"', '', '[[case]]', 'name = "boom"', 'where = "x"',
             'expression = "a40"', 'variables = { x = 0.5 }', '', '[case.define]', 'a1 = "x*x"']
    lines += [f'a{i} = "sin(a{i - 1}) + cos(a{i - 1})"' for i in range(2, 41)]
    (tmp_path / "boom.toml").write_text("\n".join(lines) + "\n")
    done = subprocess.run([sys.executable, "-m", "diffcheck", "audit", str(tmp_path / "boom.toml"),
                           "--no-reports", "-q"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "field define.a16" in done.stderr and "at most 100,000" in done.stderr

"""The command line: output, JSON, exit statuses, and one-line errors."""

import json

import pytest
from click.testing import CliRunner

from diffcheck.cli import main


@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def test_agreeing_check_exits_zero_and_shows_every_method(run):
    result = run("check", "3*x**2 - 2*x + 5", "--at", "x=3")
    assert result.exit_code == 0
    for name in ("symbolic", "numeric", "engine", "torch", "verdict: agree", "6*x - 2"):
        assert name in result.output


def test_json_output_is_strict_json(run):
    result = run("check", "max(x, y)", "--at", "x=3", "--at", "y=3", "--format", "json")
    assert result.exit_code == 0
    record = json.loads(result.output)
    assert record["verdict"] == "nondifferentiable"
    assert record["backends"]["engine"]["gradient"] == {"x": 0.5, "y": 0.5}


def test_vector_values_and_wrt(run):
    result = run("check", "sum(W * v)", "--at", "W=[1, 2]", "--at", "v=[3, 4]", "--wrt", "W",
                 "--format", "json")
    record = json.loads(result.output)
    assert record["wrt"] == ["W"]
    assert record["backends"]["torch"]["gradient"]["W"] == [3.0, 4.0]


def test_bad_expression_is_one_line_and_exit_two(run):
    result = run("check", "__import__('os').system('echo hi')", "--at", "x=1")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "diffcheck: error: expression, column 1: attribute access is not allowed"]


def test_bad_value_is_exit_two(run):
    result = run("check", "x", "--at", "x=open('f')")
    assert result.exit_code == 2
    assert "--at x" in result.output and "Traceback" not in result.output


def test_usage_error_is_exit_two(run):
    assert run("check", "x", "--at", "x").exit_code == 2


def test_discrepancy_exits_one(run, monkeypatch):
    import dataclasses

    import numpy as np

    from diffcheck.language.ops import OPS
    monkeypatch.setitem(OPS, "cos", dataclasses.replace(OPS["cos"], vjp=(lambda g, ans, x: g * np.sin(x),)))
    result = run("check", "cos(x)", "--at", "x=0.5")
    assert result.exit_code == 1
    assert "verdict: discrepancy" in result.output and "engine" in result.output

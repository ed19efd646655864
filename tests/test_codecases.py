"""Case files naming Python code: refused without --allow-import, nothing imported."""

import json

import pytest
from click.testing import CliRunner

from diffcheck.cli import main

MODULE = '''
import pathlib
pathlib.Path(__file__).with_name("IMPORTED").write_text("imported")
import torch


def f(x, y):
    return (x * y).sin().sum()
'''

CASES = '''document = "test"
[[case]]
name = "code"
where = "a test"
callable = "sentinel_module:f"
variables = { x = [1.0, 2.0], y = [0.5, 0.25] }
'''


@pytest.fixture
def case_dir(tmp_path):
    (tmp_path / "sentinel_module.py").write_text(MODULE)
    (tmp_path / "c.toml").write_text(CASES)
    yield tmp_path


def _findings(directory):
    report = json.loads((directory / "r" / "diffcheck-audit.json").read_text())
    return [f for case in report["cases"] for f in case["findings"]]


def test_without_allow_import_the_case_is_refused_and_nothing_imported(case_dir):
    result = CliRunner().invoke(main, ["audit", str(case_dir / "c.toml"), "-q", "--report-dir",
                                       str(case_dir / "r"), "--format", "json"])
    assert result.exit_code == 1
    assert not (case_dir / "IMPORTED").exists()
    [finding] = _findings(case_dir)
    assert finding["status"] == "error"
    assert finding["message"].startswith("refused: ")
    assert "names Python code (sentinel_module:f)" in finding["message"]
    assert "only with --allow-import" in finding["message"]


def test_with_allow_import_the_callable_is_checked(case_dir):
    result = CliRunner().invoke(main, ["audit", str(case_dir / "c.toml"), "-q", "--allow-import",
                                       "--report-dir", str(case_dir / "r"), "--format", "json"])
    assert (case_dir / "IMPORTED").exists()
    [finding] = _findings(case_dir)
    assert finding["status"] == "confirmed", finding["message"]
    assert result.exit_code == 0


def test_a_case_with_both_expression_and_callable_is_rejected(tmp_path):
    from diffcheck.documents.catalogue import load
    (tmp_path / "c.toml").write_text(CASES.replace('callable =', 'expression = "x*y"\ncallable ='))
    loaded = load(tmp_path / "c.toml")
    assert not loaded.cases and "case 'code'" in str(loaded.errors[0])

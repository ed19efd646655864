"""``diffcheck fuzz``: a planted fault is found, shrunk, saved as a case file, and
``diffcheck audit`` reproduces it from that file; without the fault the same file
agrees."""

from __future__ import annotations

import dataclasses
import json
import tomllib

import pytest
from click.testing import CliRunner

from diffcheck.documents.catalogue import load
from diffcheck.cli import main
from diffcheck.language.expr import size
from diffcheck.language.ops import OPS
from diffcheck.language.parser import parse

# d/dx tanh(x) = 1 - tanh(x)**2; the planted rule says 1 - tanh(x), which is
# right only where tanh(x) is 0 or 1.
WRONG_TANH = dataclasses.replace(OPS["tanh"], vjp=(lambda g, ans, x: g * (1.0 - ans),))
FUZZ = ["fuzz", "--examples", "40", "--seed", "7", "--ops", "tanh,add,mul,sin", "--scalars"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def planted(monkeypatch):
    monkeypatch.setitem(OPS, "tanh", WRONG_TANH)
    return monkeypatch


@pytest.mark.slow
def test_a_planted_fault_is_found_shrunk_saved_and_reproduced_by_audit(planted, tmp_path):
    found = run(*FUZZ, "--report-dir", tmp_path / "found")
    assert found.exit_code == 1, found.output
    (case_file,) = (tmp_path / "found").glob("*.toml")
    case = tomllib.loads(case_file.read_text("utf-8"))["case"][0]
    # Shrunk to tanh of one variable, or within one op of it.
    tree = parse(case["expression"], list(case["variables"]))
    assert case["expression"].startswith("tanh(") and size(tree) <= 3, case["expression"]
    assert "discrepancy (engine)" in case["where"]
    assert case["where"].startswith(" ".join(["diffcheck", *FUZZ]) + ",")
    loaded = load(case_file)
    assert loaded.errors == [] and [c.name for c in loaded.cases] == ["fuzz-seed7-1"]

    # The saved file, audited with the fault still in place: the engine disagrees.
    audited = run("audit", case_file, "--report-dir", tmp_path / "faulty", "--format", "json", "-q")
    assert audited.exit_code == 1, audited.output
    report = json.loads((tmp_path / "faulty" / "diffcheck-audit.json").read_text("utf-8"))
    (check,) = report["cases"][0]["checks"]
    assert check["verdict"] == "discrepancy"
    assert {d["backend"] for d in check["discrepancies"]} == {"engine"}

    # Without the fault, the same file agrees: the failure was the fault's.
    planted.undo()
    clean = run("audit", case_file, "--report-dir", tmp_path / "clean", "--format", "json", "-q")
    assert clean.exit_code == 0, clean.output


@pytest.mark.slow
def test_the_same_seed_finds_the_same_failure(planted, tmp_path):
    first = run(*FUZZ, "--report-dir", tmp_path / "a", "-q")
    second = run(*FUZZ, "--report-dir", tmp_path / "b", "-q")
    assert first.exit_code == second.exit_code == 1
    (a,), (b,) = (tmp_path / "a").glob("*.toml"), (tmp_path / "b").glob("*.toml")
    assert a.read_text("utf-8") == b.read_text("utf-8")


def test_a_clean_run_exits_0_and_writes_no_case_file(tmp_path):
    result = run("fuzz", "--examples", "25", "--seed", "3", "--report-dir", tmp_path, "--max-leaves", "4")
    assert result.exit_code == 0, result.output
    assert "25 examples, seed 3" in result.output and "no failures" in result.output
    assert list(tmp_path.glob("*.toml")) == []


@pytest.mark.parametrize("args,message", [
    (["--ops", "tanh,nope"], "unknown op 'nope'"),
    (["--backend", "maple"], "unknown backend 'maple'"),
    (["--examples", "0"], "0 is not in the range x>=1"),
])
def test_bad_usage_exits_2_with_a_message(args, message, tmp_path):
    result = CliRunner().invoke(main, ["fuzz", "--report-dir", str(tmp_path), *args])
    assert result.exit_code == 2
    assert message in result.output

"""What a new user meets first: the install gives every command the README shows,
the command line follows the conventions of CI tools (comma lists, NO_COLOR,
--color), a run that could compare nothing says so and exits 2, and reports go
somewhere the user is told about."""

import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from diffcheck.checking import harness
from diffcheck.cli import main
from diffcheck.testing.fuzz import FuzzResult

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--backend", "engine", "--backend", "numeric"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def coloured(text: str) -> bool:
    """Whether ``text`` sets a colour (SGR 30-38, 40-48, 90-97, 100-107); NO_COLOR
    forbids colour, not bold or italics."""
    for match in re.finditer(r"\x1b\[([0-9;]*)m", text):
        for code in filter(None, match.group(1).split(";")):
            if 30 <= int(code) <= 48 and int(code) not in (39, 49) or 90 <= int(code) <= 107:
                return True
    return False

# d/dx x**2 at 3 is 2*3 = 6: the claim is right.
RIGHT = '''
format = 1
document = "right.txt"

[[case]]
name = "square"
where = "Sec 1"
expression = "x**2"
variables = { x = 3.0 }

[[case.claim]]
kind = "gradient"
wrt = "x"
claimed = "6"
'''


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A project without [tool.diffcheck] settings, holding one right case file."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "scratch"\n')
    (tmp_path / "right.toml").write_text(RIGHT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


# --- the install -----------------------------------------------------------------------------

def test_hypothesis_is_a_dependency_not_only_a_test_extra():
    # diffcheck fuzz and diffcheck.strategies import Hypothesis: the README's plain
    # install (no extra) must bring it.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert any(d.startswith("hypothesis") for d in project["dependencies"])


# --- --format, colour ----------------------------------------------------------------------

def test_format_takes_a_comma_list_like_the_repeated_option(work):
    comma = invoke("audit", "right.toml", *FAST, "--format", "json,md", "--report-dir", "a")
    repeated = invoke("audit", "right.toml", *FAST, "--format", "json", "--format", "md", "--report-dir", "b")
    assert comma.exit_code == repeated.exit_code == 0, comma.output
    assert sorted(p.name for p in (work / "a").iterdir()) == ["diffcheck-audit.json", "diffcheck-audit.md"]
    assert sorted(p.name for p in (work / "b").iterdir()) == sorted(p.name for p in (work / "a").iterdir())


def test_an_unknown_format_in_a_comma_list_is_a_usage_error_naming_it(work):
    result = invoke("audit", "right.toml", *FAST, "--format", "json,pdf")
    assert result.exit_code == 2
    assert "'pdf'" in result.output and "json, md, junit, html" in result.output
    assert not (work / "diffcheck-reports").exists()


@pytest.mark.parametrize("args,env,in_colour", [
    (["--color", "always"], {}, True),
    (["--color", "never"], {}, False),
    (["--color", "always"], {"NO_COLOR": "1"}, True),   # the explicit option wins
])
def test_color_option_and_no_color(work, args, env, in_colour):
    result = invoke("audit", "right.toml", *FAST, "--no-reports", *args, env=env)
    assert result.exit_code == 0, result.output
    assert coloured(result.output) is in_colour
    if args == ["--color", "never"]:
        assert not ANSI.search(result.output)   # no styles at all


def test_no_color_turns_colour_off_even_on_a_forced_terminal(work, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    with_colour = invoke("audit", "right.toml", *FAST, "--no-reports")
    monkeypatch.setenv("NO_COLOR", "1")
    plain = invoke("audit", "right.toml", *FAST, "--no-reports")
    assert coloured(with_colour.output) and not coloured(plain.output)


def test_color_is_also_an_option_of_the_group(work):
    result = invoke("--color", "always", "audit", "right.toml", *FAST, "--no-reports")
    assert coloured(result.output)


# --- runs that compared nothing ----------------------------------------------------------

def test_an_audit_with_one_method_says_it_compared_nothing_and_exits_2(work):
    result = invoke("audit", "right.toml", "--backend", "engine", "--format", "json")
    assert result.exit_code == 2
    assert "nothing was cross-checked (only engine was asked)" in result.stderr
    # The reports still show what was done.
    assert (work / "diffcheck-reports" / "diffcheck-audit.json").is_file()


def test_fuzz_with_one_method_is_refused_before_any_work(tmp_path):
    result = invoke("fuzz", "--backend", "engine", "--examples", "5", "--report-dir", tmp_path / "out")
    assert result.exit_code == 2
    assert "only engine was given" in result.output
    assert not (tmp_path / "out").exists()


def test_a_fuzz_run_where_every_example_was_unsupported_exits_2():
    # 50 examples, none of which two methods could differentiate: no failure
    # could have been found, so "no failures" with exit 0 would be a false clean.
    nothing = FuzzResult(50, 0, None, counts=Counter({"unsupported": 50}))
    assert nothing.compared == 0 and nothing.exit_status == 2
    some = FuzzResult(50, 0, None, counts=Counter({"unsupported": 49, "agree": 1}))
    assert some.compared == 1 and some.exit_status == 0


def test_a_clean_fuzz_run_creates_no_report_folder(tmp_path):
    result = invoke("fuzz", "--examples", "5", "--seed", "3", "--max-leaves", "3", "--scalars",
                    "--report-dir", tmp_path / "new")
    assert result.exit_code == 0, result.output
    assert "no failures in 5 cross-checked examples" in result.output
    assert not (tmp_path / "new").exists()


# --- where reports go -----------------------------------------------------------------------

def test_without_settings_reports_go_to_a_default_folder_and_the_run_says_where(work):
    result = invoke("audit", "right.toml", *FAST, "--format", "json,md")
    assert result.exit_code == 0, result.output
    assert "reports written to diffcheck-reports/: diffcheck-audit.json, diffcheck-audit.md" in result.stderr
    assert sorted(p.name for p in (work / "diffcheck-reports").iterdir()) == [
        "diffcheck-audit.json", "diffcheck-audit.md"]


def test_no_reports_writes_nothing_and_says_so(work):
    result = invoke("audit", "right.toml", *FAST, "--no-reports")
    assert result.exit_code == 0, result.output
    assert "no report written" in result.stderr
    assert sorted(p.name for p in work.iterdir()) == ["pyproject.toml", "right.toml"]


# --- CI conventions: a pre-commit hook and a GitHub Action ----------------------------------

def test_the_pre_commit_hook_audits_the_changed_case_files_without_writing_reports():
    yaml = pytest.importorskip("yaml")
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert hook["id"] == "diffcheck-audit" and hook["language"] == "python"
    assert hook["entry"].split() == ["diffcheck", "audit", "--no-reports"]
    assert hook["pass_filenames"] is True
    assert re.search(hook["files"], "cases/001.toml") and not re.search(hook["files"], "pyproject.toml")


def test_the_action_puts_the_markdown_report_in_the_job_summary():
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
    assert action["runs"]["using"] == "composite"
    script = "\n".join(step.get("run", "") for step in action["runs"]["steps"])
    assert "diffcheck audit" in script and '--format "md,' in script
    assert 'diffcheck-audit.md" >> "$GITHUB_STEP_SUMMARY"' in script

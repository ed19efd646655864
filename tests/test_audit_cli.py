"""``diffcheck audit``: exit statuses (0 all good, 1 wrong claims or methods
disagreeing, 2 bad input or usage), reports, and ``[tool.diffcheck]`` settings
that the command line overrides."""

import json

import pytest
from click.testing import CliRunner

import diffcheck.documents.audit
from diffcheck.cli import main

FAST = ["--backend", "engine", "--backend", "numeric"]
JSON, MD, JUNIT = "diffcheck-audit.json", "diffcheck-audit.md", "diffcheck-audit-junit.xml"

# d/dx x**2 at 3 is 6 and x**2 at 3 is 9: both claims are right.
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

[[case.claim]]
kind = "value"
claimed = "9"
'''

# d/dy (2*y + 1) is 2, not 3.
WRONG = '''
format = 1
document = "wrong.txt"

[[case]]
name = "line"
where = "Sec 7"
expression = "2*y + 1"
variables = { y = 4.0 }

[[case.claim]]
kind = "gradient"
wrt = "y"
claimed = "3"
'''

BROKEN = 'format = 1\ndocument = "broken.txt"\n\n[[case]]\nname = "a"\nwhere = \n'


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A working directory of its own, with a pyproject.toml without [tool.diffcheck],
    so no settings leak in from the directories above."""
    directory = tmp_path / "work"
    directory.mkdir()
    (directory / "pyproject.toml").write_text('[project]\nname = "scratch"\n')
    (directory / "right.toml").write_text(RIGHT)
    (directory / "wrong.toml").write_text(WRONG)
    (directory / "broken.toml").write_text(BROKEN)
    monkeypatch.chdir(directory)
    return directory


def audit(*args, catch_exceptions=False):
    return CliRunner().invoke(main, ["audit", *args], catch_exceptions=catch_exceptions)


def report(directory):
    return json.loads((directory / JSON).read_text(encoding="utf-8"))


# --- exit statuses -----------------------------------------------------------------------------


def test_all_claims_right_exits_zero(work):
    result = audit("right.toml", *FAST)
    assert result.exit_code == 0, result.output
    assert "right.txt" in result.stdout


def test_a_wrong_claim_exits_one(work):
    result = audit("wrong.toml", *FAST)
    assert result.exit_code == 1, result.output
    assert "wrong.txt" in result.stdout


def test_exit_zero_turns_a_wrong_claim_into_success(work):
    result = audit("wrong.toml", *FAST, "--exit-zero")
    assert result.exit_code == 0, result.output


def test_exit_zero_does_not_hide_bad_input(work):
    result = audit("broken.toml", "right.toml", *FAST, "--exit-zero")
    assert result.exit_code == 2


def test_quiet_prints_nothing_and_keeps_the_exit_status(work):
    result = audit("wrong.toml", *FAST, "--quiet")
    assert result.exit_code == 1
    assert result.stdout == ""


def test_a_bad_file_beside_a_good_one_exits_two_and_the_good_one_is_audited(work):
    result = audit("broken.toml", "wrong.toml", *FAST, "--report-dir", "out", "--format", "json")
    assert result.exit_code == 2
    assert "broken.toml" in result.stderr and "line 6" in result.stderr
    assert "Traceback" not in result.output
    assert "wrong.txt" in result.stdout                  # the summary shows the good file's document
    record = report(work / "out")
    assert [case["id"] for case in record["cases"]] == ["wrong::line"]
    assert [f["status"] for f in record["cases"][0]["findings"]] == ["refuted"]
    assert len(record["load_errors"]) == 1 and "broken.toml" in record["load_errors"][0]


def test_a_path_that_does_not_exist_exits_two_naming_it(work):
    result = audit("missing.toml", *FAST)
    assert result.exit_code == 2
    assert "missing.toml" in result.stderr and "Traceback" not in result.output


def test_an_unknown_backend_is_a_usage_error(work):
    result = audit("right.toml", "--backend", "abacus")
    assert result.exit_code == 2
    assert "abacus" in result.output


# --- reports -----------------------------------------------------------------------------------


def test_report_dir_gets_the_requested_formats_only(work):
    result = audit("wrong.toml", *FAST, "--report-dir", "out", "--format", "md", "--format", "junit")
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in (work / "out").iterdir()) == sorted([MD, JUNIT])


def test_json_report_records_the_wrong_claim(work):
    audit("wrong.toml", *FAST, "--report-dir", "out", "--format", "json", "--quiet")
    record = report(work / "out")
    (finding,) = record["cases"][0]["findings"]
    assert (finding["status"], finding["claimed"], finding["true"]) == ("refuted", "3", 2.0)
    assert record["summary"]["exit_status"] == 1


def test_an_unwritable_report_dir_exits_two_before_any_case_runs(work, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("a case was checked before the report directory was")

    monkeypatch.setattr(diffcheck.documents.audit, "check_case", must_not_run)
    (work / "afile").write_text("")
    result = audit("right.toml", *FAST, "--report-dir", "afile/sub", "--format", "json")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("diffcheck: error: cannot write reports to afile/sub")


# --- [tool.diffcheck] --------------------------------------------------------------------------


def configure(directory, table):
    (directory / "pyproject.toml").write_text('[project]\nname = "scratch"\n\n[tool.diffcheck]\n' + table)


def with_settings(work):
    (work / "mycases").mkdir()
    (work / "mycases" / "wrong.toml").write_text(WRONG)
    configure(work, 'paths = ["mycases"]\nreport_dir = "myreports"\nformats = ["md"]\n'
                    'backends = ["engine", "numeric"]\n')


def test_settings_give_paths_report_dir_and_formats(work):
    with_settings(work)
    result = audit()
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in (work / "myreports").iterdir()) == [MD]
    assert "wrong::line" in (work / "myreports" / MD).read_text(encoding="utf-8")


def test_settings_paths_are_relative_to_the_pyproject(work, monkeypatch):
    with_settings(work)
    (work / "deeper").mkdir()
    monkeypatch.chdir(work / "deeper")
    result = audit()
    assert result.exit_code == 1, result.output
    assert (work / "myreports" / MD).is_file()
    assert not (work / "deeper" / "myreports").exists()


def test_command_line_overrides_paths_report_dir_and_formats(work):
    with_settings(work)
    result = audit("right.toml", "--report-dir", "elsewhere", "--format", "json")
    assert result.exit_code == 0, result.output   # right.toml, not the wrong case in mycases
    assert not (work / "myreports").exists()
    assert sorted(p.name for p in (work / "elsewhere").iterdir()) == [JSON]
    assert [case["id"] for case in report(work / "elsewhere")["cases"]] == ["right::square"]


def test_command_line_backends_override_the_settings(work):
    with_settings(work)
    audit("right.toml", "--backend", "engine", "--report-dir", "out", "--format", "json")
    (check,) = report(work / "out")["cases"][0]["checks"]
    assert sorted(check["backends"]) == ["engine"]


def test_unknown_setting_exits_two_naming_it(work):
    configure(work, 'paths = ["."]\nreport_directory = "out"\n')
    result = audit("right.toml", *FAST)
    assert result.exit_code == 2
    assert "report_directory" in result.output and "pyproject.toml" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_setting_of_the_wrong_type_exits_two_naming_it(work):
    configure(work, 'formats = "md"\n')
    result = audit("right.toml", *FAST)
    assert result.exit_code == 2
    assert "formats" in result.output and "Traceback" not in result.output

"""``diffcheck merge``: the shards of an audit, merged, give the unsharded audit's
reports (run metadata aside); shard reports that are not one whole audit are
refused with one line naming the file."""

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from diffcheck.reports import jsonreport
from diffcheck.cli import main
from test_audit_cli import BROKEN, WRONG   # a broken file; d/dy (2*y + 1) claimed to be 3

ROOT = Path(__file__).resolve().parent.parent
JSON, MD, JUNIT, HTML = "diffcheck-audit.json", "diffcheck-audit.md", "diffcheck-audit-junit.xml", \
    "diffcheck-audit.html"
SHARDS = 3

# d/dx x**3 is 3*x**2: 12 at 2, 27 at 3.
CUBES = '''
format = 1
document = "cubes.txt"
''' + "".join(f'''
[[case]]
name = "cube-at-{x}"
where = "Sec {x}"
expression = "x**3"
variables = {{ x = {x}.0 }}

[[case.claim]]
kind = "gradient"
wrt = "x"
claimed = "{3 * x * x}"
''' for x in (2, 3))


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def audited(directory: Path, formats, shards: int, *options) -> list[int]:
    """Audit the project at ``directory`` whole and in ``shards`` shards (with the
    audit's other ``options``): the exit statuses."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)
        chosen = [option for name in formats for option in ("--format", name)] + list(options)
        statuses = [invoke("audit", "-q", "--report-dir", "whole", *chosen).exit_code]
        for index in range(1, shards + 1):
            shard = invoke("audit", "-q", "--shard", f"{index}/{shards}", "--report-dir", f"shard-{index}",
                           *chosen)
            statuses.append(shard.exit_code)
    return statuses


def merge(directory: Path, shards: int, *options):
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)
        return invoke("merge", *shard_reports(directory, shards), *options)


def scratch_project(directory: Path) -> Path:
    (directory / "cases").mkdir()
    (directory / "pyproject.toml").write_text('[project]\nname = "scratch"\n')
    return directory


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project with a document's cases, a wrong claim and a broken file, audited
    whole and in three shards, in a directory of its own."""
    directory = scratch_project(tmp_path_factory.mktemp("merge"))
    shutil.copy(ROOT / "cases" / "002_2c3b5acc974a63e6.toml", directory / "cases")
    (directory / "cases" / "wrong.toml").write_text(WRONG)
    (directory / "cases" / "broken.toml").write_text(BROKEN)
    # HTML has a test of its own, on fewer cases: its plots take about a second each.
    statuses = audited(directory, ("json", "md", "junit"), SHARDS)
    assert statuses == [2] * (SHARDS + 1)   # the broken file: whole, and every shard, report it
    return directory


@pytest.fixture(scope="module")
def merged(project):
    result = merge(project, SHARDS, "--report-dir", "merged", "--format", "json", "--format", "md",
                   "--format", "junit")
    assert "broken.toml" in result.stdout    # the terminal lists the load error
    return result


def shard_reports(project, shards=SHARDS):
    return [str(project / f"shard-{index}" / JSON) for index in range(1, shards + 1)]


def read(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def test_the_shards_split_the_cases_between_them(project):
    counts = [len(read(path)["cases"]) for path in shard_reports(project)]
    assert sum(counts) == len(read(project / "whole" / JSON)["cases"]) == 12   # 11 of 002, 1 wrong
    assert sum(count > 0 for count in counts) >= 2, counts


def test_the_merged_json_is_the_unsharded_json_apart_from_run(project, merged):
    whole, together = read(project / "whole" / JSON), read(project / "merged" / JSON)
    jsonschema.validate(together, jsonreport.schema())
    whole.pop("run"), together.pop("run")
    assert together == whole
    assert list(together) == list(whole)                      # same keys, same order
    assert len(together["load_errors"]) == 1                   # reported by every shard, kept once
    assert together["summary"]["claims"]["refuted"] >= 1


def test_the_merged_markdown_and_junit_are_the_unsharded_ones(project, merged):
    for name in (MD, JUNIT):
        assert (project / "merged" / name).read_bytes() == (project / "whole" / name).read_bytes(), name


@pytest.mark.slow
def test_the_merged_html_is_the_unsharded_page_with_its_plots(tmp_path):
    directory = scratch_project(tmp_path)
    (directory / "cases" / "wrong.toml").write_text(WRONG)
    (directory / "cases" / "cubes.toml").write_text(CUBES)
    # --plots all: every case drawn, not only the one with a finding and the sample.
    assert audited(directory, ("json", "html"), 2, "--plots", "all")[0] == 1     # the wrong claim
    result = merge(directory, 2, "--report-dir", "merged", "--format", "html")
    assert result.exit_code == 1, result.output
    assert all(read(path)["cases"] for path in shard_reports(directory, 2))   # both shards hold cases
    assert "<h1>diffcheck audit, shard 2 of 2</h1>" in (directory / "shard-2" / HTML).read_text()
    whole = (directory / "whole" / HTML).read_text().splitlines()
    together = (directory / "merged" / HTML).read_text().splitlines()
    assert len(together) == len(whole)
    differing = [(a, b) for a, b in zip(whole, together) if a != b]
    # Only the footer's run metadata: when the audit started and how long it took.
    assert len(differing) == 2 and all("audit started" in a or "took" in a for a, _ in differing)
    assert sum("data:image/png;base64," in line for line in together) == 3   # a plot for each case


def test_merge_exits_with_the_whole_audits_status(merged):
    assert merged.exit_code == 2          # a case file could not be read


def test_the_merged_run_records_each_shard(project, merged):
    run = read(project / "merged" / JSON)["run"]
    assert [shard["shard"] for shard in run["shards"]] == ["1/3", "2/3", "3/3"]
    assert run["seconds"] == pytest.approx(sum(s["seconds"] for s in run["shards"]), abs=0.01)
    assert set(run["case_seconds"]) == {case["id"] for case in read(project / "whole" / JSON)["cases"]}


# --- refused input ---------------------------------------------------------------------------------


def merge_error(project, *reports, extra=()):
    result = CliRunner().invoke(main, ["merge", *map(str, reports), "--report-dir",
                                       str(project / "refused"), *extra])
    assert result.exit_code == 2, result.output
    assert not (project / "refused" / JSON).exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def edited(project, tmp_path, index, change):
    record = read(project / f"shard-{index}" / JSON)
    change(record)
    path = tmp_path / f"edited-{index}.json"
    path.write_text(json.dumps(record))
    return path


def test_a_missing_shard_is_named(project):
    one, _, three = shard_reports(project)
    assert merge_error(project, one, three) == (
        f"diffcheck: error: shard 2/3 is missing (given: {one} (1/3), {three} (3/3))")


def test_missing_shards_are_all_named(project):
    _, two, _ = shard_reports(project)
    assert merge_error(project, two) == f"diffcheck: error: shards 1/3, 3/3 are missing (given: {two} (2/3))"


def test_a_shard_given_twice_is_refused(project):
    one, two, three = shard_reports(project)
    assert merge_error(project, one, two, three, two) == f"diffcheck: error: {two} and {two} are both shard 2/3"


def test_shards_of_different_shard_counts_are_refused(project, tmp_path):
    one, two, _ = shard_reports(project)
    four = edited(project, tmp_path, 3, lambda r: r["shard"].update(count=4))
    assert merge_error(project, one, two, four) == f"diffcheck: error: {one} is shard 1/3 but {four} is shard 3/4"


def test_shards_of_different_audits_are_refused(project, tmp_path):
    one, two, _ = shard_reports(project)
    other = edited(project, tmp_path, 3, lambda r: r["shard"].update(fingerprint="0" * 64))
    assert merge_error(project, one, two, other) == (
        f"diffcheck: error: {one} and {other} are shards of different audits "
        "(their case files, cases, methods, tolerances or --allow-import differ)")


def test_a_case_missing_from_a_complete_shard_is_refused(project, tmp_path):
    one, two, _ = shard_reports(project)

    def drop_one(record):
        record["cases"].pop(), record["shard"]["positions"].pop()
    short = edited(project, tmp_path, 3, drop_one)
    assert merge_error(project, one, two, short) == (
        "diffcheck: error: the shards hold 11 of the audit's 12 cases, though none was interrupted")


def test_an_unsharded_report_is_refused(project):
    whole = project / "whole" / JSON
    assert merge_error(project, whole) == (
        f"diffcheck: error: {whole}: not a shard's report (it has no shard field; "
        "shards are written by diffcheck audit --shard I/N)")


def test_a_file_that_is_not_json_is_refused(project, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": \n')
    assert merge_error(project, path) == (
        f"diffcheck: error: {path}: not valid JSON: Expecting value at line 2, column 1")


def test_a_report_that_breaks_the_schema_is_refused(project, tmp_path):
    path = edited(project, tmp_path, 1, lambda r: r.pop("summary"))
    assert merge_error(project, path) == (
        f"diffcheck: error: {path}: not a diffcheck audit report: top level: 'summary' is a required property")


def test_a_file_that_does_not_exist_is_refused(project, tmp_path):
    path = tmp_path / "nowhere.json"
    assert merge_error(project, path) == f"diffcheck: error: {path}: cannot read: No such file or directory"


def test_html_is_refused_when_asked_for_and_the_shards_have_no_plot_data(project):
    # The shards ran without the html format, so they computed no plot data.
    assert merge_error(project, *shard_reports(project), extra=("--format", "html")) == (
        "diffcheck: error: cannot write the HTML report: the shard reports "
        f"{', '.join(shard_reports(project))} have no plot data (run shards with --format html)")


def test_by_default_shards_without_plot_data_merge_to_the_other_formats(project, merged, tmp_path):
    result = merge(project, SHARDS, "-q", "--report-dir", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("diffcheck: no HTML report: the shard reports ")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([JSON, MD, JUNIT])
    assert read(tmp_path / JSON) == read(project / "merged" / JSON)


def test_an_interrupted_shard_merges_into_an_incomplete_audit(project, tmp_path):
    one, two, _ = shard_reports(project)

    def interrupted(record):
        record["complete"] = False
        record["cases"].pop(), record["shard"]["positions"].pop()
    cut = edited(project, tmp_path, 3, interrupted)
    result = CliRunner().invoke(main, ["merge", "-q", one, two, str(cut), "--report-dir", str(tmp_path / "m"),
                                       "--format", "json"])
    assert result.exit_code == 130
    together = read(tmp_path / "m" / JSON)
    assert together["complete"] is False and together["summary"]["cases"] == 11

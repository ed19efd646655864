"""``diffcheck audit --shard I/N``: a fixed slice of the cases by a stable hash, so
the N shards of a CI matrix cover every case exactly once, on any machine, in
any checkout directory and whatever order the files are found in."""

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from diffcheck.reports import jsonreport
from diffcheck.documents.audit import load_all
from diffcheck.cli import main
from diffcheck.scale.shards import Shard, case_key, parse_shard, select, shard_of

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = sorted((ROOT / "cases").glob("*.toml"))

# d/dx x**2 at 3 is 6; d/dy (2*y + 1) is 2.
SMALL = '''
format = 1
document = "small.txt"
''' + "".join(f'''
[[case]]
name = "square-{n}"
where = "Sec {n}"
expression = "x**2"
variables = {{ x = 3.0 }}

[[case.claim]]
kind = "gradient"
wrt = "x"
claimed = "6"
''' for n in range(6))


# --- the I/N argument ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [("1/1", Shard(1, 1)), ("2/4", Shard(2, 4)), (" 3 / 3 ", Shard(3, 3))])
def test_valid_shards_parse(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text, message", [
    ("0/2", "'0/2': the shard I counts from 1 to N=2"),
    ("3/2", "'3/2': the shard I counts from 1 to N=2"),
    ("1/0", "'1/0': the number of shards N must be at least 1"),
    ("x", "expected I/N such as 2/4 (shard I of N), got 'x'"),
    ("1/2/3", "expected I/N such as 2/4 (shard I of N), got '1/2/3'"),
    ("-1/2", "expected I/N such as 2/4 (shard I of N), got '-1/2'"),
])
def test_invalid_shards_are_refused_saying_why(text, message):
    with pytest.raises(ValueError) as caught:
        parse_shard(text)
    assert str(caught.value) == message


@pytest.mark.parametrize("text", ["0/2", "3/2", "x"])
def test_a_bad_shard_on_the_command_line_is_a_usage_error(text):
    result = CliRunner().invoke(main, ["audit", "--shard", text])
    assert result.exit_code == 2
    assert "Usage: main audit" in result.output
    assert "Invalid value for '--shard'" in result.output
    assert repr(text) in result.output


# --- the hash -----------------------------------------------------------------------------------


def test_the_shard_is_the_sha256_of_file_and_name_modulo_n():
    # printf 'cases/000_30cd0e52394e5495.toml\0perceptron-system' | sha256sum
    # gives 1192bc438cd91c53b897afee...; its first eight bytes, modulo N, plus 1.
    key = "cases/000_30cd0e52394e5495.toml\0perceptron-system"
    first_eight_bytes = 0x1192bc438cd91c53
    for count in (1, 2, 3, 7, 64):
        assert shard_of(key, count) == first_eight_bytes % count + 1
    assert shard_of(key, 7) == 4


def test_a_case_is_keyed_by_its_file_relative_to_the_project(tmp_path, monkeypatch):
    project = _project(tmp_path / "checkout", ["000_30cd0e52394e5495.toml"])
    monkeypatch.chdir(project / "cases")    # run from a subdirectory: same key
    [case_file] = load_all(["000_30cd0e52394e5495.toml"])
    assert case_key(case_file.cases[0], project) == "cases/000_30cd0e52394e5495.toml\0perceptron-system"


# --- shards cover the audit -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_the_shards_cover_every_case_exactly_once(count, monkeypatch):
    monkeypatch.chdir(ROOT)
    files = load_all(["cases"])
    total = sum(len(f.cases) for f in files)
    places = [place for index in range(1, count + 1) for place in select(files, Shard(index, count)).positions]
    assert sorted(places) == list(range(total))
    assert total == 67   # the catalogue, as cases/INVENTORY.md counts it


def test_the_slice_does_not_depend_on_the_order_files_are_found_in(monkeypatch):
    monkeypatch.chdir(ROOT)
    files = load_all(["cases"])
    forward = _slices(files, 3)
    assert forward == _slices(list(reversed(files)), 3)
    assert all(forward.values())   # each of the three shards gets cases from 67


def test_the_slice_does_not_depend_on_where_the_project_is_checked_out(tmp_path, monkeypatch):
    names = [path.name for path in CATALOGUE]
    slices = []
    for checkout, working in ((tmp_path / "a", "."), (tmp_path / "b" / "deep" / "er", "cases")):
        project = _project(checkout, names)
        monkeypatch.chdir(project / working)
        slices.append(_slices(load_all(["cases" if working == "." else "."]), 4))
    assert slices[0] == slices[1]


def test_adding_a_case_moves_no_other_case(tmp_path, monkeypatch):
    project = _project(tmp_path / "p", [])
    (project / "cases" / "small.toml").write_text(SMALL)
    monkeypatch.chdir(project)
    before = _slices(load_all(["cases"]), 3)
    new_case = SMALL[SMALL.index("[[case]]"):SMALL.index("[[case]]", SMALL.index("[[case]]") + 1)]
    (project / "cases" / "small.toml").write_text(SMALL + new_case.replace("square-0", "square-new"))
    after = _slices(load_all(["cases"]), 3)
    assert sum(map(len, after.values())) == sum(map(len, before.values())) + 1
    for index in before:
        assert before[index] <= after[index]


# --- a shard's reports ------------------------------------------------------------------------------


def test_a_shard_report_says_which_shard_it_is(tmp_path, monkeypatch):
    project = _project(tmp_path / "p", [])
    (project / "cases" / "small.toml").write_text(SMALL)
    monkeypatch.chdir(project)
    expected = select(load_all(["cases"]), Shard(2, 3))
    result = CliRunner().invoke(main, ["audit", "--shard", "2/3", "--report-dir", "out",
                                       "--format", "json", "--format", "md", "--format", "junit",
                                       "--backend", "engine"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "shard 2/3: " in result.stderr
    report = json.loads((project / "out" / jsonreport.FILENAME).read_text())
    jsonschema.validate(report, jsonreport.schema())
    shard = report["shard"]
    assert (shard["index"], shard["count"], shard["total_cases"], shard["plots"]) == (2, 3, 6, False)
    assert shard["positions"] == expected.positions
    assert [case["name"] for case in report["cases"]] == [f"square-{p}" for p in expected.positions]
    assert (project / "out" / "diffcheck-audit.md").read_text().startswith("# diffcheck audit, shard 2 of 3\n")
    assert 'name="diffcheck audit, shard 2 of 3"' in (project / "out" / "diffcheck-audit-junit.xml").read_text()


def _project(directory: Path, case_files: list[str]) -> Path:
    (directory / "cases").mkdir(parents=True)
    (directory / "pyproject.toml").write_text('[project]\nname = "scratch"\n')
    for name in case_files:
        shutil.copy(ROOT / "cases" / name, directory / "cases" / name)
    return directory


def _slices(files, count) -> dict[int, set]:
    """Each shard's cases as (file relative to the project, name)."""
    from diffcheck.scale.shards import project_root
    root = project_root()
    result = {}
    for index in range(1, count + 1):
        chosen = select(files, Shard(index, count))
        result[index] = {tuple(case_key(c, root).split("\0")) for f in chosen.files for c in f.cases}
    return result


def test_shards_of_one_audit_share_a_fingerprint_that_its_settings_change(monkeypatch):
    from diffcheck.checking.tolerances import Tolerances
    from diffcheck.documents.audit import CheckingSettings
    monkeypatch.chdir(ROOT)
    files = load_all(["cases"])
    fingerprints = {select(files, Shard(index, 3)).fingerprint for index in (1, 2, 3)}
    assert len(fingerprints) == 1
    [same] = fingerprints
    assert select(files, Shard(1, 3), backends=["engine", "torch"]).fingerprint != same
    assert select(files[:2], Shard(1, 3)).fingerprint != same
    wider = CheckingSettings(Tolerances(floor_ulps=64.0))
    assert select(files, Shard(1, 3), settings=wider).fingerprint != same
    assert select(files, Shard(1, 3), settings=CheckingSettings(allow_imports=True)).fingerprint != same
    # The defaults are the settings of an audit given none.
    assert select(files, Shard(1, 3), settings=CheckingSettings()).fingerprint == same
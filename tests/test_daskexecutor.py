"""The Dask executor: cases checked on a cluster (here a local one on loopback, with
one worker process) give the reports of an audit checked in one process."""

import json
import os
import pickle
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from diffcheck.reports import jsonreport
from diffcheck.documents.audit import load_all, run_audit
from diffcheck.cli import main
from diffcheck.reports.records import audit_record, case_record

# Slow: whole audits or runs in subprocesses; `-m "not slow"` leaves them out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "cases" / "002_2c3b5acc974a63e6.toml"

MODULE = '''
import pathlib
pathlib.Path(__file__).with_name("IMPORTED").write_text("imported")


def f(x, y):
    return (x * y).sin().sum()
'''

CODE_CASE = '''document = "code.txt"
[[case]]
name = "code"
where = "a test"
callable = "dask_sentinel_module:f"
variables = { x = [1.0, 2.0], y = [0.5, 0.25] }
'''


def without_run(record):
    return {key: value for key, value in record.items() if key != "run"}


@pytest.fixture(scope="module")
def in_process():
    return run_audit(load_all([DOCUMENT]), profiles=True)


def test_a_case_result_survives_pickling(in_process):
    """What a worker sends back: plain pickle, no cloudpickle needed."""
    for result in in_process.cases:
        copy = pickle.loads(pickle.dumps(result))
        assert case_record(copy) == case_record(result)
        assert copy.problems == result.problems


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with pytest.MonkeyPatch.context() as patch:
        # The worker process imports the diffcheck under test.
        patch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0") as local:
            yield local


def test_the_audit_on_a_cluster_equals_the_audit_in_process(cluster, in_process):
    from diffcheck.scale.daskexecutor import DaskExecutor
    files = load_all([DOCUMENT])
    finished = []
    on_cluster = run_audit(files, profiles=True, executor=DaskExecutor(cluster.scheduler_address),
                           progress=lambda case, result: finished.append(case.name))
    assert sorted(finished) == sorted(case.name for case in files[0].cases)
    assert [r.case.name for r in on_cluster.cases] == [case.name for case in files[0].cases]
    assert without_run(audit_record(on_cluster)) == without_run(audit_record(in_process))
    assert len(on_cluster.cases) == 11


def test_a_shard_checked_on_a_cluster_knows_its_cases_places(cluster, tmp_path, monkeypatch):
    """Results come back as copies made by the worker; the shard record still
    places each case in the whole audit."""
    from diffcheck.scale.shards import Shard, select
    # Two methods: with one, nothing is cross-checked and the audit exits 2.
    result = CliRunner().invoke(main, ["audit", str(DOCUMENT), "-q", "--shard", "1/2", "--backend", "engine",
                                       "--backend", "numeric",
                                       "--report-dir", str(tmp_path), "--format", "json",
                                       "--executor", "dask", "--scheduler", cluster.scheduler_address],
                                catch_exceptions=False)
    report = json.loads((tmp_path / jsonreport.FILENAME).read_text())
    expected = select(load_all([DOCUMENT]), Shard(1, 2), ["engine", "numeric"])
    assert report["shard"]["positions"] == expected.positions and expected.positions
    assert report["shard"]["fingerprint"] == expected.fingerprint
    assert result.exit_code in (0, 1), result.output


def test_allow_import_reaches_the_worker(cluster, tmp_path, monkeypatch):
    (tmp_path / "dask_sentinel_module.py").write_text(MODULE)
    (tmp_path / "code.toml").write_text(CODE_CASE)
    args = ["audit", str(tmp_path / "code.toml"), "-q", "--report-dir", str(tmp_path / "r"), "--format", "json",
            "--executor", "dask", "--scheduler", cluster.scheduler_address]
    refused = CliRunner().invoke(main, args, catch_exceptions=False)
    assert refused.exit_code == 1 and not (tmp_path / "IMPORTED").exists()
    checked = CliRunner().invoke(main, [*args, "--allow-import"], catch_exceptions=False)
    # The worker, a process of its own, imported the module: the setting travelled with the case.
    assert (tmp_path / "IMPORTED").exists()
    [finding] = json.loads((tmp_path / "r" / jsonreport.FILENAME).read_text())["cases"][0]["findings"]
    assert finding["status"] == "confirmed", finding["message"]
    assert checked.exit_code == 0


def test_an_unreachable_scheduler_is_one_line_before_any_work(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from diffcheck.scale import daskexecutor
    monkeypatch.setattr(daskexecutor, "CONNECT_TIMEOUT", 1.0)
    (tmp_path / "cases").mkdir()
    result = CliRunner().invoke(main, ["audit", str(DOCUMENT), "-q", "--report-dir", str(tmp_path / "r"),
                                       "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("diffcheck: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9: ")
    assert not (tmp_path / "r" / jsonreport.FILENAME).exists()


def test_without_dask_installed_the_executor_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)   # import distributed now fails
    result = CliRunner().invoke(main, ["audit", str(DOCUMENT), "-q", "--executor", "dask",
                                       "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ('diffcheck: error: the Dask executor needs dask.distributed, which is '
                                     'not installed: pip install "diffcheck[dask]"')


@pytest.mark.parametrize("args", [["--executor", "dask"], ["--scheduler", "tcp://127.0.0.1:8786"]])
def test_executor_dask_and_scheduler_go_together(args):
    result = CliRunner().invoke(main, ["audit", str(DOCUMENT), *args])
    assert result.exit_code == 2
    assert "Usage: main audit" in result.output
    assert "--executor dask and --scheduler ADDRESS go together" in result.output

"""Cases checked in worker processes: a case that hangs, one that exhausts its
memory and one whose worker is killed end in their own outcome, and the other
cases of the audit are checked as if nothing happened."""

import os
import signal

import jsonschema
import pytest
from reliability_cases import LINE, SLOW, SQUARE, VECTOR, case_file, hungry

from diffcheck.reports import jsonreport
from diffcheck.documents.audit import RESOURCE_LIMIT, TIMEOUT, WORKER_DIED, load_all, run_audit
from diffcheck.checking.config import ConfigError, load_settings
from diffcheck.reports.records import audit_record
from diffcheck.scale.workers import LimitsNeedWorkers, WorkerPool, executor_for

FAST = ["engine", "numeric"]


def load(tmp_path, *cases):
    path = tmp_path / "doc.toml"
    path.write_text(case_file(*cases))
    (loaded,) = load_all([path])
    assert loaded.errors == []
    return [loaded]


def outcomes(audit) -> dict:
    return {r.case.name: r.outcome for r in audit.cases}


def statuses(audit) -> dict:
    return {r.case.name: [f.status for f in r.findings] for r in audit.cases}


def assert_the_others_were_checked(audit):
    # square's claim (6) is right and line's (3, the truth is 2) wrong, as in-process.
    found = statuses(audit)
    assert found["square"] == ["confirmed"] and found["line"] == ["refuted"]


@pytest.mark.slow
def test_a_hanging_case_times_out_and_the_audit_goes_on(tmp_path):
    files = load(tmp_path, SQUARE, SLOW, LINE)
    audit = run_audit(files, executor=WorkerPool(2, timeout=2))
    assert outcomes(audit) == {"square": "finished", "slow-simplify": TIMEOUT, "line": "finished"}
    assert_the_others_were_checked(audit)
    slow = audit.cases[1]
    assert slow.reason == "not finished within the time limit of 2 s per case"
    assert slow.findings == [] and slow.checks == []
    assert 2 <= slow.seconds < 30
    record = audit_record(audit)
    jsonschema.validate(record, jsonreport.schema())
    assert record["cases"][1]["unfinished"] == {"outcome": TIMEOUT, "reason": slow.reason}
    assert "unfinished" not in record["cases"][0]
    # One timeout and one wrong claim: two problems, exit status 1.
    assert record["summary"]["unfinished"] == {TIMEOUT: 1}
    assert (record["summary"]["problems"], record["summary"]["exit_status"]) == (2, 1)


def test_a_memory_hungry_case_hits_the_memory_limit_and_the_audit_goes_on(tmp_path):
    files = load(tmp_path, SQUARE, hungry(), LINE)
    audit = run_audit(files, FAST, executor=WorkerPool(1, timeout=60, memory_mb=300))
    assert outcomes(audit) == {"square": "finished", "hungry": RESOURCE_LIMIT, "line": "finished"}
    assert_the_others_were_checked(audit)
    reason = audit.cases[1].reason
    assert reason.startswith("ran out of memory (limit: 300 MiB per worker): MemoryError")
    # The product that did not fit: 10,000 x 10,000 float64 entries.
    assert "(10000, 10000)" in reason


@pytest.mark.parametrize("killer", [signal.SIGKILL, signal.SIGSEGV], ids=["SIGKILL", "SIGSEGV"])
def test_a_worker_killed_mid_case_is_reported_and_replaced(tmp_path, killer):
    files = load(tmp_path, SLOW, SQUARE, LINE, VECTOR)
    pool = WorkerPool(2)
    killed = []

    def kill_the_slow_case(case, result):
        # The two workers took the slow case (index 0) and square at the start.
        if not killed:
            pid = pool.running()[0]
            os.kill(pid, killer)
            killed.append(pid)

    audit = run_audit(files, FAST, progress=kill_the_slow_case, executor=pool)
    assert outcomes(audit) == {"slow-simplify": WORKER_DIED, "square": "finished", "line": "finished",
                               "vector": "finished"}
    assert audit.cases[0].reason == f"the worker process checking it died (killed by {killer.name})"
    assert_the_others_were_checked(audit)
    assert statuses(audit)["vector"] == ["confirmed"]
    assert audit.complete
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)   # reaped, not a zombie left behind


def test_no_worker_outlives_the_audit(tmp_path):
    pool = WorkerPool(2)
    pids = []
    audit = run_audit(load(tmp_path, SQUARE, LINE), FAST, executor=pool,
                      progress=lambda case, result: pids.extend(pool.running().values()))
    assert len(audit.cases) == 2 and pool.running() == {}
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_an_expression_at_the_parsers_depth_limit_travels_to_a_worker_and_back(tmp_path):
    # 990 nested negations of x: an even number, so the value is x = 2 and d/dx = 1.
    deep = f'''
[[case]]
name = "deep"
where = "Sec 6"
expression = "{'-' * 990}x"
variables = {{ x = 2.0 }}

[[case.claim]]
kind = "gradient"
wrt = "x"
claimed = "1"
'''
    audit = run_audit(load(tmp_path, deep), FAST, executor=WorkerPool(1))
    assert outcomes(audit) == {"deep": "finished"} and statuses(audit) == {"deep": ["confirmed"]}


# --- choosing the executor ----------------------------------------------------------------------


def test_by_default_cases_run_in_the_audit_process():
    assert executor_for(None, None, None) is None
    assert executor_for(0, None, None) is None


def test_a_limit_without_jobs_gets_one_worker():
    pool = executor_for(None, 5.0, None)
    assert (pool.jobs, pool.timeout, pool.memory_mb) == (1, 5.0, None)
    assert executor_for(None, None, 512).jobs == 1
    assert executor_for(3, None, None).jobs == 3


def test_a_limit_with_jobs_zero_is_refused():
    with pytest.raises(LimitsNeedWorkers, match="a time or memory limit needs worker processes"):
        executor_for(0, 5.0, None)


def test_pyproject_settings_for_jobs_and_limits(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.diffcheck]\njobs = 2\ntimeout = 90\nmemory_mb = 1024\n")
    settings = load_settings(tmp_path)
    assert (settings.jobs, settings.timeout, settings.memory_mb) == (2, 90.0, 1024)
    assert isinstance(settings.timeout, float)


@pytest.mark.parametrize("line, message", [
    ("jobs = -1", "jobs should be a non-negative integer, got -1"),
    ("jobs = 1.5", "jobs should be a non-negative integer, got 1.5"),
    ("timeout = 0", "timeout should be a positive number, got 0"),
    ("timeout = true", "timeout should be a positive number, got True"),
    ("memory_mb = '2G'", "memory_mb should be a positive integer, got '2G'"),
])
def test_bad_settings_for_jobs_and_limits_name_the_setting(tmp_path, line, message):
    (tmp_path / "pyproject.toml").write_text(f"[tool.diffcheck]\n{line}\n")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_settings(tmp_path)


def test_a_memory_error_in_the_audit_process_is_the_cases_resource_limit(tmp_path):
    import resource

    from diffcheck.scale.workers import _address_space
    files = load(tmp_path, SQUARE, hungry(), LINE)
    run_audit(load(tmp_path, SQUARE), FAST)   # what the cases use is loaded before the limit
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + 300 * 2**20, hard))
    try:
        audit = run_audit(files, FAST)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert outcomes(audit) == {"square": "finished", "hungry": RESOURCE_LIMIT, "line": "finished"}
    assert audit.cases[1].reason.startswith("ran out of memory: MemoryError")
    assert_the_others_were_checked(audit)

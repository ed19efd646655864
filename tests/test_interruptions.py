"""Nothing lost: SIGINT and SIGTERM in the middle of an audit leave valid reports
of what finished, marked incomplete; audits writing into one directory at once
do not mix their reports; a directory that cannot be written is refused before
the work; and the same inputs give the same report whatever the number of jobs."""

import difflib
import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from click.testing import CliRunner
from reliability_cases import COMMAND, LINE, SLOW, SQUARE, VECTOR, case_file, environment

import diffcheck.documents.audit
from diffcheck.reports import jsonreport
from diffcheck.cli import main
from diffcheck.reports.writer import ReportError, write_reports

# Slow: whole audits or runs in subprocesses; `-m "not slow"` leaves them out.
pytestmark = pytest.mark.slow

JSON, MD, JUNIT, HTML = ("diffcheck-audit.json", "diffcheck-audit.md", "diffcheck-audit-junit.xml",
                         "diffcheck-audit.html")
FAST = ["--backend", "engine", "--backend", "numeric"]


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A directory with a pyproject.toml of its own (no settings leak in) and three case files:
    ``interrupted.toml`` (square and line, then a case that does not end), ``a.toml`` and ``b.toml``."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "scratch"\n')
    (tmp_path / "interrupted.toml").write_text(case_file(SQUARE, LINE, SLOW, document="interrupted.txt"))
    (tmp_path / "a.toml").write_text(case_file(SQUARE, VECTOR, document="a.txt"))
    (tmp_path / "b.toml").write_text(case_file(LINE, document="b.txt"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def start(*args, **options):
    return subprocess.Popen([*COMMAND, *args], env=environment(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True, **options)


def wait_for_line(process, pattern: str, seconds: float = 90) -> list[str]:
    """The stderr lines up to the first that matches ``pattern`` (read from the raw
    pipe: a buffered reader could hold a second line where select() cannot see it)."""
    text, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 1.0)
        if ready:
            chunk = os.read(process.stderr.fileno(), 65536)
            if not chunk:
                break
            text += chunk
            lines = text.decode(errors="replace").splitlines(keepends=True)
            for number, line in enumerate(lines):
                if line.endswith("\n") and re.search(pattern, line):
                    return lines[:number + 1]
    process.kill()
    pytest.fail(f"no line matching {pattern!r} in time; stderr so far: {text!r}")


def rest_of(stream) -> str:
    text = stream.read().decode(errors="replace")
    stream.close()
    return text


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stream:
                    parent = int(stream.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def running(pid: int) -> bool:
    """True unless the process is gone or a zombie (dead, waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def check_reports(directory, complete: bool) -> dict:
    """Every format parses; the JSON report validates; returns it."""
    record = json.loads((directory / JSON).read_text(encoding="utf-8"))
    jsonschema.validate(record, jsonreport.schema())
    ET.parse(directory / JUNIT)
    assert record["complete"] is complete and record["summary"]["complete"] is complete
    assert ("Incomplete" in (directory / MD).read_text()) is not complete
    assert ("Incomplete audit" in (directory / HTML).read_text()) is not complete
    assert [p.name for p in directory.iterdir() if p.name.startswith(".")] == []   # no temporary files
    return record


# --- SIGINT and SIGTERM -------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the workers through /proc")
@pytest.mark.parametrize("signum, jobs, whole_group", [
    (signal.SIGINT, "1", True),      # Ctrl-C in a terminal: the whole process group gets it
    (signal.SIGTERM, "0", False),    # kill: the audit process alone
], ids=["SIGINT-jobs1", "SIGTERM-jobs0"])
def test_a_signal_mid_audit_leaves_valid_reports_of_the_cases_finished(work, signum, jobs, whole_group):
    process = start("interrupted.toml", "--jobs", jobs, "--report-dir", "out", *FAST)
    # Square and line take well under a second; the third case does not end.
    wait_for_line(process, r"^\[2/3\] ")
    helpers = descendants(process.pid)
    assert len(helpers) >= (0 if jobs == "0" else 1 + int(jobs))   # the fork server and the workers
    (os.killpg if whole_group else os.kill)(process.pid, signum)
    status = process.wait(60)
    rest = rest_of(process.stderr)
    assert status == 128 + signum, rest
    assert "Traceback" not in rest
    record = check_reports(work / "out", complete=False)
    assert [c["name"] for c in record["cases"]] == ["square", "line"]
    assert [[f["status"] for f in c["findings"]] for c in record["cases"]] == [["confirmed"], ["refuted"]]
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in helpers if running(pid)] == []   # no orphans


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the workers through /proc")
def test_workers_do_not_outlive_an_audit_killed_outright(work):
    process = start("interrupted.toml", "--jobs", "2", "--report-dir", "out", *FAST)
    wait_for_line(process, r"^\[2/3\] ")
    helpers = descendants(process.pid)
    os.kill(process.pid, signal.SIGKILL)   # no handler runs: the workers must notice by themselves
    assert process.wait(60) == -signal.SIGKILL
    process.stderr.close()
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert helpers and [pid for pid in helpers if running(pid)] == []
    assert list((work / "out").iterdir()) == []   # nothing half-written


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_reading_case_files_is_one_line_and_keeps_the_earlier_report(work, monkeypatch, signum):
    (work / "out").mkdir()
    (work / "out" / JSON).write_text("earlier report\n")
    real = diffcheck.documents.audit.load_all

    def load_all_interrupted(paths):
        os.kill(os.getpid(), signum)   # delivered to the handler while the files are read
        return real(paths)

    monkeypatch.setattr(diffcheck.documents.audit, "load_all", load_all_interrupted)
    result = CliRunner().invoke(main, ["audit", "a.toml", "--report-dir", "out", *FAST])
    assert result.exit_code == 128 + signum
    assert result.stderr == ("diffcheck: interrupted while reading the case files; nothing was checked "
                             "and no report was written\n")
    assert (work / "out" / JSON).read_text() == "earlier report\n"
    assert [p.name for p in (work / "out").iterdir()] == [JSON]


# --- two audits, one directory ------------------------------------------------------------------


def test_two_audits_into_one_directory_at_once_each_write_a_whole_set(work):
    first = start("a.toml", "--report-dir", "shared", "-q", *FAST)
    second = start("b.toml", "--report-dir", "shared", "-q", *FAST)
    assert (first.wait(120), second.wait(120)) == (0, 1)   # a.txt is all right, b.txt has a wrong claim
    for process in (first, second):
        process.stderr.close()
    record = check_reports(work / "shared", complete=True)
    ids = [c["id"] for c in record["cases"]]
    assert ids in (["a::square", "a::vector"], ["b::line"])
    others = ["b::line"] if ids[0].startswith("a") else ["a::square", "a::vector"]
    for name in (MD, JUNIT):   # the other formats come from the same audit
        text = (work / "shared" / name).read_text()
        assert all(i in text for i in ids) and not any(i in text for i in others)
    document, other = ("a.txt", "b.txt") if ids[0].startswith("a") else ("b.txt", "a.txt")
    html = (work / "shared" / HTML).read_text()
    assert document in html and other not in html


WRITER = """
import sys
from diffcheck.documents.audit import AuditResult
from diffcheck.documents.catalogue import CaseFile
from diffcheck.errors import CaseFileError
from diffcheck.reports.records import audit_record
from diffcheck.reports.writer import write_reports

writer, rounds, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
padding = "x" * 20000   # reports of some size, so that writes take time
for round in range(rounds):
    error = CaseFileError(f"writer {writer} round {round} {padding}")
    record = audit_record(AuditResult(files=[CaseFile(path="w.toml", errors=[error])]))
    write_reports(record, directory, ["json", "md", "junit", "html"])
"""


def test_concurrent_writers_never_leave_a_torn_or_mixed_set_of_reports(tmp_path):
    directory = tmp_path / "shared"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(w), "15", str(directory)], env=environment())
               for w in range(3)]
    reads = 0
    while any(w.poll() is None for w in writers):
        try:
            text = (directory / JSON).read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        jsonschema.validate(json.loads(text), jsonreport.schema())   # never half a file
        reads += 1
    assert [w.returncode for w in writers] == [0, 0, 0]
    (message,) = json.loads((directory / JSON).read_text())["load_errors"]
    stamp = re.match(r"writer \d round \d+", message).group(0)
    for name in (MD, JUNIT, HTML):
        assert re.findall(r"writer \d round \d+", (directory / name).read_text()) == [stamp] * len(
            re.findall(r"writer \d round \d+", (directory / name).read_text()))
        assert stamp in (directory / name).read_text()
    assert sorted(p.name for p in directory.iterdir()) == sorted([JSON, MD, JUNIT, HTML])
    assert reads > 0


# --- report directories that cannot be written --------------------------------------------------


def test_a_full_disk_is_refused_before_the_work_and_keeps_the_earlier_report(work):
    (work / "out").mkdir()
    (work / "out" / JSON).write_text("earlier report\n")

    def small_files():
        # Writes beyond 16 KiB fail with EFBIG, as on a full disk; Python ignores SIGXFSZ.
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))

    process = start("a.toml", "--report-dir", "out", *FAST, preexec_fn=small_files)
    status = process.wait(60)
    stderr = rest_of(process.stderr)
    assert status == 2
    assert stderr == "diffcheck: error: cannot write reports to out: File too large\n"
    assert (work / "out" / JSON).read_text() == "earlier report\n"
    assert [p.name for p in (work / "out").iterdir()] == [JSON]


def test_a_disk_that_fills_while_writing_keeps_every_earlier_report(tmp_path):
    from diffcheck.documents.audit import AuditResult
    from diffcheck.documents.catalogue import CaseFile
    from diffcheck.errors import CaseFileError
    from diffcheck.reports.records import audit_record

    from diffcheck.reports import htmlreport
    from diffcheck.reports import mdreport

    for name in (MD, HTML):
        (tmp_path / name).write_text(f"earlier {name}\n")
    error = CaseFileError("e" * 100_000)
    record = audit_record(AuditResult(files=[CaseFile(path="w.toml", errors=[error])]))
    # A limit the Markdown report (and the 64 KiB probe) fits under, and the HTML report,
    # which adds its styles to the same text, does not.
    md, html = (len(module.render(record).encode()) for module in (mdreport, htmlreport))
    assert 64 * 1024 < md < md + 2048 < html
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (md + 1024, hard))
    try:
        with pytest.raises(ReportError, match=f"cannot write {re.escape(str(tmp_path / HTML))}: File too large"):
            write_reports(record, tmp_path, ["md", "html"])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    # The Markdown report was written in full first, but not put in place alone.
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {MD: f"earlier {MD}\n",
                                                                   HTML: f"earlier {HTML}\n"}


def _read_only_command(directory, command):
    """``command`` with ``directory`` read-only: by its mode for a user, by a read-only
    bind mount in a private mount namespace for root (whom modes do not stop)."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return command
    if shutil.which("unshare") is None:
        pytest.skip("root ignores modes, and unshare is missing")
    probe = subprocess.run(["unshare", "--mount", "sh", "-c",
                            f"mount --bind '{directory}' '{directory}' && "
                            f"mount -o remount,bind,ro '{directory}' && ! touch '{directory}/x'"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("root ignores modes, and no read-only mount can be made here")
    quoted = " ".join(f"'{part}'" for part in command)
    return ["unshare", "--mount", "sh", "-c", f"mount --bind '{directory}' '{directory}' && "
            f"mount -o remount,bind,ro '{directory}' && exec {quoted}"]


def test_a_read_only_report_directory_is_refused_before_the_work(work):
    (work / "out").mkdir()
    (work / "out" / JSON).write_text("earlier report\n")
    command = _read_only_command(work / "out", [*COMMAND, "a.toml", "--report-dir", "out", *FAST])
    try:
        result = subprocess.run(command, env=environment(), capture_output=True, text=True, timeout=60)
    finally:
        (work / "out").chmod(0o755)
    assert result.returncode == 2
    assert result.stderr == "diffcheck: error: cannot write reports to out: Read-only file system\n" or \
        result.stderr == "diffcheck: error: cannot write reports to out: Permission denied\n"
    assert result.stdout == ""   # nothing was checked
    assert [p.name for p in (work / "out").iterdir()] == [JSON]
    assert (work / "out" / JSON).read_text() == "earlier report\n"


# --- determinism --------------------------------------------------------------------------------

# d/dx (x*exp(y)) is exp(y) for all x and y: a formula claim checked at seeded random points.
FORMULA = '''
[[case]]
name = "formula"
where = "Sec 8"
expression = "x*exp(y)"
variables = { x = 0.5, y = -1.0 }

[[case.claim]]
kind = "formula"
wrt = "x"
formula = "exp(y)"
'''


def test_the_json_report_is_byte_identical_across_jobs_apart_from_run(work):
    (work / "mixed.toml").write_text(case_file(SQUARE, FORMULA, LINE, VECTOR, document="mixed.txt"))
    # Fresh processes, run side by side: the audit process's state is the inputs' alone.
    audits = {jobs: start("mixed.toml", "--jobs", jobs, "-q", "--format", "json", "--report-dir", f"out{jobs}")
              for jobs in ("0", "1", "2")}
    texts = []
    for jobs, process in audits.items():
        status = process.wait(120)
        assert status == 1, rest_of(process.stderr)   # line's claim is wrong
        process.stderr.close()
        text = (work / f"out{jobs}" / JSON).read_text(encoding="utf-8")
        # Cut the run metadata, the last field, at its key: the rest must match byte for byte.
        head, run = text.split('\n  "run": ', 1)
        assert json.loads(text)["run"] == json.loads(run.rstrip().removesuffix("}"))   # run is last
        texts.append(head)
    for jobs, text in zip("12", texts[1:]):
        difference = list(difflib.unified_diff(texts[0].splitlines(), text.splitlines(), "--jobs 0",
                                               f"--jobs {jobs}", lineterm="", n=2))
        assert text == texts[0], "\n".join(difference[:40])
    record = json.loads((work / "out2" / JSON).read_text())
    assert [c["name"] for c in record["cases"]] == ["square", "formula", "line", "vector"]
    assert [f["status"] for c in record["cases"] for f in c["findings"]] == [
        "confirmed", "confirmed", "refuted", "confirmed"]

"""The `grader` command as a user runs it: exit codes, messages, resuming after SIGKILL."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import MINI_COURSE, ROOT
from corpus import processes_of

GRADER = [sys.executable, "-m", "grader.cli", "--course", str(MINI_COURSE)]
SUBS = MINI_COURSE / "submissions"


def run(*args, **kw):
    return subprocess.run([*GRADER, *args], capture_output=True, text=True, cwd=ROOT, timeout=600, **kw)


@pytest.mark.parametrize("args,message", [
    (["grade", "/no/such/dir", "-a", "mini", "-o", "OUT"], "submissions path /no/such/dir does not exist"),
    (["grade", str(SUBS), "-a", "nope", "-o", "OUT"], "unknown assignment 'nope'"),
    (["grade", str(SUBS), "-a", "mini", "-o", "FILE"], "exists and is not a directory"),
    (["grade", str(SUBS), "-a", "mini", "-o", "OUT", "--jobs", "0"], "--jobs must be a whole number"),
    (["grade", str(SUBS), "-a", "mini", "-o", "OUT", "--timeout", "-1"], "--timeout must be a positive"),
    (["grade", str(SUBS), "-a", "mini", "-o", "OUT", "--sandbox", "vm"], "invalid choice: 'vm'"),
    (["grade", str(SUBS), "-a", "mini", "-o", "OUT", "--memory", "0"], "the memory_mb limit must be a positive"),
    (["grade", str(SUBS), "-a", "mini", "-o", "OUT", "--disk", "lots"], "--disk: invalid int value"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_usage_errors_exit_2_with_one_clear_line(tmp_path, args, message):
    (tmp_path / "FILE").write_text("x")
    args = [a.replace("OUT", str(tmp_path / "out")).replace("FILE", str(tmp_path / "FILE")) for a in args]
    r = run(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_a_broken_hidden_suite_stops_the_batch_before_grading(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(MINI_COURSE, course, ignore=shutil.ignore_patterns("__pycache__"))
    (course / "solutions" / "mini" / "tests" / "test_extra.py").write_text("def test_unmarked():\n    pass\n")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "grader.cli", "--course", str(course), "grade", str(SUBS),
                        "-a", "mini", "-o", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 2, r.stderr
    assert "test_unmarked has no @question" in r.stderr and "Traceback" not in r.stderr
    assert not list((out / "results").glob("*.json"))


def test_list_shows_questions_and_points():
    r = run("list")
    assert r.returncode == 0
    assert "mini: Mini" in r.stdout and "5 points" in r.stdout
    assert "q2" in r.stdout and "Scale module" in r.stdout


def test_grade_writes_csv_results_and_reuses_them(tmp_path):
    out = tmp_path / "out"
    first = run("grade", str(SUBS), "-a", "mini", "-o", str(out), "-j", "2", "--sandbox", "none")
    assert first.returncode == 0, first.stderr
    assert "WARNING: --sandbox none" in first.stdout
    assert "[2/2]" in first.stdout and "/s ·" in first.stdout and "s left" in first.stdout
    assert "score distribution" in first.stdout
    rows = (out / "grades.csv").read_text().splitlines()
    assert rows == ["student,score,max_score,status,q1,q2,reason,flags", "blank,0,5,graded,0,0,,",
                    "solution,5,5,graded,2,3,,"]
    record = json.loads((out / "results" / "solution.json").read_text())
    assert record["status"] == "graded" and record["environment"]["sandbox"] == "none"
    second = run("grade", str(SUBS), "-a", "mini", "-o", str(out), "--sandbox", "none")
    assert "results: 0 made in this run, 2 reused from an earlier run" in second.stdout
    assert "2 students: graded 2\n" in second.stdout and "mean 2.50/5 of all 2\n" in second.stdout
    assert json.loads((out / "results" / "solution.json").read_text())["run_id"] == record["run_id"]


def test_killed_batch_resumes_and_grades_each_submission_once(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(6):
        shutil.copy(SUBS / ("solution.ipynb" if i % 2 else "blank.ipynb"), subs / f"s{i}.ipynb")
    out = tmp_path / "out"
    cmd = [*GRADER, "grade", str(subs), "-a", "mini", "-o", str(out), "-j", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list((out / "results").glob("s*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = {p.stem: json.loads(p.read_text())["run_id"] for p in (out / "results").glob("s*.json")}
    assert 1 <= len(first) < 6
    run_id = next(iter(json.loads(p.read_text())["run_id"] for p in (out / "results").glob("s*.json")))
    deadline = time.monotonic() + 10          # the workers die with their parent, within moments
    while processes_of(run_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_of(run_id) == [], "worker or student processes outlived the killed batch"
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert f"{6 - len(first)} made in this run, {len(first)} reused" in r.stdout
    final = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("s*.json")}
    assert sorted(final) == [f"s{i}" for i in range(6)]
    assert all(final[s]["run_id"] == run_id for s, run_id in first.items())
    assert len({final[s]["run_id"] for s in final if s not in first}) == 1
    assert [final[f"s{i}"]["score"] for i in range(6)] == [0, 5, 0, 5, 0, 5]
    assert not (out / ".work").exists() or not any((out / ".work").iterdir())


def test_the_driver_leaves_collecting_the_suite_to_a_worker_slot(tmp_path):
    """A batch checks its hidden suite's points with what a worker slot collected (it collects the
    suite for its first submission anyway): the driver process itself never imports torch."""
    code = ("import sys\nfrom grader import api\n"
            f"b = api.grade({str(SUBS)!r}, assignment='mini', out={str(tmp_path / 'out')!r}, jobs=1, "
            f"course={str(MINI_COURSE)!r})\n"
            "print(sum(r.status == 'graded' for r in b.results), 'torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    graded, torch_loaded = r.stdout.split()
    assert int(graded) > 0 and torch_loaded == "False"


def test_grade_help_names_every_kind_of_submissions_path():
    r = run("grade", "--help")
    assert r.returncode == 0
    assert ".zip" in r.stdout and "Canvas" in r.stdout and "Gradescope export" in r.stdout
    assert "or a zip" in " ".join(run("--help").stdout.split())


def test_a_cell_stopped_at_its_time_limit_is_named_in_the_table_and_grades_csv(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    nb = (SUBS / "solution.ipynb").read_text()        # the first cell sleeps; the next imports again
    nb = nb.replace('"import torch', '"import time; time.sleep(30)\\nimport torch', 1)
    (subs / "slow.ipynb").write_text(
        nb.replace('"def double', '"import torch\\nimport torch.nn as nn\\ndef double', 1))
    out = tmp_path / "out"
    r = run("grade", str(subs), "-a", "mini", "-o", str(out), "--cell-timeout", "2", "--quiet")
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if "slow" in line)
    assert "graded" in row and "timeout in cell 2 (2 s)" in row, r.stdout
    assert (out / "grades.csv").read_text().splitlines()[1] == \
        "slow,5,5,graded,2,3,timeout in cell 2 (2 s),"


def batch_of(*results):
    from grader.api import BatchResult

    files = {k: Path(k) for k in ("grades", "summary", "reports", "gradescope")}
    return BatchResult(results=list(results), out=Path("out"), sandbox="bwrap", graded_now=3,
                       reused=1, files=files)


def printed(batch, width: int = 100) -> str:
    import io

    from rich.console import Console

    from grader import cli

    console = Console(file=io.StringIO(), width=width)
    cli.print_summary(console, batch)
    return console.file.getvalue()


def test_the_table_cuts_a_long_reason_at_a_word_with_a_marker():
    from grader.results import Result

    reason = ("the notebook could not be read as JSON: " + "unterminated string starting at "
              "line 12 column 5 " * 6).strip()
    out = printed(batch_of(Result("ada", "mini", "invalid", 0, 5, reason)), width=400)
    row = next(line for line in out.splitlines() if "ada" in line)
    cell = row.split("│")[4].strip()
    assert cell.endswith("…") and "(cut:" not in row and len(cell) <= 120
    assert reason.startswith(cell[:-1]) and reason[len(cell) - 1] == " "      # a whole word ends it


def test_the_summary_gives_each_number_one_meaning():
    from grader.results import Result

    rows = [Result("ada", "mini", "graded", 4, 5), Result("bo", "mini", "graded", 1, 5),
            Result("cy", "mini", "missing", 0, 5), Result("di", "mini", "invalid", 0, 5)]
    lines = printed(batch_of(*rows)).splitlines()
    assert "4 students: graded 2, invalid 1, missing 1" in lines
    assert "results: 3 made in this run, 1 reused from an earlier run" in lines
    assert ("mean 1.25/5 of all 4 (1 missing and 1 invalid counted as 0); 2.50/5 of the 2 graded"
            in lines)
    assert not any(line.count("graded") > 1 for line in lines if not line.startswith("mean"))


def test_interrupt_stops_cleanly_and_keeps_finished_results(tmp_path):
    """Ctrl-C (SIGINT to the command's process group, as a terminal sends it) once a result is
    shown: one line on stderr and no traceback, exit 130, and every result shown is on disk,
    graded, while nothing interrupted is stored as a failure."""
    subs = tmp_path / "subs"
    subs.mkdir()
    slow = (SUBS / "solution.ipynb").read_text().replace('"import torch', '"import time; '
                                                          'time.sleep(1.5)\\nimport torch', 1)
    for i in range(4):
        (subs / f"s{i}.ipynb").write_text(slow)
    out = tmp_path / "out"
    proc = subprocess.Popen([*GRADER, "grade", str(subs), "-a", "mini", "-o", str(out), "-j", "1"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    first = proc.stdout.readline()
    os.killpg(proc.pid, signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    assert first.startswith("[1/4] s"), (first, err)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Exception in thread" not in err, err
    assert err.strip().splitlines() == [
        "grader: interrupted; finished results are saved, run the same command to resume"]
    shown = [line.split()[1].rstrip(":") for line in [first, *rest.splitlines()]
             if line.startswith("[")]
    stored = {p.stem: json.loads(p.read_text())["status"] for p in (out / "results").glob("*.json")}
    assert 1 <= len(stored) < 4 and sorted(stored) == sorted(shown)
    assert set(stored.values()) == {"graded"}, stored

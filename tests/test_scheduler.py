"""The worker slots and their queue, driven with a scripted worker (tests/fakes/worker.py): every
job gets exactly one answer, and a worker that dies, hangs, answers garbage or runs out of memory
costs its own job only."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from grader import scheduler
from grader.jobs import GradeRequest, Job

FAKE = (sys.executable, str(Path(__file__).parent / "fakes" / "worker.py"))


@pytest.fixture(autouse=True)
def scripted_worker(monkeypatch):
    monkeypatch.setattr(scheduler.WorkerSlot, "command", FAKE)


def _jobs(*students: str, deadline_s: float = 10.0) -> list[Job]:
    return [Job(GradeRequest(assignment="a", course=".", student=s, path=f"{s}.ipynb", sha256=""),
                deadline_s) for s in students]


def _run(jobs: list[Job], tmp_path: Path, slots: int = 2) -> dict[str, dict]:
    answers: dict[str, dict] = {}

    def on_done(job: Job, reply: dict) -> None:
        assert job.request.student not in answers, "a job answered twice"
        answers[job.request.student] = reply

    scheduler.run_local(jobs, slots=slots, log_dir=tmp_path / "logs", on_done=on_done)
    return answers


def test_every_job_is_answered_once_across_the_slots(tmp_path):
    names = [f"ok{i}" for i in range(12)]
    answers = _run(_jobs(*names), tmp_path)
    assert sorted(answers) == sorted(names)
    assert all(a["ok"] and a["result"]["student"] == s for s, a in answers.items())
    assert len({a["result"]["pid"] for a in answers.values()}) == 2       # both slots worked


@pytest.mark.parametrize("student, reason", [
    ("die", "the worker process exited unexpectedly (status 3)"),
    ("garbage", "the worker process answered with malformed data"),
])
def test_a_broken_worker_costs_its_own_job_and_is_replaced(tmp_path, student, reason):
    answers = _run(_jobs("ok-before", student, "ok-after"), tmp_path, slots=1)
    assert answers[student] == {"ok": False, "error": reason}
    assert answers["ok-before"]["ok"] and answers["ok-after"]["ok"]
    assert answers["ok-before"]["result"]["pid"] != answers["ok-after"]["result"]["pid"]


def test_a_worker_past_the_deadline_is_killed_and_the_next_job_graded(tmp_path):
    jobs = _jobs("hang", "ok-after", deadline_s=0.5)
    started = time.monotonic()
    answers = _run(jobs, tmp_path, slots=1)
    assert answers["hang"] == {"ok": False,
                               "error": "grading this submission took longer than its overall deadline"}
    assert answers["ok-after"]["ok"]
    assert time.monotonic() - started < 30          # not the hour the worker would have slept


def test_a_worker_out_of_memory_answers_and_a_fresh_one_takes_the_next_job(tmp_path):
    answers = _run(_jobs("ok-before", "memory", "ok-after"), tmp_path, slots=1)
    assert answers["memory"]["status"] == "memory" and answers["memory"]["restart"]
    assert answers["ok-before"]["result"]["pid"] != answers["ok-after"]["result"]["pid"]


def test_workers_handed_in_are_told_to_finish_and_left_to_their_owner(tmp_path):
    workers = scheduler.start_slots(2, log_dir=tmp_path / "logs")
    answers: dict = {}
    scheduler.run_local(_jobs("ok1", "ok2", "ok3"), slots=2, log_dir=tmp_path / "logs",
                        on_done=lambda job, reply: answers.setdefault(job.request.student, reply),
                        workers=workers)
    assert sorted(answers) == ["ok1", "ok2", "ok3"]
    for w in workers:        # their input is closed: they exit on their own, and close() reaps them
        assert w.proc.stdin.closed
        w.close()
        assert w.proc.returncode == 0


def test_a_recorder_that_raises_gets_an_error_reply_and_the_queue_goes_on(tmp_path):
    answers: dict[str, list[dict]] = {}

    def on_done(job: Job, reply: dict) -> None:
        answers.setdefault(job.request.student, []).append(reply)
        if job.request.student == "ok-bad" and reply["ok"]:
            raise OverflowError("date value out of range")

    scheduler.run_local(_jobs("ok-before", "ok-bad", "ok-after1", "ok-after2"), slots=1,
                        log_dir=tmp_path / "logs", on_done=on_done)
    assert sorted(answers) == ["ok-after1", "ok-after2", "ok-bad", "ok-before"]
    assert answers["ok-bad"][1] == {"ok": False, "error": "recording this result failed: "
                                                          "OverflowError: date value out of range"}
    assert all(len(answers[s]) == 1 and answers[s][0]["ok"]
               for s in ("ok-before", "ok-after1", "ok-after2"))


def test_a_recorder_that_fails_on_the_error_reply_too_stops_the_batch_loudly(tmp_path):
    workers = scheduler.start_slots(2, log_dir=tmp_path / "logs")
    recorded: list[str] = []

    def on_done(job: Job, reply: dict) -> None:
        if job.request.student == "ok-bad":
            raise OSError("the results directory is gone")
        recorded.append(job.request.student)

    # the other slot hangs: only a stop ends this batch before the two-minute deadline
    with pytest.raises(OSError, match="the results directory is gone"):
        scheduler.run_local(_jobs("ok-bad", "hang", "ok1", "ok2", deadline_s=120), slots=2,
                            log_dir=tmp_path / "logs", on_done=on_done, workers=workers)
    assert recorded == []
    for w in workers:         # killed, not left grading
        assert w.proc.poll() is not None
        w.close()

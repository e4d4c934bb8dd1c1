"""The grading queue, kept in the database, and the loop that feeds it to warm worker slots.

A submission is `queued` when its upload is committed.  A grading thread claims the oldest one
with one conditional UPDATE (`... WHERE status = 'queued'`, the candidate picked `FOR UPDATE SKIP
LOCKED` on PostgreSQL), so no two threads or processes take the same row.  Its result is recorded
only by the claim that holds it (`... WHERE status = 'running' AND claim = :claim`).  On start,
`recover` puts every `running` row back to `queued`: what a killed server was grading is graded
again, and its one result is the only one recorded.  The server never runs student code: each
thread drives a `scheduler.WorkerSlot`, a worker process that grades in the sandbox.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select, update

from grader.assignment import Assignment
from grader.build import build_id
from grader.errors import WorkerFailure
from grader.jobs import GradeRequest, Job
from grader.judge.grade import GradeOptions, empty_questions
from grader.results import Result
from grader.scheduler import WorkerSlot
from grader.serve.db import QUEUED, RUNNING, Database, Submission
from grader.text import clean_result

log = logging.getLogger("grader.serve")
START_BUDGET_S = 120.0     # a worker's start: torch, the judge, the sandbox


def claim(db: Database, claim_id: str) -> Submission | None:
    """Take the oldest queued submission for `claim_id` (marked running), or None."""
    pick = (select(Submission.id).where(Submission.status == QUEUED).order_by(Submission.id)
            .limit(1))
    if not db.sqlite:
        pick = pick.with_for_update(skip_locked=True)
    stmt = (update(Submission)
            .where(Submission.id == pick.scalar_subquery(), Submission.status == QUEUED)
            .values(status=RUNNING, claim=claim_id, claims=Submission.claims + 1,
                    started_at=time.time())
            .returning(Submission.id)
            .execution_options(synchronize_session=False))
    with db.session.begin() as s:
        sid = s.scalar(stmt)
    if sid is None:
        return None
    with db.session() as s:
        return s.get(Submission, sid)


def finish(db: Database, sub_id: int, claim_id: str, result: Result) -> bool:
    """Record `result` for the submission held by `claim_id`; False (nothing written) when the
    claim no longer holds it."""
    stmt = (update(Submission)
            .where(Submission.id == sub_id, Submission.status == RUNNING,
                   Submission.claim == claim_id)
            .values(status=result.status, result=json.dumps(result.to_dict(), allow_nan=False),
                    score=result.score, max_score=result.max_score, finished_at=time.time(),
                    claim="", gradings=Submission.gradings + 1)
            .execution_options(synchronize_session=False))
    with db.session.begin() as s:
        return s.execute(stmt).rowcount == 1


def recover(db: Database) -> int:
    """Put every `running` submission back in the queue (the server that held it is gone)."""
    stmt = (update(Submission).where(Submission.status == RUNNING)
            .values(status=QUEUED, claim="").execution_options(synchronize_session=False))
    with db.session.begin() as s:
        return s.execute(stmt).rowcount


def requeue(db: Database, ids: list[int]) -> int:
    """Queue these submissions again (a regrade); those being graded are left to finish."""
    if not ids:
        return 0
    stmt = (update(Submission).where(Submission.id.in_(ids), Submission.status != RUNNING)
            .values(status=QUEUED, claim="").execution_options(synchronize_session=False))
    with db.session.begin() as s:
        return s.execute(stmt).rowcount


def position(db: Database, sub: Submission) -> int:
    """Where a queued submission stands in the queue (1: next)."""
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Submission).where(
            Submission.status == QUEUED, Submission.id <= sub.id)) or 0


def counts(db: Database) -> dict[str, int]:
    """Submissions by status."""
    with db.session() as s:
        rows = s.execute(select(Submission.status, func.count()).group_by(Submission.status))
        return {status: n for status, n in rows}


@dataclasses.dataclass
class Setup:
    """What the grading loop needs to know of the course."""

    assignments: dict[str, Assignment]
    course: Path
    options: GradeOptions
    work_dir: Path
    log_dir: Path
    notebook_path: Callable[[Submission], Path]
    score: Callable[[Result, Submission], Result]      # applies the policy to a worker's result
    prestart: dict | None = None       # what each worker starts before its first job (worker.py)
    executor: str = "local"            # local worker processes, or "ray" actors
    ray_address: str | None = None     # the Ray cluster (None: one started on this machine)


class GradingLoop:
    """`jobs` threads, each with a warm worker slot, taking submissions off the queue."""

    def __init__(self, db: Database, setup: Setup, jobs: int = 1) -> None:
        self.db, self.setup, self.jobs = db, setup, max(1, jobs)
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.slots: list = []             # WorkerSlot, or ray_executor.RaySlot
        self.threads: list[threading.Thread] = []
        self.busy: dict[int, int | None] = {}
        self.latencies: list[float] = []       # seconds from upload to result, recent ones
        self.run_id = uuid.uuid4().hex[:12]

    def start(self) -> None:
        memory = max((a.limits.get("judge_memory_mb") or 0
                      for a in self.setup.assignments.values()), default=0)
        for i in range(self.jobs):
            if self.setup.executor == "ray":
                from grader.ray_executor import RaySlot

                slot = RaySlot(i, self.setup.log_dir, self.run_id, prestart=self.setup.prestart,
                               memory_mb=memory or None, address=self.setup.ray_address,
                               cpus=self.jobs)
            else:
                slot = WorkerSlot(i, self.setup.log_dir, self.run_id,
                                  prestart=self.setup.prestart, memory_mb=memory or None)
            slot.start()
            self.slots.append(slot)
            self.busy[i] = None
            t = threading.Thread(target=self._drive, args=(i, slot), daemon=True,
                                 name=f"grader-slot-{i}")
            t.start()
            self.threads.append(t)

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        for slot in self.slots:
            slot.kill()
        for t in self.threads:
            t.join(10)

    def _drive(self, index: int, slot: WorkerSlot) -> None:
        claim_id = f"{self.run_id}-{index}"
        while not self.stopping.is_set():
            try:
                sub = claim(self.db, claim_id)
            except Exception:  # noqa: BLE001 - a database hiccup: try again shortly
                log.exception("claiming a submission failed")
                sub = None
            if sub is None:
                self.wake.wait(0.5)
                self.wake.clear()
                continue
            self.busy[index] = sub.id
            try:
                self._grade(slot, sub, claim_id)
            except Exception:  # noqa: BLE001 - it stays running; a restart grades it again
                log.exception("grading submission %s failed", sub.id,
                              extra={"event": "grading_failed", "submission": sub.id})
            finally:
                self.busy[index] = None

    def _grade(self, slot: WorkerSlot, sub: Submission, claim_id: str) -> None:
        asg = self.setup.assignments.get(sub.assignment)
        if asg is None:
            result = self._base(sub, None, "error", "the assignment is no longer on this server")
        else:
            reply = self._run(slot, self._job(asg, sub))
            if reply is None:
                return
            result = self._result(asg, sub, reply)
        result = clean_result(self.setup.score(result, sub) if asg is not None else result)
        if self.stopping.is_set():
            return
        if finish(self.db, sub.id, claim_id, result):
            self.latencies = [*self.latencies[-999:], time.time() - sub.submitted_at]
            latency = self.latencies[-1]
            log.info("submission %s graded: %s %s/%s", sub.id, result.status, result.score,
                     result.max_score, extra={
                         "event": "graded", "submission": sub.id, "student": sub.student,
                         "assignment": sub.assignment, "status": result.status,
                         "score": result.score, "max_score": result.max_score,
                         "latency_s": round(latency, 3)})

    def _run(self, slot: WorkerSlot, job: Job) -> dict | None:
        """The worker's reply for `job`; a worker that died is restarted and given the job once
        more (flagged), one that fails again gives an error reply.  None when stopping."""
        for attempt in (0, 1):
            job.request.attempt = attempt
            try:
                reply = slot.grade(job)
            except (WorkerFailure, OSError, ValueError) as exc:
                if self.stopping.is_set():
                    return None
                slot.kill()
                died = any(w in str(exc) for w in ("exited unexpectedly", "could not reach"))
                reply = {"ok": False, "error": str(exc), "died": died}
            if reply.get("ok") or not reply.get("died") or attempt:
                if reply.get("ok") and attempt:
                    reply["result"].setdefault("flags", []).append(
                        f"graded on attempt {attempt + 1}: the worker grading it before died")
                return reply
        return None

    def _job(self, asg: Assignment, sub: Submission) -> Job:
        limits = self.setup.options.limits(asg)
        deadline = (START_BUDGET_S + limits["notebook_timeout"] + limits["judge_timeout"] + 90)
        request = GradeRequest(assignment=str(asg.directory), course=str(self.setup.course),
                               student=sub.student, path=str(self.setup.notebook_path(sub)),
                               sha256=sub.sha256, run_id=self.run_id,
                               work_root=str(self.setup.work_dir),
                               options=dataclasses.asdict(self.setup.options))
        return Job(request=request, deadline_s=deadline)

    def _result(self, asg: Assignment, sub: Submission, reply: dict) -> Result:
        if reply.get("ok"):
            result = Result.from_dict(reply["result"])
            result.submission["path"] = sub.path
            return result
        error = str(reply.get("error", "unknown error")).strip()
        last = error.splitlines()[-1] if error else "unknown error"
        if reply.get("status") == "memory":
            return self._base(sub, asg, "memory", last)
        return self._base(sub, asg, "error", f"the grader failed on this submission: {last}")

    def _base(self, sub: Submission, asg: Assignment | None, status: str, reason: str) -> Result:
        return Result(student=sub.student, assignment=sub.assignment, status=status, reason=reason,
                      max_score=asg.max_score if asg else 0.0,
                      questions=empty_questions(asg) if asg else [],
                      submission={"path": sub.path, "sha256": sub.sha256, "size": sub.size},
                      grader_version=build_id(), run_id=self.run_id,
                      environment={"sandbox": self.setup.options.sandbox,
                                   "host": socket.gethostname()})

"""What the submission service does, apart from HTTP: the course it serves, accepting an upload
under the assignment's policy, scoring a worker's result, attempt histories and the gradebook.

An upload is accepted only when every check passed, its bytes are fsynced in the store and its
row is committed; then its receipt (id, sha256) exists and the queue holds it.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from grader import assignment as assignment_mod
from grader import manual as manual_mod
from grader import policy as policy_mod
from grader.assignment import Assignment
from grader.errors import RefusedError, SubmissionError, UsageError
from grader.judge.grade import GradeOptions
from grader.lms import Roster
from grader.notebook import parse_notebook
from grader.results import Result
from grader.serve import queue
from grader.serve.db import (Database, ExtensionRow, ManualGradeRow, ServerLock, Student,
                             Submission, default_url)
from grader.serve.store import NotebookStore
from grader.text import clean, clean_result


@dataclass
class Config:
    """How `grader serve` was started."""

    course: Path
    roster: Path
    data: Path
    db: str | None = None
    jobs: int = 1
    sandbox: str = "auto"
    https: bool = False
    unsafe_no_cgroups: bool = False
    executor: str = "local"           # local worker slots, or "ray" actors
    ray_address: str | None = None
    body_timeout_s: float = 30.0      # a client sending nothing for this long is answered 408


EXPORTS = ("grades", "otter", "canvas")
ANSWER_CACHE = 4096       # notebooks whose manual answers are kept in memory


def epoch(t: datetime) -> float:
    return t.timestamp()


def as_time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


class Service:
    """The course, the database, the notebook store and the grading loop."""

    def __init__(self, config: Config, *, clock=policy_mod.utc_now) -> None:
        self.config, self.clock = config, clock
        self.course = Path(config.course).resolve()
        names = assignment_mod.list_names(self.course)
        if not names:
            raise UsageError(f"no assignments under {self.course / 'solutions'}")
        self.assignments = {n: assignment_mod.load(n, self.course) for n in names}
        self.roster = Roster.load(Path(config.roster))
        config.data.mkdir(parents=True, exist_ok=True)
        self.db = Database(config.db or default_url(config.data))
        self.db.sync_roster([(r["student"], r.get("name", "")) for r in self.roster.rows])
        self.db.sync_assignments([(a.name, a.title, a.max_score)
                                  for a in self.assignments.values()])
        self.store = NotebookStore(config.data / "notebooks")
        self.options = GradeOptions(sandbox=config.sandbox, warm=True,
                                    unsafe_no_cgroups=config.unsafe_no_cgroups)
        self.loop: queue.GradingLoop | None = None
        self.lock: ServerLock | None = None
        self._manual_seed: str | None = None
        self._answers: dict[tuple[str, str], dict] = {}     # (sha256, assignment): answers
        self._answers_lock = threading.Lock()

    # -- the grading loop ------------------------------------------------------------------
    def start_grading(self) -> int:
        """Put interrupted submissions back in the queue and start the worker slots; returns
        how many were put back."""
        from grader.sandbox import resolve_backend

        if self.lock is None:
            self.lock = ServerLock(self.config.data, self.db)
        backend = resolve_backend(self.config.sandbox)
        backend.check_limits(unsafe_no_cgroups=self.config.unsafe_no_cgroups)
        self.options = GradeOptions(sandbox=backend.name, warm=True,
                                    unsafe_no_cgroups=self.config.unsafe_no_cgroups)
        recovered = queue.recover(self.db)
        work = self.config.data / "work"
        work.mkdir(exist_ok=True)
        setup = queue.Setup(assignments=self.assignments, course=self.course, options=self.options,
                            work_dir=work, log_dir=self.config.data / "logs",
                            notebook_path=lambda sub: self.store.path(sub.path).resolve(),
                            score=self.score, prestart=self._prestart(backend.name, work),
                            executor=self.config.executor, ray_address=self.config.ray_address)
        self.loop = queue.GradingLoop(self.db, setup, jobs=self.config.jobs)
        self.loop.start()
        return recovered

    def _prestart(self, sandbox: str, work: Path) -> dict:
        """Each slot's head start, as the batch gives it: the judge and the first assignment's
        suite loaded, and under bubblewrap its zygote started, before the first upload."""
        first = next(iter(self.assignments.values()))
        return {"warm": True, "assignment": str(first.directory), "course": str(self.course),
                "zygote_work": str(work) if sandbox == "bwrap" else None,
                "unsafe_no_cgroups": self.config.unsafe_no_cgroups, "jobs_per_slot": 2}

    def stop_grading(self) -> None:
        if self.loop is not None:
            self.loop.stop()
            self.loop = None

    def close(self) -> None:
        self.stop_grading()
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        self.db.close()

    # -- policy ----------------------------------------------------------------------------
    def assignment(self, name: str) -> Assignment:
        asg = self.assignments.get(name) if isinstance(name, str) else None
        if asg is None:
            raise RefusedError(f"there is no assignment {clean(name, 80)!r}; open ones: "
                               f"{', '.join(self.assignments)}", 404)
        return asg

    def extension(self, student: str, asg: Assignment) -> policy_mod.Extension | None:
        with self.db.session() as s:
            row = s.scalar(select(ExtensionRow).where(ExtensionRow.student == student,
                                                      ExtensionRow.assignment == asg.name))
        if row is None:
            return None
        if row.due is not None:
            return policy_mod.Extension(student, due=as_time(row.due))
        return policy_mod.Extension(student, extra_hours=row.extra_hours)

    def set_extension(self, student: str, asg: Assignment, *, due: datetime | None = None,
                      extra_hours: float = 0.0) -> None:
        """Give `student` a new deadline or extra hours on `asg` (both empty: none)."""
        with self.db.session.begin() as s:
            if s.get(Student, student) is None:
                raise RefusedError(f"no student {clean(student, 80)!r} on the roster", 404)
            row = s.scalar(select(ExtensionRow).where(ExtensionRow.student == student,
                                                      ExtensionRow.assignment == asg.name))
            if row is None:
                row = ExtensionRow(student=student, assignment=asg.name)
                s.add(row)
            row.due = epoch(due) if due is not None else None
            row.extra_hours = extra_hours

    def deadline(self, student: str, asg: Assignment) -> datetime | None:
        ext = self.extension(student, asg)
        if asg.policy.due is None:
            return None
        return ext.deadline(asg.policy.due) if ext else asg.policy.due

    def score(self, result: Result, sub: Submission) -> Result:
        """`result` scored under the policy at the submission's upload time."""
        asg = self.assignments[sub.assignment]
        raw = result.raw_score()
        result.lateness = policy_mod.applied(asg.policy, raw, as_time(sub.submitted_at),
                                             time_source="server",
                                             extension=self.extension(sub.student, asg))
        result.score = result.lateness.get("final_score", raw)
        return result

    # -- uploads ---------------------------------------------------------------------------
    def max_bytes(self, asg: Assignment) -> int:
        return int(self.options.limits(asg)["max_notebook_mb"] * 2**20)

    def accept(self, student: str, assignment: str, raw: bytes, filename: str = "") -> Submission:
        """Check and keep one upload; RefusedError with the reason when it cannot be taken."""
        asg = self.assignment(assignment)
        limit = self.max_bytes(asg)
        if len(raw) > limit:
            raise RefusedError(f"the notebook is {len(raw) / 2**20:.1f} MiB, over the "
                               f"{limit / 2**20:g} MiB limit; clear large outputs and save again",
                               413)
        if not raw:
            raise RefusedError("the notebook file is empty; choose your .ipynb file", 422)
        try:
            parse_notebook(raw)
        except SubmissionError as exc:
            raise RefusedError(str(exc), 422) from None
        now = self.clock()
        self._check_deadline(student, asg, now)
        sha, rel = self.store.put(raw)
        with self.db.session.begin() as s:
            s.get(Student, student, with_for_update=True)     # one upload of a student at a time
            self._check_attempts(s, student, asg, now)
            sub = Submission(student=student, assignment=asg.name, sha256=sha, path=rel,
                             size=len(raw), filename=clean(Path(filename or "").name, 200),
                             submitted_at=epoch(now), status=queue.QUEUED)
            s.add(sub)
        if self.loop is not None:
            self.loop.wake.set()
        return sub

    def _check_deadline(self, student: str, asg: Assignment, now: datetime) -> None:
        late = policy_mod.lateness(asg.policy, now, self.extension(student, asg))
        if late.zeroed:
            raise RefusedError(f"the cutoff for {asg.name} has passed: {late.sentence}", 403)
        if late.refused:
            raise RefusedError(f"the deadline for {asg.name} has passed and late work is not "
                               f"accepted ({late.sentence})", 403)

    def _check_attempts(self, s, student: str, asg: Assignment, now: datetime) -> None:
        times = [as_time(t) for t in s.scalars(select(Submission.submitted_at).where(
            Submission.student == student, Submission.assignment == asg.name))]
        p = asg.policy
        if p.attempts is not None and len(times) >= p.attempts:
            raise RefusedError(f"no attempts left: {asg.name} allows {p.attempts} and you have "
                               f"made {len(times)}", 429)
        recent = sorted(t for t in times if now - t < timedelta(hours=1))
        if p.rate is not None and len(recent) >= p.rate:
            wait = recent[-int(p.rate)] + timedelta(hours=1) - now
            raise RefusedError(f"too many attempts: {asg.name} allows {p.rate:g} an hour; try "
                               f"again in {policy_mod.duration(wait.total_seconds())}", 429)

    def attempts_left(self, student: str, asg: Assignment) -> int | None:
        if asg.policy.attempts is None:
            return None
        return max(0, asg.policy.attempts - len(self.history(student, asg.name)))

    # -- reading back ----------------------------------------------------------------------
    def get(self, sub_id: int) -> Submission | None:
        with self.db.session() as s:
            return s.get(Submission, sub_id)

    def history(self, student: str, assignment: str | None = None) -> list[Submission]:
        with self.db.session() as s:
            q = select(Submission).where(Submission.student == student)
            if assignment is not None:
                q = q.where(Submission.assignment == assignment)
            return list(s.scalars(q.order_by(Submission.id)))

    def counted(self, subs: list[Submission], asg: Assignment) -> Submission | None:
        """The attempt that counts among one student's `subs` on `asg` (policy.counts)."""
        done = [x for x in subs if x.result is not None]
        if not done:
            return None
        choice = policy_mod.choose_attempt(asg.policy, [(as_time(x.submitted_at), x.score or 0.0)
                                                        for x in done])
        return done[choice.counted] if choice.counted is not None else None

    def result(self, sub: Submission) -> Result | None:
        """The submission's record, with the hand grades of its manual questions merged in (and
        the policy applied again to the sum)."""
        if sub.result is None:
            return None
        result = clean_result(Result.from_dict(json.loads(sub.result)))
        asg = self.assignments.get(sub.assignment)
        if asg is not None and asg.manual:
            manual_mod.merge(result, asg, self.manual_grades(sub.student, asg),
                             self.answers(sub, asg))
            result = self.score(result, sub)
        return result

    def scores(self, sub: Submission) -> tuple[float | None, float | None]:
        """(score, max_score) as shown: with the hand grades merged where the assignment has
        manual questions (the stored row holds the autograded score)."""
        asg = self.assignments.get(sub.assignment)
        if sub.result is not None and asg is not None and asg.manual:
            merged = self.result(sub)
            return merged.score, merged.max_score
        return sub.score, sub.max_score

    # -- manual grading ------------------------------------------------------------------
    def manual_question(self, asg: Assignment, qid: str):
        q = next((q for q in asg.manual if q.id == qid), None)
        if q is None:
            raise RefusedError(f"{asg.name} has no manual question {clean(qid, 40)!r}", 404)
        return q

    def answers(self, sub: Submission, asg: Assignment) -> dict:
        """The notebook's answers to `asg`'s manual questions, read once per notebook: the store
        is content-addressed, so a sha256's answers never change (the pages and every score
        shown ask again on each view)."""
        key = (sub.sha256, asg.name)
        with self._answers_lock:           # pages are served from several threads
            found = self._answers.get(key)
        if found is None:
            found = manual_mod.answers(self.store.path(sub.path), asg)
            with self._answers_lock:
                while len(self._answers) >= ANSWER_CACHE:
                    self._answers.pop(next(iter(self._answers)))
                self._answers[key] = found
        return found

    def manual_seed(self) -> str:
        """The seed of the grading pages' opaque ids and order, kept under --data."""
        from grader.reports.manual_pages import seed_for

        if self._manual_seed is None:
            self._manual_seed = seed_for(self.config.data, None)
        return self._manual_seed

    def manual_grades(self, student: str, asg: Assignment) -> dict:
        """{(student, question): manual.Grade} of `student` on `asg`."""
        with self.db.session() as s:
            rows = list(s.scalars(select(ManualGradeRow).where(
                ManualGradeRow.student == student, ManualGradeRow.assignment == asg.name)))
        return {(r.student, r.question): self._grade(r) for r in rows}

    @staticmethod
    def _grade(row: ManualGradeRow):
        return manual_mod.Grade(points=row.points, items=json.loads(row.items),
                                comment=row.comment, grader=row.grader,
                                graded_at=policy_mod.format_time(as_time(row.graded_at)),
                                sha256=row.sha256)

    def manual_entries(self, asg: Assignment, q) -> list[dict]:
        """The answers to manual question `q`, one per student with a graded attempt (the one
        that counts), in the pages' stable shuffled order under opaque ids: aid, student,
        submission, answer (or None), and the grade row's state."""
        from grader.reports.manual_pages import ordered

        with self.db.session() as s:
            rows = {r.student: r for r in s.scalars(select(ManualGradeRow).where(
                ManualGradeRow.assignment == asg.name, ManualGradeRow.question == q.id))}
        out = []
        for aid, student in ordered(self.manual_seed(), [st.id for st in self.students()]):
            best = self.counted(self.history(student, asg.name), asg)
            if best is None:
                continue
            answer = self.answers(best, asg).get(q.id)
            row = rows.get(student)
            digest = answer.sha256 if answer is not None else ""
            state = ("pending" if row is None else
                     "graded" if row.sha256 == digest else "changed")
            out.append({"aid": aid, "student": student, "submission": best, "answer": answer,
                        "sha256": digest, "row": row, "state": state,
                        "version": row.version if row else 0})
        return out

    def manual_entry(self, asg: Assignment, q, aid: str) -> tuple[list[dict], int]:
        entries = self.manual_entries(asg, q)
        for i, e in enumerate(entries):
            if e["aid"] == aid:
                return entries, i
        raise RefusedError(f"no answer {clean(aid, 20)!r} to {asg.name} {q.id}", 404)

    def save_manual(self, grader: str, asg: Assignment, q, aid: str, *, items: list[int],
                    comment: str, points: float | None, seen_version: int,
                    seen_sha256: str) -> dict:
        """Save `grader`'s grade of answer `aid`; refused (409) when another grader saved it
        after the version this grader saw, or when the answer changed since."""
        from sqlalchemy.exc import IntegrityError

        entries, i = self.manual_entry(asg, q, aid)
        entry = entries[i]
        if entry["sha256"] != seen_sha256:
            raise RefusedError("the student handed in another answer since this page was "
                               "opened; reload it and grade the new answer", 409)
        if any(not 1 <= k <= len(q.rubric) for k in items):
            raise RefusedError(f"{q.id}'s rubric has items 1 to {len(q.rubric)}", 422)
        if q.rubric:
            points = q.rubric_score(items)
        elif points is None:
            raise RefusedError(f"{q.id} has no rubric: give its points (0 to {q.points:g})", 422)
        if not 0 <= points <= q.points:
            raise RefusedError(f"{q.id} is worth 0 to {q.points:g} points", 422)
        student = entry["student"]
        try:
            with self.db.session.begin() as s:
                row = s.scalar(select(ManualGradeRow).where(
                    ManualGradeRow.student == student, ManualGradeRow.assignment == asg.name,
                    ManualGradeRow.question == q.id).with_for_update())
                current = row.version if row is not None else 0
                if current != seen_version:
                    raise self._stale(row)
                if row is None:
                    row = ManualGradeRow(student=student, assignment=asg.name, question=q.id,
                                         version=0)
                    s.add(row)
                row.points, row.items = float(points), json.dumps(sorted(set(items)))
                row.comment, row.grader = clean(comment, 4000), clean(grader, 200)
                row.graded_at, row.sha256 = epoch(self.clock()), entry["sha256"]
                row.version = current + 1
                saved = {"aid": aid, "question": q.id, "points": row.points,
                         "version": row.version, "grader": row.grader}
        except IntegrityError:       # another grader's first save of it came in between
            with self.db.session() as s:
                raise self._stale(s.scalar(select(ManualGradeRow).where(
                    ManualGradeRow.student == student, ManualGradeRow.assignment == asg.name,
                    ManualGradeRow.question == q.id))) from None
        return saved

    @staticmethod
    def _stale(row: ManualGradeRow | None) -> RefusedError:
        who = (f"{row.grader} saved a grade of it at "
               f"{policy_mod.format_time(as_time(row.graded_at))}" if row is not None
               else "its grade was removed")
        return RefusedError(f"not saved: {who} after you opened it; reload to see that grade, "
                            "then save yours again if you still mean it", 409)

    def report_html(self, sub: Submission, *, staff: bool) -> str:
        """The student's report, as reports/<id>.html shows it; a student sees what the
        policy's feedback allows now."""
        from grader.reports.feedback import html

        result = self.result(sub)
        asg = self.assignments.get(sub.assignment)
        view = "full"
        if not staff and asg is not None:
            view = policy_mod.feedback_level(asg.policy, self.clock(),
                                             self.deadline(sub.student, asg))
        return html(result, view)

    def students(self) -> list[Student]:
        with self.db.session() as s:
            return list(s.scalars(select(Student).order_by(Student.id)))

    def gradebook(self) -> str:
        """grades.csv: one row per student and assignment, the attempt that counts."""
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["student", "assignment", "score", "max_score", "status", "attempts",
                    "submission"])
        for st in self.students():
            for asg in self.assignments.values():
                subs = self.history(st.id, asg.name)
                best = self.counted(subs, asg)
                merged = self.result(best) if best is not None else None
                w.writerow([st.id, asg.name, "" if merged is None else f"{merged.score:g}",
                            f"{asg.max_score:g}", best.status if best else "missing", len(subs),
                            best.id if best else ""])
        return out.getvalue()

    def counted_results(self, asg: Assignment) -> list[Result]:
        """Per roster student, the result of the attempt that counts on `asg` (a `missing` row
        for a student with none graded)."""
        from grader.judge.grade import empty_questions

        out = []
        for st in self.students():
            best = self.counted(self.history(st.id, asg.name), asg)
            out.append(self.result(best) if best is not None else Result(
                student=st.id, assignment=asg.name, status="missing", max_score=asg.max_score,
                reason="no graded submission", questions=empty_questions(asg)))
        return out

    def export(self, asg: Assignment, fmt: str) -> str:
        """The batch's gradebook of `asg` in `fmt` (EXPORTS), from the attempts that count."""
        from grader.reports import gradebook

        results = self.counted_results(asg)
        if fmt == "grades":
            return gradebook.grades_csv(results, asg)
        if fmt == "otter":
            return gradebook.otter_csv(results, asg)
        if fmt == "canvas":
            return gradebook.canvas_csv(results, asg, self.roster.rows)
        raise RefusedError(f"unknown export {clean(fmt, 40)!r}; choose one of "
                           f"{', '.join(EXPORTS)}", 404)

    def submissions_zip(self) -> bytes:
        """Every stored submission as a zip: <student>/<id>-<sha256 start>.ipynb."""
        import zipfile

        from grader.intake import student_id

        out = io.BytesIO()
        with self.db.session() as s:
            subs = list(s.scalars(select(Submission).order_by(Submission.id)))
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for sub in subs:
                z.write(self.store.path(sub.path),
                        f"{student_id(sub.student)}/{sub.id}-{sub.sha256[:12]}.ipynb")
        return out.getvalue()

    def regrade(self, student: str | None = None) -> int:
        """Queue every submission again (one student's when given)."""
        with self.db.session() as s:
            q = select(Submission.id)
            if student is not None:
                q = q.where(Submission.student == student)
            ids = list(s.scalars(q))
        n = queue.requeue(self.db, ids)
        if self.loop is not None:
            self.loop.wake.set()
        return n

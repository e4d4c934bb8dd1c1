"""The library API: everything the CLI does, callable from Python (keyword-only arguments)."""

from __future__ import annotations

import dataclasses
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from grader import assignment as assignment_mod
from grader import intake
from grader import policy as policy_mod
from grader.assignment import Assignment
from grader.build import build_id
from grader.errors import StoreError, UsageError
from grader.judge.grade import GradeOptions, check_points, check_suite, empty_questions
from grader.reports import write_reports
from grader.results import Result
from grader.sandbox import resolve_backend
from grader.jobs import GradeRequest, InventoryRequest, Job
from grader.scheduler import run_local, start_slots
from grader.store import Store
from grader.text import clean_flags, clean_result

START_BUDGET_S = 120.0


@dataclass
class BatchResult:
    """What a `grade` call produced."""

    results: list[Result]
    out: Path
    sandbox: str
    graded_now: int = 0
    reused: int = 0
    wall_s: float = 0.0
    files: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def load_assignment(name_or_path: str, *, course: Path | str | None = None) -> Assignment:
    """Load an assignment by name (under `course`/solutions) or by path."""
    return assignment_mod.load(name_or_path, Path(course) if course else None)


def list_assignments(*, course: Path | str | None = None) -> list[Assignment]:
    """Every assignment under `course`/solutions, loaded and validated."""
    root = Path(course) if course else Path.cwd()
    return [assignment_mod.load(n, root) for n in assignment_mod.list_names(root)]


def grade(submissions: Path | str, *, assignment: str, out: Path | str, jobs: int | None = None,
          sandbox: str = "auto", timeout: float | None = None, course: Path | str | None = None,
          torch_threads: int = 1, roster: Path | str | None = None, formats: tuple[str, ...] = (),
          executor: str = "local", ray_address: str | None = None, image: str | None = None,
          gpus: str = "auto", limits: dict | None = None, warm: bool = True,
          unsafe_no_cgroups: bool = False, seeds: dict[str, tuple[int, tuple[str, ...] | None]] | None = None,
          extensions: Path | str | None = None, submitted_at: Path | str | None = None,
          times: str | None = None, now: datetime | None = None,
          manual: Path | str | list | None = None, manual_key: Path | str | None = None,
          on_result: Callable[[Result, int, int, bool], None] | None = None) -> BatchResult:
    """Grade every notebook in `submissions` (a directory, one notebook, or an LMS zip) against
    `assignment`, writing results and reports under `out`.

    Results already in `out` made from the same notebook, suite, options and grader version are
    reused.  With a `roster`, every enrolled student gets a row (`missing` when nothing came in).
    `formats` adds gradebook exports ("otter", "canvas").  `gpus` (auto | none | all | "0,1") gives
    each worker slot one GPU in turn; auto does when the assignment's gpu is not "none".
    `executor="ray"` runs the worker slots
    as Ray actors (on the cluster at `ray_address`, else a local Ray instance).
    `limits` overrides the assignment's limits (keys of LIMIT_KEYS: memory_mb, cpu_seconds, processes,
    disk_mb, output_kb, ...).  `warm=False` starts a fresh sandbox and pytest run per submission.
    `on_result(result, done, total, reused)` is called once per submission.
    `seeds` (what `verify` uses) maps a student to `(n, questions)`: their notebook's hidden tests
    of `questions` (all when None) run again on the same process under n - 1 further seeds, into
    `result.trials`; those students are always graded anew.
    bubblewrap grading refuses to start (SandboxError) where no pids and memory cgroup can be set
    for each submission; `unsafe_no_cgroups=True` grades there with rlimits only, and flags every
    result.
    The assignment's [policy] (grader.policy) scores late work: `submitted_at` is a CSV
    `student,submitted_at` of submission times (they override a Gradescope export's), `times="mtime"`
    takes the files' modification times where nothing else gives one (extraction and copying
    change them), `extensions` a CSV `student,due` or `student,extra_hours`.  The penalty is applied
    to the raw score each run, stored results included: a policy change regrades nothing.  `now`
    (default: the real clock) decides what the reports show before the deadline.
    `manual` is a manual.csv, or a list of them (grader.manual.load_grades; `grader manual` makes
    the pages that write it), whose anonymous ids `manual_key` (default: a manual-key.csv beside
    each CSV) maps to students: its scores join each record when it is recorded, so it regrades
    nothing; until a question is graded, it is to be graded by hand.
    """
    started = time.monotonic()
    _check_paths(submissions, out)
    jobs = _check_jobs(jobs)
    if timeout is not None and timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    _check_formats(formats, roster)
    if times is not None and times not in intake.TIME_SOURCES:
        raise UsageError(f"unknown --times {times!r}; the only one is: "
                         f"{', '.join(intake.TIME_SOURCES)}")
    time_table = policy_mod.load_times(Path(submitted_at)) if submitted_at else {}
    extension_table = policy_mod.load_extensions(Path(extensions)) if extensions else {}
    now = now or policy_mod.utc_now()
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor {executor!r}; choose one of: {', '.join(EXECUTORS)}")
    course_dir = Path(course).resolve() if course else Path.cwd().resolve()
    asg = assignment_mod.load(assignment, course_dir)
    from grader import manual as manual_mod

    grades = manual_mod.load_all(manual, asg, key=manual_key)
    from grader.sandbox import gpu as gpu_mod

    gpu_list = gpu_mod.plan(gpus, asg.gpu, gpu_mod.detect() if gpus != "none" else [])
    backend = resolve_backend(sandbox, image=image)
    backend.check_limits(unsafe_no_cgroups=unsafe_no_cgroups)
    options = GradeOptions(sandbox=backend.name, timeout=timeout, torch_threads=torch_threads, image=image,
                           overrides=_check_limits(limits or {}), warm=warm,
                           unsafe_no_cgroups=unsafe_no_cgroups)
    roster_path = Path(roster) if roster else None
    with Store(Path(out)) as store:
        found = intake.collect(Path(submissions), max_bytes=int(options.limits(asg)["max_notebook_mb"] * 2**20),
                               roster=roster_path, extract_dir=store.out / ".intake")
        intake.apply_times(found, times=time_table, source=times, needed=asg.policy.due is not None)
        intake.unknown(found, extension_table, "--extensions", enrolled=True)
        manual_mod.unknown(found, grades)
        run = _BatchRun(asg, options, store, found, on_result, sandbox=backend.name, seeds=seeds or {},
                        extensions=extension_table, grades=grades)
        todo = run.reuse_or_queue()
        workers = None
        prestart = {"warm": warm, "assignment": str(asg.directory), "course": str(course_dir),
                    "zygote_work": str(store.work_dir) if backend.name == "bwrap" else None,
                    "unsafe_no_cgroups": unsafe_no_cgroups,
                    # a slot with one submission starts its zygote without the warm-up
                    "jobs_per_slot": -(-len(todo) // max(1, min(jobs, len(todo) or 1)))}
        judge_mb = options.limits(asg)["judge_memory_mb"]
        if todo and executor == "local":     # they load torch and the judge while the suite is checked
            workers = start_slots(min(jobs, len(todo)), log_dir=store.out / "logs", label=run.run_id,
                                  gpus=gpu_list, prestart=prestart, memory_mb=judge_mb)
        try:
            # the suite is checked only when something is graded: stored results were made with it
            n_tests = len(_checked_suite(asg, workers, warm, course_dir)) if todo else 0
            pending = [_job(asg, sub, options, course_dir, run.run_id, n_tests, store.work_dir,
                            run.seeds.get(sub.student)) for sub in todo]
            if executor == "ray":
                from grader.ray_executor import run_ray

                for job in pending:
                    job.request.work_root = None          # each node makes its own
                run_ray(pending, slots=jobs, log_dir=store.out.resolve() / "logs", on_done=run.done,
                        address=ray_address, label=run.run_id, gpus_per_slot=1 if gpu_list else 0,
                        prestart=prestart, memory_mb=judge_mb)
            elif pending:
                run_local(pending, slots=jobs, log_dir=store.out / "logs", on_done=run.done, label=run.run_id,
                          gpus=gpu_list, workers=workers)
            for w in workers or []:      # they stop their zygotes while the reports are written
                w.finish()
            run.batch.files.update(write_reports(store.out, run.batch.results, asg, formats=formats,
                                                 roster=roster_path, problems=run.batch.notes, now=now))
        finally:
            for w in workers or []:
                w.close()
    run.batch.wall_s = time.monotonic() - started
    return run.batch


class _BatchRun:
    """One `grade` call's bookkeeping: every result goes through `record`, once per submission."""

    def __init__(self, asg: Assignment, options: GradeOptions, store: Store, found: intake.Intake,
                 on_result, *, sandbox: str, seeds: dict, extensions: dict | None = None,
                 grades: dict | None = None) -> None:
        self.asg, self.options, self.store, self.found, self.on_result = asg, options, store, found, on_result
        self.seeds, self.extensions, self.grades = seeds, extensions or {}, grades or {}
        self.handed_in = {s.student: s for s in found.submissions}
        self.run_id = uuid.uuid4().hex[:12]
        self.suite_hash, self.config_hash = asg.suite_hash(), options.config_hash(asg)
        self.batch = BatchResult(results=[], out=store.out, sandbox=sandbox, notes=found.notes)
        self.flags = {s.student: list(s.flags) for s in [*found.submissions, *found.rejected]}
        self.total = len(found.submissions) + len(found.rejected) + len(found.missing)

    def record(self, result: Result, reused: bool) -> None:
        """Clean `result` (every string from the submission made safe and capped), store it unless
        it was reused, and hand it on: the one way into the batch's results and reports."""
        intake_flags = clean_flags(self.flags.get(result.student, []))
        if result.submission.get("flags", []) != intake_flags:
            result.submission = {**result.submission, "flags": intake_flags}
            reused = False
        manual_changed = self.apply_manual(result)
        policy_changed = self.apply_policy(result) or manual_changed
        result = clean_result(result)
        if not reused or policy_changed:
            try:
                self.store.save(result)
            except StoreError as exc:
                result.flags.append(str(exc))
        self.batch.results.append(result)
        self.batch.reused += reused
        self.batch.graded_now += not reused
        if self.on_result:
            self.on_result(result, len(self.batch.results), self.total, reused)

    def apply_manual(self, result: Result) -> bool:
        """Put the manual questions' grades into `result` (a stored record's too, replacing what
        it held): whether anything changed.  The reuse key is untouched: a grade regrades
        nothing."""
        from grader import manual as manual_mod

        if not self.asg.manual:
            return False
        before = (result.score, result.max_score, [q.manual for q in result.questions],
                  list(result.flags))
        sub = self.handed_in.get(result.student)
        found = manual_mod.answers(sub.path, self.asg) if sub is not None else None
        manual_mod.merge(result, self.asg, self.grades, found)
        return before != (result.score, result.max_score, [q.manual for q in result.questions],
                          list(result.flags))

    def apply_policy(self, result: Result) -> bool:
        """Score `result` under the assignment's policy from its raw score (a stored record's
        too); whether its score or lateness changed."""
        before = (result.score, result.lateness)
        raw = result.raw_score()
        sub = self.handed_in.get(result.student)
        result.lateness = policy_mod.applied(
            self.asg.policy, raw, sub.submitted_at, time_source=sub.time_source,
            extension=self.extensions.get(result.student)) if sub is not None else {}
        result.score = result.lateness.get("final_score", raw)
        return (result.score, result.lateness) != before

    def reuse_or_queue(self) -> list[intake.Submission]:
        """Record what needs no grading (bad files, missing students, stored results); return the rest."""
        for bad in self.found.rejected:
            self.record(self._base(bad.student, status="invalid", reason=bad.reason,
                                   submission={"path": str(bad.path), "sha256": bad.sha256, "size": bad.size}),
                        False)
        for student in self.found.missing:
            self.record(self._base(student, status="missing", reason="no submission was received"), False)
        pending = []
        for sub in self.found.submissions:
            if sub.student in self.seeds:         # verify's further seeds: always graded anew
                pending.append(sub)
                continue
            hit = self.store.reusable(sub.student, sha256=sub.sha256, suite_hash=self.suite_hash,
                                      config_hash=self.config_hash, grader_version=build_id())
            if hit is not None:
                self.record(hit, True)
            else:
                pending.append(sub)
        return pending

    def done(self, job: Job, reply: dict) -> None:
        """A worker's answer for `job`: its result, or an `error` row with the reason."""
        if reply.get("ok"):
            result = Result.from_dict(reply["result"])
            result.submission["path"] = job.request.path
            if job.request.attempt:
                result.flags.append(f"graded on attempt {job.request.attempt + 1}: the worker "
                                    "grading it before died")
            self.record(result, False)
            return
        error = reply.get("error", "unknown error")
        last = error.strip().splitlines()[-1] if error.strip() else error
        req = job.request
        if reply.get("status") == "memory":     # the judge's own memory limit held: the submission's outcome
            self.record(self._base(req.student, status="memory", reason=last,
                                   submission={"path": req.path, "sha256": req.sha256, "size": 0}), False)
            return
        self.record(self._base(req.student, status="error",
                               reason=f"the grader failed on this submission: {last}",
                               submission={"path": req.path, "sha256": req.sha256, "size": 0}), False)

    def _base(self, student: str, **kw) -> Result:
        return Result(student=student, assignment=self.asg.name, max_score=self.asg.max_score,
                      questions=empty_questions(self.asg), suite_hash=self.suite_hash,
                      config_hash=self.config_hash, grader_version=build_id(), run_id=self.run_id,
                      environment={"sandbox": self.options.sandbox, "host": socket.gethostname()}, **kw)


def _check_paths(submissions, out) -> None:
    if not Path(submissions).exists():
        raise UsageError(f"submissions path {submissions} does not exist")
    if Path(out).exists() and not Path(out).is_dir():
        raise UsageError(f"output path {out} exists and is not a directory")


FORMATS = ("otter", "canvas")
EXECUTORS = ("local", "ray")


def _check_formats(formats, roster) -> None:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"unknown gradebook format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    if "canvas" in formats and not roster:
        raise UsageError("--format canvas needs --roster with the students' Canvas ids")


def _check_limits(limits: dict) -> dict:
    for key, value in limits.items():
        if key not in assignment_mod.LIMIT_KEYS:
            raise UsageError(f"unknown limit {key!r}; known: {', '.join(assignment_mod.LIMIT_KEYS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise UsageError(f"the {key} limit must be a positive number, not {value!r}")
    return dict(limits)


def _check_jobs(jobs: int | None) -> int:
    if jobs is None:
        return os.cpu_count() or 1
    if not isinstance(jobs, int) or jobs < 1:
        raise UsageError(f"--jobs must be a whole number of at least 1, not {jobs!r}")
    return jobs


SUITE_CHECK_DEADLINE_S = 300.0


def _checked_suite(asg: Assignment, workers, warm: bool, course: Path) -> list:
    """The hidden suite's tests with their points checked (AssignmentError if they do not add up).
    A started worker slot is asked for them: it collects the suite for its first job anyway, so
    this process never imports torch and the test modules for it.  Without one, or if it fails,
    the suite is collected here."""
    from grader.errors import AssignmentError, WorkerFailure
    from grader.judge.plugin import Outcome

    if workers:
        request = InventoryRequest(assignment=str(asg.directory), course=str(course), warm=warm)
        try:
            reply = workers[0].grade(Job(request=request, deadline_s=SUITE_CHECK_DEADLINE_S))
        except WorkerFailure:
            workers[0].kill()          # restarted by its first job
            reply = {}
        if reply.get("assignment_error"):
            raise AssignmentError(str(reply["assignment_error"]))
        if reply.get("ok") and isinstance(reply.get("items"), list):
            return check_points(asg, [Outcome(str(n), str(name), str(q), float(p)) for n, name, q, p in reply["items"]])
    return check_suite(asg)


def _job(asg: Assignment, sub: intake.Submission, options: GradeOptions, course: Path, run_id: str,
         n_tests: int, work_root: Path, seeds: tuple[int, tuple[str, ...] | None] | None = None) -> Job:
    limits = options.limits(asg)
    runs = seeds[0] if seeds else 1       # each run of the hidden tests has a judging time of its own
    probes_s = runs * min(n_tests * (limits["probe_timeout"] + 5), limits["judge_timeout"] + 30)
    deadline = START_BUDGET_S + limits["notebook_timeout"] + probes_s + 60
    request = GradeRequest(assignment=str(asg.directory), course=str(course), student=sub.student,
                           path=str(sub.path), sha256=sub.sha256, run_id=run_id, work_root=str(work_root),
                           options=dataclasses.asdict(options), seeds=seeds[0] if seeds else 1,
                           questions=list(seeds[1]) if seeds and seeds[1] is not None else None)
    return Job(request=request, deadline_s=deadline)


def manual(submissions: Path | str, *, assignment: str, out: Path | str,
           course: Path | str | None = None, roster: Path | str | None = None,
           seed: str | None = None) -> dict[str, Path]:
    """The grading pages of `assignment`'s manual questions for the notebooks in `submissions`
    (as for `grade`: a directory, one notebook or an LMS zip): OUT/<question>.html each, with
    every answer under an opaque id in a stable shuffled order keyed by `seed` (default: the
    one kept in OUT/.manual-seed, else a new one), and OUT/manual-key.csv mapping the ids to
    students.  Returns the files written, by question (and "key")."""
    from grader import manual as manual_mod
    from grader.reports import manual_pages

    _check_paths(submissions, out)
    course_dir = Path(course).resolve() if course else Path.cwd().resolve()
    asg = assignment_mod.load(assignment, course_dir)
    if not asg.manual:
        raise UsageError(f"{asg.name} has no manual questions: mark one `manual = true`, with a "
                         "rubric, in its assignment.toml")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    found = intake.collect(Path(submissions), max_bytes=int(asg.limits["max_notebook_mb"] * 2**20),
                           roster=Path(roster) if roster else None, extract_dir=out / ".intake")
    by_student = {s.student: manual_mod.answers(s.path, asg) for s in found.submissions}
    return manual_pages.write_pages(out, asg, by_student, manual_pages.seed_for(out, seed))


FORGERS_NOTEBOOK = "forging runners"      # the name of verify's forging-runner check (grader.verify)
VERIFY_SEEDS = 20       # seeds each mutant and the solution are graded under


def assign(names: list[str] | None = None, *, course: Path | str | None = None,
           check: bool = False) -> dict[str, list[str]]:
    """Release assignments into assignments/<name>/ with otter assign (all when `names` is empty).

    With `check`, nothing is written; returns, per assignment, what differs from a fresh release.
    """
    from grader import assign as assign_mod, lint

    root = Path(course).resolve() if course else Path.cwd().resolve()
    names = names or assignment_mod.list_names(root)
    if not names:
        raise UsageError(f"no assignments under {root / 'solutions'}")
    loaded = [assignment_mod.load(n, root) for n in names]
    lint.check(loaded)           # every master notebook's layout, before otter runs on any
    return {n: assign_mod.publish(asg, root, check=check) for n, asg in zip(names, loaded)}


def new(name: str, *, course: Path | str | None = None, title: str | None = None) -> list[Path]:
    """Start assignment `name`: write `course`/solutions/<name>/ with assignment.toml, a master
    notebook of one question, its hidden test and a mutant (see grader.scaffold); returns the
    files written.  UsageError when the name is not an identifier or the directory exists."""
    from grader import scaffold

    return scaffold.new_assignment(name, course=course, title=title)


def verify(names: list[str] | None = None, *, course: Path | str | None = None, sandbox: str = "auto",
           jobs: int | None = None, out: Path | str | None = None, seeds: int = VERIFY_SEEDS,
           on_result: Callable[[Result, int, int, bool], None] | None = None) -> list:
    """The course checked against itself (see grader.verify): solutions full marks, blanks zero,
    every mutant losing its questions under `seeds` seeds, the release running top to bottom, no
    hidden test passing under a forging runner.  Returns the `VerifyCheck`s."""
    from grader import verify as verify_mod

    return verify_mod.verify(names, course=course, sandbox=sandbox, jobs=jobs, out=out, seeds=seeds,
                             on_result=on_result)

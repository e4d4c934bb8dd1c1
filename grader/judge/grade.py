"""Grading one submission: sandboxed notebook run, hidden suite, one Result."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.assignment import Assignment
from grader.build import build_id
from grader.errors import SubmissionError
from grader.intake import read_regular
from grader.judge import plugin, warm
from grader.judge.session import StudentSession
from grader.notebook import code_cells, parse_notebook
from grader.results import CellError, QuestionResult, Result, Status, TestResult, Trial
from grader.sandbox import LaunchSpec, Limits, resolve_backend


@dataclass(frozen=True)
class GradeOptions:
    """How to grade, beyond what the assignment says.  Part of the reuse key of stored results
    (`config_hash`), except `warm`: a warm or a cold sandbox grades a notebook alike."""

    sandbox: str = "auto"
    timeout: float | None = None       # overrides the assignment's notebook_timeout
    overrides: dict = field(default_factory=dict)   # other limits (LIMIT_KEYS) set on the command line
    torch_threads: int = 1
    image: str | None = None           # container image for podman/docker
    warm: bool = True                  # zygote and collected suite kept per worker slot
    unsafe_no_cgroups: bool = False    # grade where no pids and memory cgroup can be set (flagged)

    def limits(self, assignment: Assignment) -> dict:
        limits = {**assignment.limits, **self.overrides}
        if self.timeout is not None:
            limits["notebook_timeout"] = float(self.timeout)
            limits["cell_timeout"] = min(limits["cell_timeout"], float(self.timeout))
        return limits

    def config_hash(self, assignment: Assignment) -> str:
        data = {"sandbox": self.sandbox, "limits": self.limits(assignment), "threads": self.torch_threads,
                "image": self.image, **({"unsafe_no_cgroups": True} if self.unsafe_no_cgroups else {})}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


UNSAFE_FLAG = ("graded with --unsafe-no-cgroups: no per-submission pids or memory cgroup, only "
               "rlimits held this submission")


def grade_one(assignment: Assignment, student: str, path: Path, sha256: str, options: GradeOptions,
              *, run_id: str = "", work_root: Path | None = None, gpu: str | None = None,
              seeds: int = 1, questions: tuple[str, ...] | None = None) -> Result:
    """Grade one notebook file; every student-caused failure becomes a status, never an exception.

    With `seeds` > 1 (`grader verify`), the hidden tests of `questions` (all when None) run again
    on the same notebook process under `seeds - 1` further seeds, each with a judging time of its
    own; `result.trials` holds their scores."""
    started = time.time()
    suite_hash = assignment.suite_hash()
    result = Result(student=student, assignment=assignment.name, status="graded",
                    max_score=assignment.max_score, submission={"path": str(path), "sha256": sha256},
                    suite_hash=suite_hash, config_hash=options.config_hash(assignment),
                    grader_version=build_id(), run_id=run_id)
    try:
        raw = read_regular(path, int(options.limits(assignment)["max_notebook_mb"] * 2**20))
        result.submission["size"] = len(raw)
        if hashlib.sha256(raw).hexdigest() != sha256:
            raise SubmissionError("the notebook file changed after it was handed in; grade the class again")
        cells = code_cells(parse_notebook(raw))
    except SubmissionError as exc:
        result.status, result.reason = "invalid", str(exc)
        result.questions = empty_questions(assignment)
        return result
    backend = resolve_backend(options.sandbox, image=options.image, warm=options.warm)
    warm_key = suite_hash if options.warm else None
    probes: tuple = ()
    if warm_key is not None:
        suite = warm.warm_suite(assignment.tests_dir, warm_key)   # collecting while the sandbox starts
        probes = suite.probes            # once collected: the zygote defines them for later students
    limits = options.limits(assignment)
    if work_root is not None:
        work_root = Path(work_root).resolve()
        work_root.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="sub-", dir=work_root))
    try:
        spec = launch_spec(assignment, workdir, backend.name, options, limits, run_id=run_id, gpu=gpu,
                           probes=probes)
        session = StudentSession(backend, spec, cell_timeout=limits["cell_timeout"],
                                 notebook_timeout=limits["notebook_timeout"],
                                 probe_timeout=limits["probe_timeout"], judge_timeout=limits["judge_timeout"],
                                 answer_bytes=limits["answer_mb"] << 20)
        try:
            run = session.run_notebook(cells)
            outcomes = plugin.run(assignment.tests_dir, session, base_seed=sha256, warm_key=warm_key)
            _fill(result, assignment, run, outcomes, session)
            result.trials = [_trial(assignment, session, result, f"{sha256}/{k}", k, questions, warm_key)
                             for k in range(1, seeds)]
        finally:
            session.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    heads = {c["index"]: _head(c["source"]) for c in cells}
    for c in result.cell_errors:
        c.source = heads.get(c.index, "")
    if run.patched:
        result.flags.append("the notebook replaced " + ", ".join(run.patched[:8])
                            + (" and more" if len(run.patched) > 8 else "")
                            + "; they were restored before each test")
    if options.unsafe_no_cgroups:
        result.flags.append(UNSAFE_FLAG)
    result.environment = {**run.environment, "sandbox": backend.name, "host": socket.gethostname(),
                          "warm": bool(session.proc is not None and session.proc.warm),
                          "limits": dict(session.proc.limits) if session.proc is not None else {}}
    result.timing = {"started": started, "wall_s": round(time.time() - started, 4),
                     "notebook_s": round(run.duration, 4), "probe_s": round(session.probe_time, 4),
                     "cells_s": round(sum(c.duration for c in run.cells), 4), "peak_rss_mb": _peak_rss_mb(session),
                     "start_s": round(session.start_time, 4), "probe_compute_s": round(session.probe_compute, 4),
                     # the hidden tests' own time (setup, body, teardown), their probes' round trips excluded
                     "tests_s": round(max(0.0, sum(o.duration for o in outcomes) - session.probe_time), 4)}
    return result


def _trial(assignment: Assignment, session: StudentSession, first: Result, base_seed: str, k: int,
           questions: tuple[str, ...] | None, warm_key: str | None) -> Trial:
    """The hidden tests of `questions` run once more on `session` under `base_seed`."""
    only = frozenset(questions) if questions is not None else None
    trial = Trial(seed=k, status=first.status, reason=first.reason)
    if first.status == Status.GRADED and not session.dead_status:
        session.restart_judge_clock()
        outcomes = plugin.run(assignment.tests_dir, session, base_seed=base_seed, warm_key=warm_key,
                              questions=only)
        if session.dead_status:
            trial.status, trial.reason = session.dead_status, session.dead_reason or ""
        trial.questions = [q for q in score_questions(assignment, outcomes) if only is None or q.id in only]
    return trial


def launch_spec(assignment: Assignment, workdir: Path, backend: str, options: GradeOptions, limits: dict,
                *, run_id: str = "", gpu: str | None = None, probes: tuple = ()) -> LaunchSpec:
    """The work dir filled with the assignment's data files, and the LaunchSpec of a student process
    running there under `limits` (GradeOptions.limits)."""
    _prepare_workdir(workdir, assignment, backend)
    return LaunchSpec(workdir=workdir, torch_threads=options.torch_threads, run_id=run_id, gpu=gpu, probes=probes,
                      unsafe_no_cgroups=options.unsafe_no_cgroups,
                      output_kb=int(limits["output_kb"]),
                      limits=Limits(memory_mb=limits["memory_mb"],
                                    cpu_s=limits["cpu_seconds"], nproc=limits["processes"],
                                    fsize_mb=limits["disk_mb"], tmp_mb=limits["disk_mb"]))


def _peak_rss_mb(session) -> float:
    """Peak resident memory of the worker slot, MiB: this judge, plus the zygote the student was
    forked from, plus the student process (its memory cgroup's peak, else the largest child reaped)."""
    import resource

    judge = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    proc = session.proc
    student = proc.peak_mb if proc is not None and proc.peak_mb is not None else \
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(judge + (proc.host_rss_mb if proc is not None else 0.0) + student, 1)


def _head(source: str, lines: int = 4) -> str:
    parts = source.splitlines()
    return "\n".join(parts[:lines]) + ("\n..." if len(parts) > lines else "")


def _prepare_workdir(workdir: Path, assignment: Assignment, backend: str) -> None:
    for f in assignment.files:
        shutil.copy2(f, workdir / f.name)
    if backend != "none":
        workdir.chmod(0o777)      # the sandbox's uid 65534 writes here


def _fill(result: Result, assignment: Assignment, run, outcomes: list, session) -> None:
    if run.status != "ok":
        result.status, result.reason = run.status, run.reason
    elif session.dead_status:
        result.status, result.reason = session.dead_status, session.dead_reason
    result.cell_errors = [CellError(c.index, c.status, c.ename, c.evalue, c.traceback)
                          for c in run.cells if c.status in ("error", "timeout")]
    if result.status == Status.GRADED and not result.reason:
        result.reason = cell_timeout_reason(result.cell_errors, session.cell_timeout)
    result.questions = score_questions(assignment, outcomes)
    result.score = round(sum(q.score for q in result.questions), 6)
    result.max_score = round(sum(q.max_score for q in result.questions), 6)


def cell_timeout_reason(cells: list[CellError], limit: float) -> str:
    """What a graded notebook's reason says of the cells stopped at their time limit (the rest
    of the notebook ran on): "timeout in cell 4 (30 s)"; empty when none was."""
    stopped = [str(c.index) for c in cells if c.status == "timeout"]
    if not stopped:
        return ""
    if len(stopped) == 1:
        return f"timeout in cell {stopped[0]} ({limit:g} s)"
    return f"timeout in cells {', '.join(stopped)} ({limit:g} s each)"


def score_questions(assignment: Assignment, outcomes: list) -> list[QuestionResult]:
    """Group test outcomes by question; a skipped test counts toward neither score nor maximum.
    Manual questions are left out: their scores join the record when it is recorded."""
    questions = []
    for q in assignment.autograded:
        tests = [TestResult(name=o.name, nodeid=o.nodeid, question=o.question, outcome=o.outcome,
                            score=o.points if o.outcome == "passed" else 0.0,
                            max_score=0.0 if o.outcome == "skipped" else o.points,
                            message=o.message, detail=o.detail, duration=round(o.duration, 4))
                 for o in outcomes if o.question == q.id]
        questions.append(QuestionResult(q.id, q.title, sum(t.score for t in tests),
                                        sum(t.max_score for t in tests), tests))
    return questions


def empty_questions(assignment: Assignment) -> list[QuestionResult]:
    """Zero-score questions (no tests run) for a submission that could not be graded."""
    return [QuestionResult(q.id, q.title, 0.0, q.points, []) for q in assignment.autograded]


__all__ = ["GradeOptions", "grade_one", "score_questions", "empty_questions", "check_suite", "check_points",
           "suite_points"]


def check_suite(assignment: Assignment) -> list:
    """Collect the hidden suite and check its points against assignment.toml; AssignmentError if not."""
    return check_points(assignment, plugin.collect(assignment.tests_dir))


def suite_points(items: list) -> dict[str, float]:
    """Each question's points in the hidden suite (`items`: Outcome rows): its tests' points added
    up, in the order the questions first appear."""
    totals: dict[str, float] = {}
    for o in items:
        totals[o.question] = totals.get(o.question, 0.0) + o.points
    return totals


def check_points(assignment: Assignment, items: list) -> list:
    """The hidden suite's collected tests (`items`: Outcome rows) when each question's tests add up
    to its points in assignment.toml and belong to a declared question; AssignmentError if not."""
    from grader.errors import AssignmentError

    declared = {q.id: q.points for q in assignment.autograded}
    manual = {q.id for q in assignment.manual}
    for o in items:
        if o.question in manual:
            raise AssignmentError(f"{o.nodeid} is tied to question {o.question!r}, which "
                                  f"{assignment.directory / 'assignment.toml'} marks manual: "
                                  "a manual question is graded by hand, with no hidden tests")
        if o.question not in declared:
            raise AssignmentError(f"{o.nodeid} is tied to question {o.question!r}, which "
                                  f"{assignment.directory / 'assignment.toml'} does not declare")
    totals = suite_points(items)
    for qid, points in declared.items():
        if abs(totals.get(qid, 0.0) - points) > 1e-9:
            raise AssignmentError(f"question {qid}: its tests add up to {totals.get(qid, 0.0):g} points but "
                                  f"assignment.toml gives it {points:g}")
    return items

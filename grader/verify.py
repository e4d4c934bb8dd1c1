"""`grader verify`: the course checked against itself.

Each assignment's solution must earn full marks and its blank notebook zero; every mutant (a known
wrong answer, `solutions/<hw>/mutants/*.py`) must lose points on the questions it names; all of it
under several seeds.  The release must run top to bottom in a Jupyter kernel with every
`grader.check` cell passing, its public tests must pass on the solution, and no hidden test may pass
under a forging runner (grader/forge.py).  Every manual question (graded by hand) must have an
answer cell in the release and a rubric; verify's scores are the autograded ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader import assignment as assignment_mod
from grader.api import FORGERS_NOTEBOOK, VERIFY_SEEDS, grade
from grader.assignment import Assignment
from grader.errors import UsageError
from grader.results import Result


@dataclass
class VerifyCheck:
    """One expectation of `verify`: what was graded, what was expected, what happened."""

    assignment: str
    notebook: str
    expectation: str
    score: float
    max_score: float
    ok: bool
    detail: str = ""


def verify(names: list[str] | None = None, *, course: Path | str | None = None, sandbox: str = "auto",
           jobs: int | None = None, out: Path | str | None = None, seeds: int = VERIFY_SEEDS,
           on_result: Callable[[Result, int, int, bool], None] | None = None) -> list[VerifyCheck]:
    """Grade each assignment's solution (must be full marks), blank student notebook (must be 0)
    and every mutant (must lose points on the questions it names), the solution and the mutants
    under `seeds` different seeds each: a hidden test draws its inputs from its seed, so a mutant
    that keeps full marks under one seed of twenty is caught by luck, not by design.  Each notebook
    runs once; its hidden tests (a mutant's: those of the questions it names) run again on the same
    process under each further seed."""
    import tempfile

    from grader import lint

    if not isinstance(seeds, int) or seeds < 1:
        raise UsageError(f"seeds must be a whole number of at least 1, not {seeds!r}")
    root = Path(course).resolve() if course else Path.cwd().resolve()
    names = names or assignment_mod.list_names(root)
    if not names:
        raise UsageError(f"no assignments under {root / 'solutions'}")
    lint.check(assignment_mod.load(name, root) for name in names)     # before anything runs
    checks: list[VerifyCheck] = []
    with tempfile.TemporaryDirectory(prefix="grader-verify-") as tmp:
        for name in names:
            work = Path(out).resolve() / name if out else Path(tmp) / name   # otter runs elsewhere
            checks += _verify_one(assignment_mod.load(name, root), root, work, sandbox, jobs, seeds, on_result)
    return checks


def _verify_one(asg: Assignment, root: Path, work: Path, sandbox: str, jobs: int | None, seeds: int,
                on_result) -> list[VerifyCheck]:
    import shutil

    from grader import assign as assign_mod

    release = assign_mod.build_release(asg, work / "release")
    subs = work / "submissions"
    subs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(release.solution, subs / "solution.ipynb")
    shutil.copyfile(release.student, subs / "blank.ipynb")
    mutants = assign_mod.load_mutants(asg)
    plan: dict[str, tuple[int, tuple[str, ...] | None]] = {"solution": (seeds, None)}
    for m in mutants:
        assign_mod.apply_mutant(release.solution, m, subs / f"mutant-{m.name}.ipynb")
        plan[f"mutant-{m.name}"] = (seeds, tuple(m.loses))
    batch = grade(subs, assignment=str(asg.directory), out=work / "out", jobs=jobs, sandbox=sandbox,
                  course=root, seeds=plan, on_result=on_result)
    by_id = {r.student: _autograded_only(r) for r in batch.results}
    checks = [*_manual_answer_cells(asg, release.student), _expect_full(asg, by_id["solution"]),
              _expect_zero(asg, by_id["blank"]),
              _public_tests_pass(asg, release.solution, sandbox), _runs_in_a_kernel(asg, release.solution),
              _forgers_fail(asg, release.solution, sandbox)]
    checks += [_expect_loss(asg, m, by_id[f"mutant-{m.name}"]) for m in mutants]
    return checks


def _autograded_only(r: Result) -> Result:
    """`r` without its manual questions (none is graded here, so the score stays)."""
    r.questions = [q for q in r.questions if not q.manual]
    r.max_score = round(sum(q.max_score for q in r.questions), 6)
    return r


def _manual_answer_cells(asg: Assignment, student: Path) -> list[VerifyCheck]:
    """Each manual question has a rubric (assignment.toml's check) and an answer cell in the
    released notebook, where `grader manual` reads it."""
    if not asg.manual:
        return []
    from grader import manual

    found = manual.answers(student, asg)
    lacking = [q.id for q in asg.manual if not found.get(q.id) or not found[q.id].cells
               or not q.rubric]
    detail = ("no answer cell (or rubric) for " + ", ".join(lacking)) if lacking else ""
    return [VerifyCheck(asg.name, "release, manual questions", "an answer cell and a rubric each",
                        len(asg.manual) - len(lacking), len(asg.manual), not lacking, detail)]


def _public_tests_pass(asg: Assignment, solution: Path, sandbox: str) -> VerifyCheck:
    """The released notebook's own public tests (grader.check) pass on the solution."""
    from grader.check import check_notebook

    report = check_notebook(solution, sandbox=sandbox, limits=asg.limits, data_files=list(asg.files))
    failing = [q.id for q in report.questions if not q.passed]
    detail = "" if report.all_passed else (report.reason or "public tests fail on the solution: "
                                           + ", ".join(failing))
    return VerifyCheck(asg.name, "solution, public tests", "all pass", len(report.questions) - len(failing),
                       len(report.questions), report.all_passed, detail)


def _runs_in_a_kernel(asg: Assignment, solution: Path) -> VerifyCheck:
    """The release, with the solution's answers, runs top to bottom in a Jupyter kernel and every
    `grader.check` cell passes where it stands."""
    from grader import assign as assign_mod

    problems = assign_mod.run_in_kernel(asg, solution)
    return VerifyCheck(asg.name, "release, top to bottom", "runs, every check passes", len(problems), 0,
                       not problems, "; ".join(problems)[:1200])


def _forgers_fail(asg: Assignment, solution: Path, sandbox: str) -> VerifyCheck:
    """Every hidden test fails under every forging runner (see grader.forge)."""
    from grader import forge

    report = forge.check_assignment(asg, solution, sandbox=sandbox)
    detail = "; ".join(f"{kind}: " + ", ".join(n.rsplit("::", 1)[-1] for n in nodeids)
                       for kind, nodeids in report.survivors.items() if nodeids)
    return VerifyCheck(asg.name, FORGERS_NOTEBOOK, "no test passes", report.surviving,
                       report.tests * len(report.survivors), report.surviving == 0,
                       f"tests passing under a forger: {detail}" if detail else "")


def _check(asg: Assignment, r: Result, expectation: str, ok: bool, detail: str) -> VerifyCheck:
    if r.status != "graded":
        ok, detail = False, f"status {r.status}: {r.reason}"
    return VerifyCheck(asg.name, r.student, expectation, r.score, r.max_score, ok, detail)


def _tests_text(questions: list, passed: bool) -> str:
    return "; ".join(f"{t.name}: {t.message}" for q in questions for t in q.tests
                     if (t.outcome == "passed") == passed)[:400]


def _failing_tests(r: Result, passed: bool) -> str:
    return _tests_text(r.questions, passed)


def _runs(r: Result) -> list:
    """Each seed's (status, reason, questions) of one graded notebook: its own grading first, then
    its trials (see grade's `seeds`)."""
    return [(r.status, r.reason, r.questions), *((t.status, t.reason, t.questions) for t in r.trials)]


def _expect_full(asg: Assignment, r: Result) -> VerifyCheck:
    """The solution earns full marks under every seed (a test that fails it for some draws is
    broken)."""
    runs = _runs(r)
    bad = [(status, reason, qs) for status, reason, qs in runs
           if status != "graded" or any(q.score < q.max_score for q in qs)]
    full = not bad and r.score == r.max_score == auto_max(asg)
    check = _check(asg, r, "full marks" + _under(runs), full, "")
    if bad:
        status, reason, qs = bad[0]
        why = f"status {status}: {reason}" if status != "graded" else _tests_text(qs, passed=False)
        check.ok, check.detail = False, f"under {len(bad)} of {len(runs)} seeds: {why}"
    return check


def auto_max(asg: Assignment) -> float:
    """The points of the autograded questions."""
    return round(sum(q.points for q in asg.autograded), 6)


def _under(runs: list) -> str:
    return f" under {len(runs)} seeds" if len(runs) > 1 else ""


def _expect_zero(asg: Assignment, r: Result) -> VerifyCheck:
    return _check(asg, r, "zero", r.score == 0, "" if r.score == 0 else "passes: " + _failing_tests(r, True))


def _expect_loss(asg: Assignment, m, r: Result) -> VerifyCheck:
    """The mutant loses points on every question it names under every seed; the check's score is
    the number of seeds that caught it (its kill rate is score / max_score)."""
    def kept(questions: list) -> list[str]:
        scores = {q.id: (q.score, q.max_score) for q in questions}
        return [q for q in m.loses if q not in scores or scores[q][0] >= scores[q][1]]

    runs = _runs(r)
    lucky = [k for k, (status, _, qs) in enumerate(runs) if status != "graded" or kept(qs)]
    also = [q.id for q in r.questions if q.id not in m.loses and q.score < q.max_score]
    if lucky:
        status, reason, qs = runs[lucky[0]]
        why = f"status {status}: {reason}" if status != "graded" else \
            f"keeps full marks on {', '.join(kept(qs))} ({m.description})"
        detail = f"under {len(lucky)} of {len(runs)} seeds: {why}" if len(runs) > 1 else why
    else:
        detail = f"also loses {', '.join(also)}" if also else ""
    return VerifyCheck(asg.name, r.student, "loses " + ", ".join(m.loses) + _under(runs),
                       len(runs) - len(lucky), len(runs), not lucky, detail)

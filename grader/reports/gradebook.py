"""Gradebooks: grades.csv (always), otter's final_grades.csv and a Canvas import file (on request)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.assignment import Assignment
from grader.results import Result
from grader.store import atomic_write


def _num(x: float) -> str:
    return f"{x:g}"


def _csv(rows: list[list]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def grades_csv(results: list[Result], assignment: Assignment) -> str:
    """`student,score,max_score,status`, one column per question, then reason and flags."""
    qids = [q.id for q in assignment.questions]
    rows = [["student", "score", "max_score", "status", *qids, "reason", "flags"]]
    for r in sorted(results, key=lambda r: r.student):
        scores = r.question_scores()
        rows.append([r.student, _num(r.score), _num(r.max_score), r.status,
                     *(_num(scores.get(q, 0.0)) for q in qids), r.reason, "; ".join(r.all_flags())])
    return _csv(rows)


def otter_csv(results: list[Result], assignment: Assignment) -> str:
    """otter grade's final_grades.csv layout: a points-per-question row, then one row per file."""
    qids = sorted(q.id for q in assignment.questions)
    possible = {q.id: q.points for q in assignment.questions}
    rows = [["file", *qids, "total_points_earned", "percent_correct", "grading_status"],
            ["points-per-question", *(_num(possible[q]) for q in qids), _num(assignment.max_score), "1", "--"]]
    for r in sorted(results, key=lambda r: r.student):
        scores = r.question_scores()
        name = Path(r.submission.get("path") or f"{r.student}.ipynb").name
        percent = round(r.score / assignment.max_score, 4) if assignment.max_score else 0
        status = "Completed" if r.status == "graded" else f"{r.status}: {r.reason}"
        rows.append([name, *(_num(scores.get(q, 0.0)) for q in qids), _num(r.score), _num(percent), status])
    return _csv(rows)


def canvas_csv(results: list[Result], assignment: Assignment, roster_rows: list[dict]) -> str:
    """A Canvas gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then the scores."""
    column = assignment.title
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column],
            ["    Points Possible", "", "", "", "", _num(assignment.max_score)]]
    by_student = {r.student: r for r in results}
    for person in roster_rows:
        r = by_student.get(person["student"])
        rows.append([person.get("name", ""), person.get("canvas_id", ""), person.get("sis_user_id", ""),
                     person.get("sis_login_id", ""), person.get("section", ""),
                     _num(r.score) if r is not None else "0"])
    return _csv(rows)


def write_gradebooks(out: Path, results: list[Result], assignment: Assignment, *,
                     formats: tuple[str, ...] = (), roster: Path | None = None) -> dict[str, Path]:
    files = {"grades": Path(out) / "grades.csv"}
    atomic_write(files["grades"], grades_csv(results, assignment))
    if "otter" in formats:
        files["otter"] = Path(out) / "final_grades.csv"
        atomic_write(files["otter"], otter_csv(results, assignment))
    if "canvas" in formats and roster is not None:
        from grader.lms import Roster

        files["canvas"] = Path(out) / "canvas_grades.csv"
        atomic_write(files["canvas"], canvas_csv(results, assignment, Roster.load(roster).rows))
    return files

"""Gradebooks: grades.csv (always), otter's final_grades.csv and a Canvas import file (on request)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.assignment import Assignment
from grader.reports.safe import csv_cell
from grader.results import PENDING_TEXT, Result
from grader.store import atomic_write
from grader.text import clean_lines


CELL_CHARS = 1000      # reason and flags of one row: the full text is in the record


class Num(str):
    """A cell that holds a number we computed: written as it is, never neutralised."""


def _num(x: float) -> Num:
    return Num(f"{x:g}")


def _question_cells(r: Result, qids: list[str]) -> list:
    """Each question's score, or PENDING_TEXT for a manual question not yet graded by hand."""
    scores, waiting = r.question_scores(), set(r.pending())
    return [PENDING_TEXT if q in waiting else _num(scores.get(q, 0.0)) for q in qids]


def _csv(rows: list[list]) -> str:
    """CSV text; text cells are neutralised against formula injection, numbers kept."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(
        [[c if isinstance(c, Num) else csv_cell(c) for c in row] for row in rows])
    return buf.getvalue()


def _rows(results: list[Result], make_row, blank_row) -> list[list]:
    """One row per record, sorted by student; a record whose row cannot be made gets
    `blank_row(r, why)` instead, so that no record costs the file its other rows."""
    rows = []
    for r in sorted(results, key=lambda r: str(r.student)):
        try:
            rows.append(make_row(r))
        except Exception as exc:  # noqa: BLE001 - the batch's gradebook is written regardless
            rows.append(blank_row(r, f"this row could not be written ({type(exc).__name__}); "
                                     f"see results/{r.student}.json"))
    return rows


LATE_COLUMNS = ["raw_score", "late_hours", "penalty", "final_score"]


def grades_csv(results: list[Result], assignment: Assignment) -> str:
    """`student,score,max_score,status`, one column per question, then reason and flags; with a
    deadline in the assignment's policy, `raw_score,late_hours,penalty,final_score` after the
    status (`score` is the final score, `penalty` the fraction of the raw score lost).  A manual
    question not yet graded by hand reads PENDING_TEXT, and counts nothing in the score."""
    qids = [q.id for q in assignment.questions]
    late = assignment.policy.due is not None

    def row(r: Result) -> list:
        return [r.student, _num(r.score), _num(r.max_score), r.status, *(_late(r) if late else []),
                *_question_cells(r, qids), clean_lines(r.reason, CELL_CHARS),
                clean_lines("; ".join(r.all_flags()), CELL_CHARS)]

    def blank(r: Result, why: str) -> list:
        return [r.student, _num(0), _num(assignment.max_score), "error",
                *([_num(0), "", "", _num(0)] if late else []), *(_num(0) for _ in qids), why, ""]

    return _csv([["student", "score", "max_score", "status", *(LATE_COLUMNS if late else []), *qids,
                  "reason", "flags"], *_rows(results, row, blank)])


def _late(r: Result) -> list:
    """raw_score, late_hours, penalty, final_score; the lateness cells are empty when no
    submission time is known."""
    hours, penalty = r.lateness.get("late_hours"), r.lateness.get("penalty")
    known = r.lateness.get("submitted_at") is not None
    return [_num(r.raw_score()), _num(hours) if known and hours is not None else "",
            _num(penalty) if known and penalty is not None else "", _num(r.score)]


def otter_csv(results: list[Result], assignment: Assignment) -> str:
    """otter grade's final_grades.csv layout: a points-per-question row, then one row per file."""
    qids = sorted(q.id for q in assignment.questions)
    possible = {q.id: q.points for q in assignment.questions}
    rows = [["file", *qids, "total_points_earned", "percent_correct", "grading_status"],
            ["points-per-question", *(_num(possible[q]) for q in qids), _num(assignment.max_score),
             Num("1"), Num("--")]]

    def row(r: Result) -> list:
        name = Path(r.submission.get("path") or f"{r.student}.ipynb").name
        percent = round(r.score / assignment.max_score, 4) if assignment.max_score else 0
        status = ("Completed" if r.status == "graded"
                  else f"{r.status}: {clean_lines(r.reason, CELL_CHARS)}")
        if r.status == "graded" and r.pending():
            status = f"Completed; {', '.join(r.pending())} {PENDING_TEXT}"
        return [name, *_question_cells(r, qids), _num(r.score), _num(percent), status]

    def blank(r: Result, why: str) -> list:
        return [f"{r.student}.ipynb", *(_num(0) for _ in qids), _num(0), _num(0), f"error: {why}"]

    return _csv(rows + _rows(results, row, blank))


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
                     _num(r.score if r is not None else 0)])
    return _csv(rows)


def write_gradebooks(out: Path, results: list[Result], assignment: Assignment, *,
                     formats: tuple[str, ...] = (), roster: Path | None = None) -> dict[str, Path]:
    """grades.csv, and otter's and Canvas's files when `formats` asks for them."""
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

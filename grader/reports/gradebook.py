"""grades.csv: one row per submission (`student,score,max_score,status`, then one column per question)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.assignment import Assignment
from grader.results import Result
from grader.store import atomic_write


def _num(x: float) -> str:
    return f"{x:g}"


def grades_csv(results: list[Result], assignment: Assignment) -> str:
    qids = [q.id for q in assignment.questions]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", "score", "max_score", "status", *qids, "reason"])
    for r in sorted(results, key=lambda r: r.student):
        scores = r.question_scores()
        w.writerow([r.student, _num(r.score), _num(r.max_score), r.status,
                    *(_num(scores.get(q, 0.0)) for q in qids), r.reason])
    return buf.getvalue()


def write_grades(out: Path, results: list[Result], assignment: Assignment) -> Path:
    path = Path(out) / "grades.csv"
    atomic_write(path, grades_csv(results, assignment))
    return path

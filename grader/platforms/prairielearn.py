"""PrairieLearn's external grader: the question's `run.sh` runs `python -m
grader.platforms.prairielearn`.

Layout (PrairieLearn's): the question's tests/ directory in <root>/tests (here: the course copy
and torchgrader.json), the student's files in <root>/student, the question's data in
<root>/data/data.json, and the results written to <root>/results/results.json.  <root> is
$GRADE_ROOT, default /grade.  A notebook that cannot be graded comes back `gradable: false` with
the reason; one that runs out of time or memory is graded (0 for what did not pass).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grader.platforms import common
from grader.reports.feedback import STATUS_TEXT
from grader.results import Result

DEFAULT_ROOT = "/grade"


def root() -> Path:
    """The grading root: $GRADE_ROOT, default /grade."""
    return Path(os.environ.get("GRADE_ROOT") or DEFAULT_ROOT)


def ungradable(message: str) -> dict:
    """PrairieLearn's answer for a submission that cannot be graded."""
    return {"gradable": False, "score": 0.0, "message": message, "tests": []}


def results_json(r: Result) -> dict:
    """The record in PrairieLearn's shape: score 0..1, one test per hidden test."""
    if r.status == "invalid":
        return ungradable(r.reason or "The notebook could not be read.")
    tests = []
    for q in r.questions:
        for t in q.tests:
            tests.append({"name": f"{q.id}: {t.name}", "description": q.title,
                          "points": t.score, "max_points": t.max_score,
                          "message": t.message, "output": ""})
        if not q.tests:
            tests.append({"name": f"{q.id}: {q.title}", "description": q.title, "points": 0.0,
                          "max_points": q.max_score, "message": r.reason or "No test ran.",
                          "output": ""})
    message = f"Status: {STATUS_TEXT.get(r.status, r.status)}."
    if r.reason:
        message += f" {r.reason}"
    most = sum(q.max_score for q in r.questions)
    score = r.score / most if most else 0.0
    return {"gradable": True, "score": round(min(max(score, 0.0), 1.0), 6), "message": message,
            "output": f"Graded in the {r.environment.get('sandbox', '?')} sandbox.",
            "tests": tests}


def grade(base: Path) -> dict:
    """Grade the submission under `base` and return PrairieLearn's results object."""
    _, _, result, why = common.grade_bundle(base / "tests", base / "student")
    return ungradable(why) if result is None else results_json(result)


def main() -> int:
    """Entry point: grade, then write results.json (always)."""
    base = root()
    common.lock_down(base / "tests", base / "data", base / "results")
    try:
        data = grade(base)
    except Exception as exc:        # noqa: BLE001 - every failure still becomes a results.json
        data = ungradable(f"The grader could not grade this submission: "
                          f"{type(exc).__name__}: {exc}")
    common.write_json(base / "results" / "results.json", data)
    print(f"gradable {data['gradable']} score {data['score']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

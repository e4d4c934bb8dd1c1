"""Gradescope's autograder results format: gradescope/<student>/results.json per submission."""

from __future__ import annotations

import json
from pathlib import Path

from grader.reports.feedback import HIDDEN_BEFORE_DUE, STATUS_TEXT, late_line
from grader.reports.safe import REPORT_BYTES, seconds, write_each
from grader.results import PENDING_TEXT, Result

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def results_json(r: Result, *, visibility: str = "after_published", view: str = "full") -> dict:
    """The record in Gradescope's shape; each hidden test's detail has `visibility`.

    `view` is what the student may see (see grader.policy.feedback_level), as in the HTML and
    Markdown reports: "scores" leaves out the hidden tests' messages, "public" the hidden tests
    altogether (the total score stays: it is what Gradescope records)."""
    tests = []
    for q in r.questions:
        if q.manual:
            tests.append(_manual_test(q))
            continue
        for t in q.tests if view != "public" else ():
            test = {"name": f"{q.id}: {t.name}", "score": t.score, "max_score": t.max_score,
                    "status": "passed" if t.outcome == "passed" else "failed",
                    "output": t.message, "visibility": visibility}
            if view != "full":
                del test["output"]
            tests.append(test)
        if not q.tests:
            tests.append({"name": f"{q.id}: {q.title}", "score": 0.0, "max_score": q.max_score,
                          "status": "failed", "output": r.reason or "No test of this question ran.",
                          "visibility": "visible"})
    output = f"Status: {STATUS_TEXT.get(r.status, r.status)}."
    if late_line(r):
        output += f"\nLateness: {late_line(r)}"
    if r.reason:
        output += f"\n{r.reason}"
    if r.cell_errors:
        output += "\nCells that raised an error: " + ", ".join(
            f"cell {c.index} ({c.ename})" if c.ename else c.evalue for c in r.cell_errors)
    if view == "public" and any(q.tests for q in r.questions):
        output += f"\n{HIDDEN_BEFORE_DUE}"
    return {"score": r.score, "execution_time": round(seconds(r), 3),
            "output": output, "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def _manual_test(q) -> dict:
    """A manual question as a Gradescope test: its points and rubric once graded by hand, no
    score (Gradescope shows none) until then."""
    test = {"name": f"{q.id}: {q.title}", "max_score": q.max_score, "visibility": "visible"}
    if q.manual.get("state") == "no answer":
        return {**test, "score": 0.0, "status": "failed", "output": "No answer was handed in."}
    if q.manual.get("state") != "graded":
        return {**test, "output": f"Written answer: {PENDING_TEXT}.",
                "extra_data": {"manual": q.manual.get("state", "pending")}}
    lines = [f"{i['points']:+g}: {i['text']}" for i in q.manual.get("items", [])]
    if q.manual.get("comment"):
        lines.append(f"Comment: {q.manual['comment']}")
    return {**test, "score": q.score, "status": "passed" if q.score == q.max_score else "failed",
            "output": "\n".join(lines) or "Graded by hand."}


def write_gradescope(out: Path, results: list[Result], *, visibility: str = "after_published",
                     problems: list[str] | None = None, view=None) -> Path:
    """gradescope/<id>/results.json for each record (strict JSON: no NaN or infinity);
    `view(record)` says what the student may see (default: everything)."""
    folder = Path(out) / "gradescope"
    view = view or (lambda r: "full")

    def render(r: Result) -> str:
        return json.dumps(results_json(r, visibility=visibility, view=view(r)), indent=1,
                          allow_nan=False)

    write_each(folder, results, lambda r: f"{r.student}/results.json", render, REPORT_BYTES,
               [] if problems is None else problems)
    return folder

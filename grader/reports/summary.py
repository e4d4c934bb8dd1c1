"""summary.html: how the class did, in one self-contained page with embedded plots (SVG)."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from grader.reports import histogram
from grader.reports.feedback import _env, _fmt
from grader.reports.safe import seconds
from grader.results import Result
from grader.store import atomic_write
from grader.text import clean_lines

MESSAGE_CHARS = 300
SUMMARY_BYTES = 32 << 20
# rows that have no score of their own: nothing came in, the file could not be read, or the grader
# failed on it.  The class mean and median count them as 0 (and say so).
ZERO_ROWS = ("missing", "invalid", "error")


def zero_rows_note(statuses: dict[str, int]) -> str:
    """What the mean over every row does with the rows that have no score of their own, in
    words ("1 missing and 2 invalid counted as 0"); empty when there are none."""
    parts = [f"{statuses[s]} {s}" for s in ZERO_ROWS if statuses.get(s)]
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{listed} counted as 0"


def _plots(results: list[Result], max_score: float) -> dict[str, str]:
    plots = {"scores": histogram.data_uri(histogram.svg(
        [r.score for r in results], bins=min(20, max(5, int(max_score) + 1)), lo=0, hi=max_score or 1,
        title="Score distribution", xlabel="score", ylabel="submissions"))}
    times = [seconds(r) for r in results if seconds(r)]
    if times:
        plots["times"] = histogram.data_uri(histogram.svg(
            times, bins=20, lo=0, hi=max(times), title="Grading time", xlabel="seconds per submission",
            ylabel="submissions", color="#7a5195"))
    return plots


def manual_stats(results: list[Result], manual: tuple = ()) -> list[dict]:
    """Per manual question (grader.assignment.Question with its rubric): how many answers are
    graded, pending or changed, the mean of the graded, and how often each rubric item was
    ticked among the graded (which misconceptions are common)."""
    out = []
    for q in manual:
        rows = [x for r in results for x in r.questions if x.id == q.id and x.manual]
        graded = [x for x in rows if x.manual.get("state") == "graded"]
        ticked = Counter(i.get("n") for x in graded for i in x.manual.get("items", []))
        out.append({"id": q.id, "title": q.title, "max": q.points, "graded": len(graded),
                    "pending": sum(x.manual.get("state") == "pending" for x in rows),
                    "changed": sum(x.manual.get("state") == "changed" for x in rows),
                    "mean": statistics.fmean(x.score for x in graded) if graded else 0.0,
                    "items": [{"n": k, "points": item.points, "text": item.text,
                               "count": ticked.get(k, 0),
                               "rate": ticked.get(k, 0) / len(graded) if graded else 0.0}
                              for k, item in enumerate(q.rubric, 1)]})
    return out


def class_stats(results: list[Result]) -> dict:
    """Numbers for the page: per-question means and pass rates, per-test pass rates, flags."""
    graded = [r for r in results if r.status == "graded"]
    questions: dict[str, dict] = {}
    tests: dict[str, dict] = {}
    for r in results:
        for q in r.questions:
            if q.manual:               # graded by hand: see manual_stats
                continue
            s = questions.setdefault(q.id, {"id": q.id, "title": q.title, "max": q.max_score, "scores": [],
                                            "full": 0})
            s["scores"].append(q.score)
            s["full"] += q.max_score > 0 and q.score == q.max_score
            for t in q.tests:
                ts = tests.setdefault(t.nodeid, {"name": t.name, "question": q.id, "passed": 0, "n": 0,
                                                 "messages": Counter()})
                ts["n"] += 1
                ts["passed"] += t.outcome == "passed"
                if t.outcome != "passed" and t.message:
                    ts["messages"][clean_lines(t.message, MESSAGE_CHARS)] += 1
    for s in questions.values():
        s["mean"] = statistics.fmean(s["scores"]) if s["scores"] else 0.0
        s["full_rate"] = s["full"] / len(s["scores"]) if s["scores"] else 0.0
    for t in tests.values():
        t["rate"] = t["passed"] / t["n"] if t["n"] else 0.0
        t["top_message"] = t["messages"].most_common(1)[0][0] if t["messages"] else ""
    scores = [r.score for r in results]
    statuses = Counter(r.status for r in results)
    return {
        "n": len(results), "graded": len(graded), "statuses": statuses,
        "mean": statistics.fmean(scores) if scores else 0.0,       # every row: see zero_note
        "median": statistics.median(scores) if scores else 0.0,
        "mean_graded": statistics.fmean(r.score for r in graded) if graded else 0.0,
        "zero_note": zero_rows_note(statuses),
        "questions": list(questions.values()),
        "tests": sorted(tests.values(), key=lambda t: t["rate"]),
        "flagged": [r for r in results if r.status != "graded" or r.reason],   # a cell timed out
        "slowest": sorted(results, key=lambda r: -seconds(r))[:10],
        "environments": Counter((r.environment.get("torch") or "?", r.environment.get("device") or "?",
                                 r.environment.get("sandbox") or "?", r.grader_version) for r in results),
    }


def write_summary(out: Path, results: list[Result], *, assignment: str, max_score: float,
                  manual: tuple = ()) -> Path:
    """summary.html; over SUMMARY_BYTES, the per-test messages and reasons are left out.
    `manual`: the assignment's manual questions, for their rubric items' frequencies."""
    written = manual_stats(results, manual)

    def render(chars: int) -> str:
        return _env().get_template("summary.html").render(
            assignment=assignment, max_score=max_score, s=class_stats(results), plots=plots,
            manual=written,
            fmt=_fmt, seconds=seconds, chars=chars)

    plots = _plots(results, max_score)
    page = render(MESSAGE_CHARS)
    if len(page.encode()) > SUMMARY_BYTES:
        page = render(0)
    path = Path(out) / "summary.html"
    atomic_write(path, page, durable=False)
    return path

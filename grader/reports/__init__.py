"""Writers that turn result records into files people read; each reads records, nothing else."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from grader.assignment import Assignment
from grader.results import Result
from grader.text import clean

log = logging.getLogger(__name__)


def write_reports(out: Path, results: list[Result], asg: Assignment, *, formats: tuple[str, ...] = (),
                  roster: Path | None = None, problems: list[str] | None = None,
                  now: datetime | None = None) -> dict[str, Path]:
    """Every output of a batch: gradebooks, per-student HTML/Markdown, Gradescope files, summary.
    The student reports and Gradescope files show what the assignment's policy lets a student see
    at `now` (a timezone-aware time; None shows everything).

    Each writer runs whatever happened to the ones before it; what went wrong is appended to
    `problems` (a writer of per-student files writes a placeholder for a record it cannot make)."""
    from grader.reports.feedback import write_feedback
    from grader.reports.gradebook import write_gradebooks
    from grader.reports.gradescope import write_gradescope
    from grader.reports.summary import write_summary

    problems = [] if problems is None else problems
    out = Path(out)
    files = {"grades": out / "grades.csv", "reports": out / "reports",
             "gradescope": out / "gradescope", "summary": out / "summary.html"}
    writers = [
        ("gradebooks", lambda: files.update(write_gradebooks(out, results, asg, formats=formats,
                                                             roster=roster))),
        ("reports", lambda: write_feedback(out, results, problems, view=feedback_view(asg, now))),
        ("gradescope", lambda: write_gradescope(out, results, visibility=asg.gradescope_visibility,
                                                problems=problems, view=feedback_view(asg, now))),
        ("summary", lambda: write_summary(out, results, assignment=asg.name,
                                          max_score=asg.max_score, manual=asg.manual)),
    ]
    for name, write in writers:
        try:
            write()
        except Exception as exc:  # noqa: BLE001 - one writer's failure never costs the others
            log.exception("writing the %s failed", name)
            problems.append(f"the {name} could not be written: {type(exc).__name__}: "
                            f"{clean(exc, 300)}")
    return files


def feedback_view(asg: Assignment, now: datetime | None):
    """What each student's report shows at `now` under the assignment's policy: a function of
    the record giving "full", "scores" or "public" (see grader.policy.feedback_level)."""
    from grader import policy

    if now is None:
        return lambda r: "full"
    return lambda r: policy.feedback_level(asg.policy, now, policy.due_of(r.lateness, asg.policy))

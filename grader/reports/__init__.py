"""Writers that turn result records into files people read; each reads records, nothing else."""

from __future__ import annotations

from pathlib import Path

from grader.assignment import Assignment
from grader.results import Result


def write_reports(out: Path, results: list[Result], asg: Assignment, *, formats: tuple[str, ...] = (),
                  roster: Path | None = None) -> dict[str, Path]:
    """Every output of a batch: gradebooks, per-student HTML/Markdown, Gradescope files, summary."""
    from grader.reports.feedback import write_feedback
    from grader.reports.gradebook import write_gradebooks
    from grader.reports.gradescope import write_gradescope
    from grader.reports.summary import write_summary

    return {
        **write_gradebooks(out, results, asg, formats=formats, roster=roster),
        "reports": write_feedback(out, results),
        "gradescope": write_gradescope(out, results, visibility=asg.gradescope_visibility),
        "summary": write_summary(out, results, assignment=asg.name, max_score=asg.max_score),
    }

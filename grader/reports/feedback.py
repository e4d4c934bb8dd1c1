"""Per-student feedback: Markdown (short enough for an LMS comment) and self-contained HTML."""

from __future__ import annotations

import functools
from pathlib import Path

from grader.results import Result
from grader.store import atomic_write

STATUS_TEXT = {
    "graded": "graded",
    "invalid": "not graded: the file could not be read as a notebook",
    "timeout": "stopped: it ran past its time limit",
    "memory": "stopped: it used more memory than allowed",
    "crashed": "stopped: the notebook's process ended unexpectedly",
    "error": "not graded: the grader failed on this notebook (your instructor has been told)",
    "missing": "no submission was received",
}


def _fmt(x: float) -> str:
    return f"{x:g}"


def markdown(r: Result) -> str:
    """The student's feedback as Markdown."""
    lines = [f"# {r.assignment}: {_fmt(r.score)} / {_fmt(r.max_score)}", "",
             f"Status: **{STATUS_TEXT.get(r.status, r.status)}**"]
    if r.reason:
        lines += ["", f"> {r.reason}"]
    lines += ["", "| question | score | |", "|---|---|---|"]
    for q in r.questions:
        mark = "✅" if q.score == q.max_score and q.max_score else ("⚠️" if q.score else "❌")
        lines.append(f"| {q.id} {q.title} | {_fmt(q.score)} / {_fmt(q.max_score)} | {mark} |")
    failed = [(q, t) for q in r.questions for t in q.tests if t.outcome in ("failed", "error")]
    if failed:
        lines += ["", "## What to fix", ""]
        lines += [f"- **{q.id}** `{t.name}`: {t.message}" for q, t in failed]
    if r.cell_errors:
        lines += ["", "## Cells that raised an error", ""]
        for c in r.cell_errors:
            first = c.source.splitlines()[0] if c.source else ""
            lines.append(f"- cell {c.index} (`{first[:60]}`): `{c.ename}: {c.evalue[:200]}`")
    if r.all_flags():
        lines += ["", "## Notes", ""] + [f"- {f}" for f in r.all_flags()]
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=1)
def _env():
    import jinja2

    loader = jinja2.FileSystemLoader(Path(__file__).parent / "templates")
    return jinja2.Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)


def html(r: Result) -> str:
    """The student's feedback as one self-contained HTML page (no external resources)."""
    return _env().get_template("student.html").render(r=r, status_text=STATUS_TEXT, fmt=_fmt)


def write_feedback(out: Path, results: list[Result]) -> Path:
    folder = Path(out) / "reports"
    for r in results:
        atomic_write(folder / f"{r.student}.md", markdown(r), durable=False)
        atomic_write(folder / f"{r.student}.html", html(r), durable=False)
    return folder

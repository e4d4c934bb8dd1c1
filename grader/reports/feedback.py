"""Per-student feedback: Markdown (short enough for an LMS comment) and self-contained HTML."""

from __future__ import annotations

import functools
from pathlib import Path

from grader.reports.safe import (MARKDOWN_BYTES, REPORT_BYTES, md_block, md_code, md_text,
                                 write_each)
from grader.results import PENDING_TEXT, Result

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


HIDDEN_BEFORE_DUE = ("The hidden tests' results are shown after the deadline; run grader check "
                     "for the public tests.")


def late_line(r: Result) -> str:
    """The lateness of the record in words, with the raw and final scores when they differ;
    empty when the assignment has no deadline."""
    late = r.lateness if isinstance(r.lateness, dict) else {}
    sentence = str(late.get("sentence") or "")
    if sentence and r.raw_score() != r.score:
        sentence += f" (score {_fmt(r.raw_score())} → {_fmt(r.score)})"
    return sentence


def markdown(r: Result, view: str = "full") -> str:
    """The student's feedback as Markdown.  Every text from the submission is escaped or fenced:
    no link, image or HTML of the student's reaches the page it is pasted into.  `view` (see
    grader.policy.feedback_level): "scores" leaves out the hidden tests' messages, "public"
    their results altogether."""
    shown = _fmt(r.score) if view != "public" else "?"
    lines = [f"# {md_text(r.assignment)}: {shown} / {_fmt(r.max_score)}", "",
             f"Status: **{STATUS_TEXT.get(r.status, md_text(r.status))}**"]
    if late_line(r):
        lines += ["", f"Lateness: {md_text(late_line(r))}"]
    if r.reason:
        lines += ["", f"> {md_text(r.reason)}"]
    if r.pending():
        lines += ["", md_text(pending_line(r))]
    if view == "public":
        lines += ["", HIDDEN_BEFORE_DUE]
        return "\n".join(lines) + "\n"
    lines += ["", "| question | score | |", "|---|---|---|"]
    for q in r.questions:
        mark = "✅" if q.score == q.max_score and q.max_score else ("⚠️" if q.score else "❌")
        shown = f"{_fmt(q.score)} / {_fmt(q.max_score)}"
        if q.pending:
            mark, shown = "✍️", f"{PENDING_TEXT} (of {_fmt(q.max_score)})"
        lines.append(f"| {md_text(q.id)} {md_text(q.title)} | {shown} | {mark} |")
    written = [q for q in r.questions if q.manual.get("state") == "graded"]
    if written:
        lines += ["", "## Written answers", ""]
        for q in written:
            lines.append(f"- **{md_text(q.id)}** {_fmt(q.score)} / {_fmt(q.max_score)}")
            lines += [f"  - {_signed(i['points'])}: {md_text(i['text'])}"
                      for i in q.manual.get("items", [])]
            if q.manual.get("comment"):
                lines.append(f"  - comment: {md_text(q.manual['comment'])}")
    failed = [(q, tests, message) for q in r.questions for tests, message in failures(q)
              if view == "full"]
    if failed:
        lines += ["", "## What to fix", ""]
        lines += [f"- **{md_text(q.id)}** {_md_names(tests)}: {_md_message(message)}"
                  for q, tests, message in failed]
    if r.cell_errors:
        lines += ["", "## Cells that raised an error", ""]
        lines += [_md_cell(c) for c in r.cell_errors]
    if r.all_flags():
        lines += ["", "## Notes", ""] + [f"- {md_text(f)}" for f in r.all_flags()]
    return "\n".join(lines) + "\n"


def pending_line(r: Result) -> str:
    """What the score leaves out while manual questions wait for a grader; empty when none."""
    waiting = r.pending()
    if not waiting:
        return ""
    return (f"{', '.join(waiting)}: {PENDING_TEXT}; the score counts the other questions so "
            "far.")


def _signed(points: float) -> str:
    return f"+{_fmt(points)}" if points > 0 else _fmt(points)


def failures(q) -> list[tuple[list, str]]:
    """The failed tests of question `q`, grouped by message, in order: a message that several
    tests gave verbatim is one entry (its tests, the message)."""
    groups: dict[str, list] = {}
    for t in q.tests:
        if t.outcome in ("failed", "error"):
            groups.setdefault(t.message, []).append(t)
    return [(tests, message) for message, tests in groups.items()]


def shown_messages(q) -> list[tuple[object, str, str]]:
    """(test, message, note) for each test of `q`, as the HTML report lists them: a message that
    several failed tests gave verbatim is shown under the first, with a note of how many gave it,
    and the others refer to it."""
    first = {message: tests for tests, message in failures(q) if message}
    rows = []
    for t in q.tests:
        tests = first.get(t.message) if t.outcome in ("failed", "error") else None
        if not tests or len(tests) == 1:
            rows.append((t, t.message, ""))
        elif tests[0] is t:
            rows.append((t, t.message, f"the same for {len(tests)} tests of this question"))
        else:
            rows.append((t, "", f"the same message as {tests[0].name}"))
    return rows


def _md_names(tests: list) -> str:
    names = ", ".join(md_code(t.name) for t in tests)
    return names if len(tests) == 1 else f"{len(tests)} tests ({names})"


def _md_message(message: str) -> str:
    if "\n" not in message.strip():
        return md_text(message)
    return "\n" + md_block(message.strip(), "  ")


def _md_cell(c) -> str:
    if not c.ename:                                   # "and 19,980 more"
        return f"- {md_text(c.evalue)}"
    first = c.source.splitlines()[0] if c.source else ""
    where = f" ({md_code(first[:60])})" if first.strip() else ""
    return f"- cell {c.index}{where}: {md_code(f'{c.ename}: {c.evalue[:200]}')}"


@functools.lru_cache(maxsize=1)
def _env():
    import jinja2

    loader = jinja2.FileSystemLoader(Path(__file__).parent / "templates")
    return jinja2.Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)


def html(r: Result, view: str = "full") -> str:
    """The student's feedback as one self-contained HTML page (no external resources); `view`
    as for `markdown`."""
    return _env().get_template("student.html").render(r=r, status_text=STATUS_TEXT, fmt=_fmt,
                                                      shown_messages=shown_messages, view=view,
                                                      late_line=late_line(r),
                                                      pending_line=pending_line(r),
                                                      pending_text=PENDING_TEXT, signed=_signed,
                                                      hidden_before_due=HIDDEN_BEFORE_DUE)


def write_feedback(out: Path, results: list[Result], problems: list[str] | None = None, *,
                   view=None) -> Path:
    """reports/<id>.md and reports/<id>.html for each record; a record whose report cannot be
    made gets a placeholder (noted in `problems`), and the others are written regardless.
    `view(record)` says what the student may see (default: everything)."""
    folder = Path(out) / "reports"
    problems = [] if problems is None else problems
    view = view or (lambda r: "full")
    write_each(folder, results, lambda r: f"{r.student}.md", lambda r: markdown(r, view(r)),
               MARKDOWN_BYTES, problems)
    write_each(folder, results, lambda r: f"{r.student}.html", lambda r: html(r, view(r)),
               REPORT_BYTES, problems)
    return folder

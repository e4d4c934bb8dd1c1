"""What makes every writer safe for any content: escaping per format, size caps, and one row's
failure turned into a placeholder instead of a missing batch.

The records are cleaned before they reach a writer (grader.text.clean_result: no surrogates,
control codes or bidi overrides, every field capped); these helpers add what each format needs.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Callable

from grader.results import STATUSES, Result
from grader.store import atomic_write, safe_name
from grader.text import LEVELS, clean, clean_result_with, finite

log = logging.getLogger(__name__)

REPORT_BYTES = 1 << 20          # one student's HTML page or Gradescope file
MARKDOWN_BYTES = 64 << 10       # a Markdown file is pasted into an LMS comment

# Markdown: what can start a link, image, raw HTML, autolink, emphasis, code span or table cell.
# Every other character is shown as it is, so the raw file stays readable.
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>!|~#&@$]|:(?=//)|(?<=www)\.", re.IGNORECASE)
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def md_text(text: object) -> str:
    """Student text as Markdown that renders as exactly that text, on one line: no link, image,
    autolink, HTML or formatting can come from it."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m[0], clean(text).replace("\n", " ").replace("\t", " "))


def md_code(text: object) -> str:
    """Student text as an inline code span that its content cannot close."""
    body = clean(text).replace("\n", " ").replace("\t", " ")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    return f"{fence} {body} {fence}" if body else ""


def md_block(text: object, indent: str = "") -> str:
    """Student text of several lines as a fenced code block that its content cannot close,
    every line indented by `indent` (to stay inside a list item)."""
    body = clean(text).replace("\t", "    ")
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    lines = [fence + "text", *body.splitlines(), fence]
    return "\n".join(indent + line if line else line for line in lines)


def csv_cell(value: object) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP's CSV injection advice: a
    leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front)."""
    text = clean(value)
    return "'" + text if text.startswith(CSV_TRIGGERS) else text


def seconds(r: Result, key: str = "wall_s") -> float:
    """A timing of the record as a number (0 where it is missing or was not finite)."""
    return finite(r.timing.get(key) if isinstance(r.timing, dict) else None) or 0.0


def placeholder(r: Result, why: str) -> Result:
    """A bare record standing in for `r` where a report of it could not be made."""
    return Result(student=r.student, assignment=clean(r.assignment, 200),
                  status=r.status if r.status in STATUSES else "error",
                  score=finite(r.score) or 0.0, max_score=finite(r.max_score) or 0.0,
                  reason=clean(f"this report could not be made in full ({why}); the record is in "
                               f"results/{r.student}.json", 1000))


def bounded(render: Callable[[Result], str], r: Result, limit: int) -> str:
    """`render(r)`, made again from a record cut more tightly while it is over `limit` bytes."""
    text = render(r)
    for caps in LEVELS[1:]:
        if len(text.encode()) <= limit:
            return text
        text = render(clean_result_with(r, caps))
    if len(text.encode()) <= limit:
        return text
    return render(placeholder(r, "it was too large"))


def write_each(folder: Path, results: list[Result], name: Callable[[Result], str],
               render: Callable[[Result], str], limit: int, problems: list[str]) -> None:
    """One file per record under `folder`; a record whose file cannot be made gets a placeholder
    file, and the others are written whatever happens."""
    for r in results:
        if not safe_name(r.student):
            problems.append(f"no report for the record named {clean(r.student, 80)!r}: "
                            "not a safe file name")
            continue
        path = folder / name(r)
        try:
            atomic_write(path, bounded(render, r, limit), durable=False)
        except Exception as exc:  # noqa: BLE001 - one record never costs the others their files
            log.exception("report %s failed", path)
            problems.append(f"{path.name}: could not be written in full ({type(exc).__name__}: "
                            f"{clean(exc, 200)}); a placeholder was written")
            _write_placeholder(path, render, r, f"{type(exc).__name__}")


def _write_placeholder(path: Path, render, r: Result, why: str) -> None:
    try:
        atomic_write(path, render(placeholder(r, why)), durable=False)
    except Exception:  # noqa: BLE001 - the problem is reported by the caller already
        log.exception("placeholder %s failed", path)

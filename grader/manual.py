"""Manual questions: written answers graded by hand with a rubric.

A manual question is declared in the master notebook with otter's `manual: true` and in
assignment.toml with `manual = true` and a rubric.  The released notebook wraps each manual
question in `<!-- BEGIN QUESTION -->` / `<!-- END QUESTION -->` markdown cells, the answer cells
tagged `otter_answer_cell`; `answers` reads them back from a submission (the k-th such region is
the k-th manual question).  `grader manual` writes the grading pages (grader.reports.manual_pages);
the grades come back as a CSV (`load_grades`) and `merge` puts them into a record when it is
recorded, after the autograded score was stored: a grade never changes what is reused.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from grader.assignment import Assignment
from grader.errors import UsageError
from grader.results import QuestionResult, Result
from grader.text import clean, finite

BEGIN, END = "<!-- BEGIN QUESTION -->", "<!-- END QUESTION -->"
ANSWER_TAG = "otter_answer_cell"
CSV_COLUMNS = ["student", "question", "points", "items", "comment", "grader", "graded_at",
               "sha256"]
KEY_COLUMNS = ["anonymous_id", "student"]
ANSWER_CHARS = 20_000        # of one answer cell's source
IMAGE_BYTES = 2 << 20        # one embedded PNG
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FLAG = "manual grade of "     # the flags `merge` makes start so (and are made afresh each run)


@dataclass
class Answer:
    """One student's answer to one manual question: its cells (kind, source, PNG images)."""

    cells: list[dict] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        """The digest of what was graded: each cell's kind, source and images."""
        blob = json.dumps(self.cells, sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Grade:
    """A row of manual.csv: the points a grader gave one answer."""

    points: float
    items: list[int] = field(default_factory=list)
    comment: str = ""
    grader: str = ""
    graded_at: str = ""
    sha256: str = ""


def answers(path: Path, asg: Assignment) -> dict[str, Answer]:
    """The answers to `asg`'s manual questions in the notebook at `path` (a question whose region
    is missing gets none).  Never raises on a bad notebook: it has no answers."""
    from grader.errors import SubmissionError
    from grader.intake import read_regular

    limit = int(asg.limits.get("max_notebook_mb", 20) * 2**20)
    try:
        nb = json.loads(read_regular(Path(path), limit))
        cells = nb["cells"] if isinstance(nb, dict) and isinstance(nb.get("cells"), list) else []
    except (SubmissionError, ValueError, RecursionError):
        return {}
    regions, current = [], None
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = _source(cell.get("source"))
        if cell.get("cell_type") == "markdown" and source.lstrip().startswith(BEGIN):
            current = []
            regions.append(current)
            continue                     # the prompt
        if cell.get("cell_type") == "markdown" and source.lstrip().startswith(END):
            current = None
            continue
        if current is not None and _is_answer(cell):
            current.append(_answer_cell(cell, source))
    return {q.id: Answer(cells) for q, cells in zip(asg.manual, regions)}


def _is_answer(cell: dict) -> bool:
    meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    tags = meta.get("tags") if isinstance(meta.get("tags"), list) else []
    return ANSWER_TAG in tags or meta.get("editable") is not False


def _source(value: object) -> str:
    if isinstance(value, list):
        value = "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _answer_cell(cell: dict, source: str) -> dict:
    kind = "code" if cell.get("cell_type") == "code" else "markdown"
    images = []
    for out in cell.get("outputs") or [] if kind == "code" else []:
        data = out.get("data") if isinstance(out, dict) else None
        png = data.get("image/png") if isinstance(data, dict) else None
        image = _png(png)
        if image:
            images.append(image)
    return {"kind": kind, "source": clean(source, ANSWER_CHARS), "images": images[:8]}


def _png(value: object) -> str:
    """Base64 PNG data as the notebook holds it, when it is one (checked by its magic bytes)."""
    if isinstance(value, list):
        value = "".join(v for v in value if isinstance(v, str))
    if not isinstance(value, str) or len(value) > IMAGE_BYTES * 4 // 3 + 4:
        return ""
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except ValueError:
        return ""
    return base64.b64encode(raw).decode() if raw.startswith(PNG_MAGIC) else ""


# -- manual.csv ---------------------------------------------------------------------------------
def load_key(path: Path) -> dict[str, str]:
    """manual-key.csv: anonymous id -> student."""
    rows = _rows(path, KEY_COLUMNS)
    return {r["anonymous_id"].strip(): r["student"].strip() for r in rows}


def load_grades(path: Path, asg: Assignment, key: dict[str, str] | None = None
                ) -> dict[tuple[str, str], Grade]:
    """manual.csv (at least student,question,points) as (student, question) -> Grade; `student`
    may be an anonymous id of `key` (manual-key.csv, read from beside the CSV when not given).
    UsageError naming the row for anything wrong: an unknown question, points out of range, a
    rubric item that does not exist."""
    path = Path(path)
    if key is None and (path.parent / "manual-key.csv").is_file():
        key = load_key(path.parent / "manual-key.csv")
    key = key or {}
    manual = {q.id: q for q in asg.manual}
    grades: dict[tuple[str, str], Grade] = {}
    for n, row in enumerate(_rows(path, ["student", "question", "points"]), 2):
        where = f"{path}, line {n}"
        student = (row.get("student") or "").strip()
        student = key.get(student, student)
        qid = (row.get("question") or "").strip()
        if not student:
            raise UsageError(f"{where}: no student")
        if qid not in manual:
            raise UsageError(f"{where}: {qid!r} is not a manual question of {asg.name} "
                             f"(manual questions: {', '.join(manual) or 'none'})")
        q = manual[qid]
        items = _items(row.get("items") or "", q, where)
        text = (row.get("points") or "").strip()
        points = finite(_number(text)) if text else q.rubric_score(items) if items else None
        if points is None or not 0 <= points <= q.points:
            raise UsageError(f"{where}: points must be a number from 0 to {q.points:g}, not "
                             f"{text!r}")
        grades[(student, qid)] = Grade(points, items, _text(row.get("comment")),
                                       _text(row.get("grader")), _text(row.get("graded_at")),
                                       (row.get("sha256") or "").strip().lower())
    return grades


def load_all(paths, asg: Assignment, *, key: Path | str | None = None
             ) -> dict[tuple[str, str], Grade]:
    """The grades of one manual.csv or several (a later file's row wins), `key` a
    manual-key.csv for all of them; {} for none."""
    if not paths:
        return {}
    if isinstance(paths, (str, Path)):
        paths = [paths]
    table = load_key(Path(key)) if key else None
    grades: dict[tuple[str, str], Grade] = {}
    for p in paths:
        if not Path(p).is_file():
            raise UsageError(f"--manual {p}: no such file")
        grades.update(load_grades(Path(p), asg, table))
    return grades


def unknown(found, grades: dict) -> None:
    """Note on `found` (an intake) the students of manual.csv who handed nothing in: an id the
    key did not map, or a student of another class."""
    known = {s.student for s in [*found.submissions, *found.rejected]} | set(found.missing)
    strays = sorted({student for student, _ in grades} - known)
    if strays:
        found.notes.append(f"manual.csv grades {len(strays)} student(s) not in this batch, left "
                           f"out: {', '.join(strays[:10])}{' ...' if len(strays) > 10 else ''}")


def _text(value: object) -> str:
    """A text cell as written, without the `'` the pages put before a leading =, +, -, @."""
    text = value if isinstance(value, str) else ""
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@", "\t", "\r") else text


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _items(text: str, q, where: str) -> list[int]:
    """Rubric item numbers from `1;3` (or `1 3`, `1,3`), each checked against the rubric."""
    out = []
    for part in text.replace(",", ";").replace(" ", ";").split(";"):
        if not part.strip():
            continue
        if not part.strip().isdigit() or not 1 <= int(part) <= len(q.rubric):
            raise UsageError(f"{where}: rubric item {part.strip()!r} of {q.id} does not exist "
                             f"(items 1 to {len(q.rubric)})")
        out.append(int(part))
    return sorted(set(out))


def _rows(path: Path, needed: list[str]) -> list[dict]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in needed if c not in (reader.fieldnames or [])]
    if missing:
        raise UsageError(f"{path}: needs the columns {', '.join(needed)}; missing "
                         f"{', '.join(missing)}")
    return list(reader)


# -- the merge, at record time ------------------------------------------------------------------
def merge(result: Result, asg: Assignment, grades: dict[tuple[str, str], Grade],
          found: dict[str, Answer] | None) -> None:
    """Put `asg`'s manual questions into `result` (in notebook order), graded from `grades`
    where the answer graded is the one handed in (`found`: the student's answers; None when
    there is no notebook).  The score becomes the autograded raw score plus the graded manual
    points (a stored record's earlier manual points taken out first), before any late penalty;
    a grade for an answer that changed is left out and the question flagged."""
    if not asg.manual:
        return
    result.flags = [f for f in result.flags if not f.startswith(FLAG)]
    earlier = sum(q.score for q in result.questions if q.manual)
    auto = [q for q in result.questions if not q.manual]
    raw = round(max(result.raw_score() - earlier, 0.0), 6)
    by_id = {q.id: q for q in auto}
    questions = []
    for q in asg.questions:
        if not q.manual:
            if q.id in by_id:
                questions.append(by_id.pop(q.id))
            continue
        questions.append(_manual_question(result, q, grades.get((result.student, q.id)),
                                          found))
    questions += by_id.values()
    result.questions = questions
    total = round(raw + sum(q.score for q in questions if q.manual), 6)
    result.max_score = round(sum(q.max_score for q in questions), 6)
    if isinstance(result.lateness, dict) and "raw_score" in result.lateness:
        result.lateness = {**result.lateness, "raw_score": total}
    result.score = total


def _manual_question(result: Result, q, grade: Grade | None, found) -> QuestionResult:
    answer = found.get(q.id) if found is not None else None
    digest = answer.sha256 if answer is not None else ""
    manual = {"state": "pending", "answer_sha256": digest}
    if found is None or answer is None:
        manual["state"] = "no answer"
    if grade is not None:
        manual.update(items=[{"n": k, "points": q.rubric[k - 1].points,
                              "text": q.rubric[k - 1].text} for k in grade.items],
                      comment=grade.comment, grader=grade.grader, graded_at=grade.graded_at,
                      graded_sha256=grade.sha256)
        if grade.sha256 and grade.sha256 != digest:
            manual["state"] = "changed"
            flag = (f"{FLAG}{q.id}: the answer changed after it was graded "
                    f"(graded {grade.sha256[:12]}, "
                    f"handed in {digest[:12] or 'none'}): grade it again")
            if flag not in result.flags:
                result.flags.append(flag)
        else:
            manual["state"] = "graded"
            return QuestionResult(q.id, q.title, grade.points, q.points, [], manual)
    return QuestionResult(q.id, q.title, 0.0, q.points, [], manual)


__all__ = ["Answer", "Grade", "answers", "load_all", "load_grades", "load_key", "merge",
           "CSV_COLUMNS"]

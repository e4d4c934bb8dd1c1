"""The grading pages of `grader manual`: one self-contained HTML page per manual question.

Every answer is on the page, in a stable shuffled order, under an opaque id: no student name or
id is on it, and OUT/manual-key.csv maps the opaque ids back to students (`grade --manual` reads
it from beside the CSV, or from --manual-key).  An answer's markdown is rendered with its HTML
escaped, links shown as text and images left out; a code answer is shown as code, with the PNG
figures its outputs hold.  The page's Content-Security-Policy lets it load nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment
from grader.store import atomic_write

SEED_FILE = ".manual-seed"


@dataclass
class Entry:
    """One answer on a page: its opaque id, the student (kept off the page), the answer."""

    aid: str
    student: str
    answer: object          # grader.manual.Answer, or None when the notebook has none


def seed_for(out: Path, seed: str | None) -> str:
    """The seed that keys the opaque ids and the order: `seed`, else the one kept in
    OUT/.manual-seed (so that pages made again keep their ids), else a new random one."""
    path = Path(out) / SEED_FILE
    if seed is None and path.is_file():
        seed = path.read_text(encoding="utf-8").strip()
    seed = seed or secrets.token_hex(16)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, seed + "\n")
    return seed


def opaque_id(seed: str, student: str) -> str:
    """A short id that names an answer without naming its student (an HMAC under `seed`)."""
    mac = hmac.new(seed.encode(), student.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return "a" + mac.hexdigest()[:10]


def ordered(seed: str, students: list[str]) -> list[tuple[str, str]]:
    """(opaque id, student) in the stable shuffled order `seed` gives."""
    pairs = [(opaque_id(seed, s), s) for s in students]
    return sorted(pairs, key=lambda p: hmac.new(seed.encode(), b"order:" + p[0].encode(),
                                                hashlib.sha256).hexdigest())


def _markdown():
    import mistune

    class Renderer(mistune.HTMLRenderer):
        """HTML escaped; no link to follow and no image to load: both shown as text."""

        def link(self, text, url, title=None):
            return f"{text} <span class=\"url\">({mistune.escape(url)})</span>"

        def image(self, text, url, title=None):
            return f"<span class=\"img\">[image: {text}]</span>"

    return mistune.create_markdown(escape=True, renderer=Renderer(escape=True))


def render_cells(answer) -> list[dict]:
    """An answer's cells for the page: markdown as safe HTML, code as text, PNG data URIs."""
    md = _markdown()
    cells = []
    for c in (answer.cells if answer is not None else []):
        html = md(c["source"]) if c["kind"] == "markdown" else ""
        cells.append({"kind": c["kind"], "html": html, "source": c["source"],
                      "images": [f"data:image/png;base64,{b}" for b in c["images"]]})
    return cells


def _json(value) -> str:
    """JSON to put inside a <script> element: no `<` that could end it."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(
        "\u2028", "\\u2028").replace("\u2029", "\\u2029")


def page(asg: Assignment, q, entries: list[Entry]) -> str:
    """The grading page of manual question `q`."""
    from grader.reports.feedback import _env, _fmt

    shown = [{"aid": e.aid, "sha256": e.answer.sha256 if e.answer is not None else "",
              "cells": render_cells(e.answer)} for e in entries]
    data = {"assignment": asg.name, "question": q.id, "points": q.points,
            "rubric": [{"n": k, "points": i.points, "text": i.text}
                       for k, i in enumerate(q.rubric, 1)],
            "answers": [{"aid": a["aid"], "sha256": a["sha256"]} for a in shown]}
    return _env().get_template("manual.html").render(
        asg=asg, q=q, answers=shown, data=_json(data), fmt=_fmt)


def key_csv(entries: list[Entry]) -> str:
    """manual-key.csv: anonymous_id,student."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["anonymous_id", "student"])
    for e in sorted(entries, key=lambda e: e.student):
        writer.writerow([e.aid, e.student])
    return buf.getvalue()


def write_pages(out: Path, asg: Assignment, answers_by_student: dict, seed: str) -> dict[str, Path]:
    """OUT/<question>.html for each manual question and OUT/manual-key.csv; the paths written."""
    out = Path(out)
    entries = [Entry(aid, student, None)
               for aid, student in ordered(seed, list(answers_by_student))]
    files = {}
    for q in asg.manual:
        rows = [Entry(e.aid, e.student, answers_by_student[e.student].get(q.id)) for e in entries]
        files[q.id] = out / f"{q.id}.html"
        atomic_write(files[q.id], page(asg, q, rows), durable=False)
    files["key"] = out / "manual-key.csv"
    atomic_write(files["key"], key_csv(entries))
    return files

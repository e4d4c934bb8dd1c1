"""The report writers fed from records alone: no sandbox, judge or browser, so they run in the fast
tier.  The records hold what a hostile submission can put in them (Hangul, lone surrogates,
control codes, ANSI colours, markup), every status, and a result that a writer cannot render."""

from __future__ import annotations

import csv
import dataclasses
import json
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from grader import assignment
from grader.reports import write_reports
from grader import results
from grader.policy import Policy
from grader.results import QuestionResult, Result
from grader.text import clean_result
from conftest import MINI_COURSE

SCHEMA = json.loads((Path(assignment.__file__).parent / "schema"
                     / "gradescope_results.schema.json").read_text())
HOSTILE = "<script>alert(1)</script><marquee>m</marquee> 학생 \ud800 \x1b[31mred\x1b[0m \x07 &amp;"


def _questions(q1: float, q2: float, message: str = "") -> list[QuestionResult]:
    return [
        QuestionResult("q1", "double(t)", q1, 2, [
            results.TestResult("test_double", "test_mini.py::test_double", "q1",
                       "passed" if q1 == 2 else "failed", q1, 2, "" if q1 == 2 else message)]),
        QuestionResult("q2", "Scale module", q2, 3, [
            results.TestResult("test_scale", "test_mini.py::test_scale", "q2",
                       "passed" if q2 == 3 else "failed", q2, 3, "" if q2 == 3 else message)]),
    ]


def _record(student: str, status: str, q1: float = 0, q2: float = 0, **kw) -> Result:
    raw = Result(student=student, assignment="mini", status=status, score=q1 + q2, max_score=5,
                 questions=_questions(q1, q2, kw.pop("message", "")),
                 environment={"torch": "2.13.0", "device": "cpu", "sandbox": "bwrap"},
                 timing={"wall_s": 0.2 + q1}, **kw)
    return clean_result(raw)            # as the batch stores every record


RECORDS = [
    _record("full", "graded", 2, 3),
    _record("김민준", "graded", 2, 0, message="scale gave " + HOSTILE),
    _record("markup", "graded", 0, 0, message=HOSTILE * 50),
    _record("timed_out", "timeout", reason="cell 3 ran past its 5 s limit"),
    _record("bad_json", "invalid", reason="not valid JSON: " + HOSTILE),
    _record("crashed", "error", reason="the grader failed on this submission: " + HOSTILE),
    _record("absent", "missing", reason="no submission"),
]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("records")
    problems: list[str] = []
    asg = assignment.load("mini", MINI_COURSE)
    write_reports(out, RECORDS, asg, problems=problems)
    assert problems == []
    return out


class _Page(HTMLParser):
    """What a browser would run or fetch, and the text it would show."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.sources += [v or "" for k, v in attrs if k in ("src", "href")]

    def handle_data(self, data):
        self.text.append(data)


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_every_record_gets_its_report_and_its_row(out):
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert len(rows) == len(RECORDS)
    for r in RECORDS:
        assert (out / "reports" / f"{r.student}.html").is_file(), r.student
    assert len(list((out / "reports").glob("*.html"))) == len(RECORDS)
    assert len(list((out / "reports").glob("*.md"))) == len(RECORDS)
    scores = sorted(float(row["score"]) for row in rows)
    assert scores == sorted(r.score for r in RECORDS)


def test_hostile_text_never_becomes_markup_script_or_control_codes(out):
    for path in [out / "summary.html", *(out / "reports").glob("*.html")]:
        page = _page(path)
        assert not {"script", "marquee"} & page.tags, path.name
        assert not [s for s in page.sources if ":" in s.split("/")[0] and not s.startswith("data:")]
        assert not [s for s in page.sources if s.startswith("//")], path.name
        shown = "".join(page.text)
        assert "\x1b" not in shown and "\x07" not in shown, path.name
        path.read_text(encoding="utf-8").encode("utf-8")       # no lone surrogate reached the file
    for path in (out / "reports").glob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert "\x1b" not in text and "<script>" not in text, path.name


def test_hangul_names_and_messages_survive_to_the_student(out):
    page = "".join(_page(out / "reports" / "김민준.html").text)
    assert "김민준" in page and "학생" in page and "2 / 5" in page.replace("2.0", "2")


def test_gradescope_files_follow_the_specification_for_every_status(out):
    for r in RECORDS:
        data = json.loads((out / "gradescope" / r.student / "results.json").read_text())
        jsonschema.validate(data, SCHEMA)
        assert data["score"] == r.score


@pytest.mark.parametrize("level", ["full", "scores", "public"])
def test_gradescope_files_show_what_the_feedback_setting_allows(tmp_path, level):
    due = datetime(2026, 10, 5, 23, 59, tzinfo=timezone(timedelta(hours=9)))
    pol = Policy(due=due, feedback=level, feedback_after="full")
    asg = dataclasses.replace(assignment.load("mini", MINI_COURSE), policy=pol)
    for when, shown in (("before", level), ("after", "full")):
        write_reports(tmp_path / when, RECORDS, asg,
                      now=due + timedelta(hours=-1 if when == "before" else 1))
        for r in RECORDS:
            raw = (tmp_path / when / "gradescope" / r.student / "results.json").read_text()
            data = json.loads(raw)
            jsonschema.validate(data, SCHEMA)
            assert data["score"] == r.score
            hidden = [t for t in data["tests"] if t["name"].endswith(("test_double", "test_scale"))]
            assert bool(hidden) == (shown != "public" and bool(r.questions[0].tests)), r.student
            assert all(("output" in t) == (shown == "full") for t in hidden)
        student = (tmp_path / when / "gradescope" / "김민준" / "results.json").read_text()
        assert ("scale gave" in student) == (shown == "full")       # the hidden test's message


def test_the_summary_counts_each_status_once(out):
    text = " ".join("".join(_page(out / "summary.html").text).split())
    for status in ("timeout", "invalid", "error", "missing"):
        assert status in text
    assert "crashed" in text and "bad_json" in text        # the flagged rows are named


def test_a_record_whose_name_is_no_file_name_costs_no_other_its_report(tmp_path):
    problems: list[str] = []
    bad = _record("../<b>x</b>", "graded", 2, 3)
    write_reports(tmp_path, [bad, *RECORDS], assignment.load("mini", MINI_COURSE), problems=problems)
    assert any("not a safe file name" in p for p in problems)
    assert len(list((tmp_path / "reports").glob("*.html"))) == len(RECORDS)
    assert not list(tmp_path.parent.glob("*.html")) and not (tmp_path / "x").exists()

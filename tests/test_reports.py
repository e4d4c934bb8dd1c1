"""Reports as people see them: Markdown, Gradescope files against the spec's schema, and the HTML
pages opened in headless Chromium (text checked, plots rendered, a screenshot kept)."""

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from grader import api
from conftest import MINI_COURSE, SCENARIOS_FOR_REPORTS

SCHEMA = json.loads((Path(api.__file__).parent / "schema" / "gradescope_results.schema.json").read_text())


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    subs = root / "subs"
    subs.mkdir()
    for name, path in SCENARIOS_FOR_REPORTS.items():
        shutil.copy(path, subs / f"{name}.ipynb")
    api.grade(subs, assignment="mini", out=root / "out", jobs=2, sandbox="none", course=MINI_COURSE)
    return root / "out"


def test_every_submission_gets_every_report(out):
    students = sorted(p.stem for p in (out / "results").glob("*.json"))
    assert students == sorted(SCENARIOS_FOR_REPORTS)
    for s in students:
        assert (out / "reports" / f"{s}.md").is_file() and (out / "reports" / f"{s}.html").is_file()
        assert (out / "gradescope" / s / "results.json").is_file()
    assert (out / "summary.html").is_file()


def test_gradescope_files_follow_the_specification(out):
    for path in (out / "gradescope").glob("*/results.json"):
        data = json.loads(path.read_text())
        jsonschema.validate(data, SCHEMA)
        record = json.loads((out / "results" / f"{path.parent.name}.json").read_text())
        assert data["score"] == record["score"]
        assert sum(t["max_score"] for t in data["tests"]) == record["max_score"]
    blank = json.loads((out / "gradescope" / "blank" / "results.json").read_text())
    assert {t["visibility"] for t in blank["tests"]} == {"after_published"}
    assert all(t["status"] == "failed" for t in blank["tests"])


def test_markdown_feedback_is_short_and_says_what_to_fix(out):
    md = (out / "reports" / "blank.md").read_text()
    assert md.startswith("# mini: 0 / 5")
    assert "## What to fix" in md and "should be a torch.Tensor, but your code gave NoneType" in md
    assert len(md) < 4000
    invalid = (out / "reports" / "not_json.md").read_text()
    assert "not valid JSON" in invalid and "not graded" in invalid


def test_reports_are_self_contained(out):
    for page in [out / "summary.html", *(out / "reports").glob("*.html")]:
        html = page.read_text()
        assert "http://" not in html and "https://" not in html and "<script" not in html


def test_summary_page_in_a_browser(out, browser, tmp_path):
    browser.get((out / "summary.html").as_uri())
    assert browser.find_element("id", "n").text == str(len(SCENARIOS_FOR_REPORTS))
    body = browser.find_element("tag name", "body").text
    assert "mini: class summary" in body and "Tests, hardest first" in body and "invalid" in body
    for plot in ("score-plot", "time-plot"):
        size = browser.execute_script(
            f"const i = document.getElementById('{plot}'); return [i.complete, i.naturalWidth, i.naturalHeight];")
        assert size[0] and size[1] > 200 and size[2] > 100, (plot, size)
    assert browser.save_screenshot(str(tmp_path / "summary.png"))


def test_student_report_in_a_phone_sized_browser(out, browser, tmp_path):
    browser.set_window_size(390, 844)
    browser.get((out / "reports" / "blank.html").as_uri())
    assert browser.find_element("id", "score").text == "0 / 5"
    body = browser.find_element("tag name", "body").text
    assert "should be a torch.Tensor, but your code gave NoneType" in body
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, "the report scrolls sideways on a phone"
    assert browser.save_screenshot(str(tmp_path / "student.png"))


def test_a_message_several_tests_gave_is_shown_once():
    from html import unescape

    from grader.reports.feedback import html, markdown
    from grader.results import QuestionResult, Result, TestResult

    same = "Scale should register exactly one parameter, named `factor`"
    tests = [TestResult(f"test_{i}", f"t.py::test_{i}", "q2", "failed", 0, 1, same)
             for i in range(3)]
    tests.append(TestResult("test_other", "t.py::test_other", "q2", "failed", 0, 1, "other"))
    r = Result(student="ada", assignment="mini", status="graded", max_score=4,
               questions=[QuestionResult("q2", "Scale module", 0, 4, tests)])
    md, page = markdown(r), unescape(html(r))
    assert md.count("exactly one parameter") == 1 and page.count("exactly one parameter") == 1
    assert "3 tests (` test_0 `, ` test_1 `, ` test_2 `)" in md and "` test_other `: other" in md
    assert "the same for 3 tests of this question" in page
    assert page.count("the same message as test_0") == 2


def test_summary_says_what_its_mean_counts(tmp_path):
    from html import unescape

    from grader.reports.summary import write_summary
    from grader.results import Result

    rows = [Result("ada", "mini", "graded", 4, 5), Result("bo", "mini", "graded", 1, 5,
                                                           reason="timeout in cell 3 (5 s)"),
            Result("cy", "mini", "missing", 0, 5, reason="no submission was received"),
            Result("di", "mini", "invalid", 0, 5, reason="not valid JSON")]
    page = unescape(write_summary(tmp_path, rows, assignment="mini", max_score=5).read_text())
    assert '<b id="n">4</b>' in page and '<b id="graded">2</b>' in page
    assert 'mean of all 4<b id="mean">1.2 / 5</b>' in page
    assert 'mean of the 2 graded<b id="mean-graded">2.5 / 5</b>' in page
    assert "count every row: 1 missing and 1 invalid counted as 0." in page
    flagged = page[page.index('id="flagged"'):page.index("</table>", page.index('id="flagged"'))]
    assert "timeout in cell 3 (5 s)" in flagged and "ada" not in flagged


def test_reports_are_rewritten_only_when_they_change(tmp_path):
    from grader.store import atomic_write

    path = tmp_path / "reports" / "ada.html"
    atomic_write(path, "one", durable=False)
    first = path.stat().st_ino
    atomic_write(path, "one", durable=False)            # unchanged: the very same file stays
    assert path.stat().st_ino == first and path.read_text() == "one"
    atomic_write(path, "two", durable=False)
    assert path.stat().st_ino != first and path.read_text() == "two"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]

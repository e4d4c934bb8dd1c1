"""The bundled sample class (what `make demo` grades) gets exactly what expected.toml says."""

import csv
import tomllib

import pytest

from grader import api
from grader.api import load_assignment
from conftest import DATA, ROOT

CLASS = DATA / "demo_class"
EXPECTED = tomllib.loads((CLASS / "expected.toml").read_text())


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    batch = api.grade(CLASS, assignment="custom_model", out=out, jobs=2, sandbox="auto",
                      course=ROOT, submitted_at=CLASS / "submitted_at.csv")
    return out, {r.student: r for r in batch.results}


def test_one_row_per_sample_file(demo):
    out, results = demo
    files = sorted(p.stem for p in CLASS.glob("*.ipynb"))
    assert len(files) >= 12 and sorted(results) == files == sorted(EXPECTED)
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student"] for r in rows) == files
    assert {r["student"] for r in rows if float(r["penalty"] or 0)} == {"pia_late"}
    written = sum(q.points for q in load_assignment("custom_model", course=ROOT).manual)
    assert written > 0
    assert all(float(r["max_score"]) == EXPECTED["ada_correct"]["score"] + written for r in rows)


def test_written_answers_are_to_be_graded_by_hand(demo):
    out, results = demo
    manual = [q.id for q in load_assignment("custom_model", course=ROOT).manual]
    with open(out / "grades.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    for student, r in results.items():
        if r.status in ("invalid", "missing"):
            assert r.pending() == [], student
            continue
        assert r.pending() == manual, student
        assert all(rows[student][q] == "to be graded by hand" for q in manual)
    assert "to be graded by hand" in (out / "reports" / "ada_correct.md").read_text()
    assert "to be graded by hand" in (out / "summary.html").read_text()


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_sample(demo, student):
    _, results = demo
    exp, r = EXPECTED[student], results[student]
    blank = results["ben_blank"].score
    if "status" in exp:
        assert r.status == exp["status"], r.reason
    if "score" in exp:
        assert r.score == exp["score"], [(t.name, t.message) for q in r.questions for t in q.tests
                                         if t.outcome != "passed"]
    if "score_at_most" in exp:
        assert r.score <= blank
    if "penalty" in exp:
        assert r.lateness["penalty"] == exp["penalty"]
        assert r.raw_score() == EXPECTED["ada_correct"]["score"]
    if "cell_errors" in exp:
        assert len(r.cell_errors) == exp["cell_errors"]
    scores = {q.id: (q.score, q.max_score) for q in r.questions}
    for qid in exp.get("loses", []):
        assert scores[qid][0] < scores[qid][1], f"{student} keeps full marks on {qid}"
    if "loses" in exp:
        kept = [q.id for q in r.questions if q.id not in exp["loses"] and not q.manual]
        assert all(scores[q][0] == scores[q][1] for q in kept), "a mutant lost points elsewhere"


def test_demo_pages_in_a_browser(demo, browser, tmp_path):
    out, results = demo
    browser.set_window_size(1000, 1400)
    browser.get((out / "summary.html").as_uri())
    assert browser.find_element("id", "n").text == str(len(results))
    flagged = browser.find_element("id", "flagged").text
    assert "jay_not_json" in flagged and "oli_exits_early" in flagged
    assert browser.execute_script("return document.getElementById('score-plot').naturalWidth") > 200
    browser.save_screenshot(str(tmp_path / "demo-summary.png"))
    browser.get((out / "reports" / "dana_list_of_modules.html").as_uri())
    dana = results["dana_list_of_modules"]
    assert browser.find_element("id", "score").text == f"{dana.score:g} / {dana.max_score:g}"
    browser.save_screenshot(str(tmp_path / "demo-student.png"))

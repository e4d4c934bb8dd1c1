"""Manual questions: authoring, the grading pages, and merging hand grades into every output."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from grader import api, assign, lint, manual
from grader.assignment import load
from grader.errors import AssignmentError, UsageError
from conftest import MINI_COURSE, ROOT

RUBRIC = """
[[questions]]
id = "q3"
title = "Why zero_grad"
points = 2
manual = true

[[questions.rubric]]
points = 1
text = "says backward adds to .grad"

[[questions.rubric]]
points = 1
text = "names gradient accumulation"

[[questions.rubric]]
points = -1
text = "says gradients are reset automatically"
"""
PROMPT = "What goes wrong without `optimizer.zero_grad()`?"
ANSWERS = {
    "김민수": "Gradients **accumulate**: `backward` adds to `.grad`.",
    "bob": "<script>alert('x')</script><img src=http://evil.example/x.png> [click](javascript:1)",
    "carol": "No idea.",
}


def manual_course(root: Path) -> Path:
    """The mini course with a manual question q3 (notebook and assignment.toml), released."""
    course = root / "course"
    shutil.copytree(MINI_COURSE, course, ignore=shutil.ignore_patterns("submissions"))
    toml = course / "solutions" / "mini" / "assignment.toml"
    toml.write_text(toml.read_text() + RUBRIC)
    master = course / "solutions" / "mini" / "mini.ipynb"
    nb = nbformat.read(master, as_version=4)
    raw = nbformat.v4.new_raw_cell
    nb.cells += [raw("# BEGIN QUESTION\nname: q3\npoints: 2\nmanual: true"),
                 nbformat.v4.new_markdown_cell(PROMPT), raw("# BEGIN SOLUTION"),
                 nbformat.v4.new_markdown_cell("backward accumulates into .grad"),
                 raw("# END SOLUTION"), raw("# END QUESTION")]
    nbformat.write(nb, master)
    return course


def answered(release: Path, text: str, dest: Path) -> Path:
    """The solution release with `text` as the written answer."""
    nb = nbformat.read(release, as_version=4)
    cell = next(c for c in nb.cells if manual.ANSWER_TAG in c.metadata.get("tags", []))
    cell.source = text
    nbformat.write(nb, dest)
    return dest


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """(course, submissions dir): three students who answered q3, and one not-a-notebook."""
    root = tmp_path_factory.mktemp("manual")
    course = manual_course(root)
    asg = load("mini", course)
    release = assign.build_release(asg, root / "release")
    subs = root / "subs"
    subs.mkdir()
    for student, text in ANSWERS.items():
        answered(release.solution, text, subs / f"{student}.ipynb")
    (subs / "dan.ipynb").write_text("not a notebook")
    return course, subs


def test_the_toml_refuses_a_rubric_that_cannot_be_used(tmp_path):
    course = manual_course(tmp_path)
    toml = course / "solutions" / "mini" / "assignment.toml"
    good = toml.read_text()
    assert [q.id for q in load("mini", course).manual] == ["q3"]
    # a manual question and its rubric are no part of what decides an autograded result
    assert load("mini", course).suite_hash() == load("mini", MINI_COURSE).suite_hash()
    toml.write_text(good.replace("names gradient accumulation", "names accumulation"))
    assert load("mini", course).suite_hash() == load("mini", MINI_COURSE).suite_hash()
    for bad, said in [(good.replace('text = "names gradient accumulation"\n',
                                    'text = "x"\nweight = 2\n'), "unknown setting"),
                      (good.replace("manual = true", "manual = false"), "is not manual"),
                      (good.split("[[questions.rubric]]")[0], "needs a rubric"),
                      (good.replace('points = 1\ntext = "says', 'text = "says'),
                       "needs points and text")]:
        toml.write_text(bad)
        with pytest.raises(AssignmentError, match=said):
            load("mini", course)


def test_the_lint_allows_manual_only_where_the_toml_says_so_and_wants_an_answer_cell(tmp_path):
    course = manual_course(tmp_path)
    assert lint.lint(load("mini", course)) == []
    master = course / "solutions" / "mini" / "mini.ipynb"
    nb = nbformat.read(master, as_version=4)
    del nb.cells[-4:-1]                       # the SOLUTION block: no answer cell
    nbformat.write(nb, master)
    found = lint.lint(load("mini", course))
    assert len(found) == 1 and "no answer cell" in found[0] and "q3" in found[0]
    toml = course / "solutions" / "mini" / "assignment.toml"
    toml.write_text(toml.read_text().split("\n[[questions]]\nid = \"q3\"")[0])
    found = lint.lint(load("mini", course))
    assert any("does not mark manual" in p for p in found), found


def test_pages_are_anonymous_safe_and_stable(course, tmp_path):
    course_dir, subs = course
    files = api.manual(subs, assignment="mini", out=tmp_path / "pages", course=course_dir,
                       seed="s1")
    page = files["q3"].read_text()
    for student in [*ANSWERS, "dan"]:
        assert student not in page
    assert "<script>alert" not in page and "evil.example/x.png\"" not in page
    assert "&lt;script&gt;" in page and "<strong>accumulate</strong>" in page
    assert 'href="javascript' not in page and "http://" not in page.split("<main")[0]
    key = {r["anonymous_id"]: r["student"] for r in csv.DictReader(files["key"].open())}
    assert sorted(key.values()) == sorted(ANSWERS)
    assert all(aid in page for aid in key)
    again = api.manual(subs, assignment="mini", out=tmp_path / "again", course=course_dir,
                       seed="s1")["q3"].read_text()
    other = api.manual(subs, assignment="mini", out=tmp_path / "other", course=course_dir,
                       seed="s2")["q3"].read_text()
    order = [a["aid"] for a in json.loads(_data(page))["answers"]]
    assert order == [a["aid"] for a in json.loads(_data(again))["answers"]]
    assert set(order).isdisjoint(a["aid"] for a in json.loads(_data(other))["answers"])


def _data(page: str) -> str:
    return page.split('<script type="application/json" id="data">')[1].split("</script>")[0]


def grade(course, subs, out, manual_csv=None, key=None):
    return api.grade(subs, assignment="mini", course=course, out=out, jobs=1, manual=manual_csv,
                     manual_key=key, formats=("otter",))


def write_csv(path: Path, rows: list[list]) -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([manual.CSV_COLUMNS, *rows])
    return path


def test_pending_then_merged_into_every_output_without_regrading(course, tmp_path):
    import jsonschema

    course_dir, subs = course
    out = tmp_path / "out"
    first = {r.student: r for r in grade(course_dir, subs, out).results}
    kim = first["김민수"]
    assert kim.score == 5 and kim.max_score == 7 and kim.pending() == ["q3"]
    assert first["dan"].status == "invalid" and first["dan"].pending() == []
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert rows["김민수"]["q3"] == "to be graded by hand" and rows["김민수"]["score"] == "5"
    assert "to be graded by hand" in (out / "reports" / "김민수.md").read_text()
    assert "to be graded by hand" in (out / "reports" / "김민수.html").read_text()
    gs = json.loads((out / "gradescope" / "김민수" / "results.json").read_text())
    assert [t for t in gs["tests"] if t["name"].startswith("q3")][0].get("score") is None

    found = manual.answers(subs / "김민수.ipynb", load("mini", course_dir))
    sheet = write_csv(tmp_path / "manual.csv", [
        ["김민수", "q3", "", "1;2", "=clear, thorough", "ta1", "2026-01-01T00:00:00Z",
         found["q3"].sha256],
        ["bob", "q3", "0", "3", "reset is wrong", "ta1", "", ""]])
    second = grade(course_dir, subs, out, sheet)
    assert second.graded_now == 1 and second.reused == 3        # only dan (invalid) is redone
    by = {r.student: r for r in second.results}
    kim, bob = by["김민수"], by["bob"]
    assert kim.score == 7 and kim.pending() == [] and bob.score == 5 and by["carol"].pending()
    q3 = next(q for q in kim.questions if q.id == "q3")
    assert [i["n"] for i in q3.manual["items"]] == [1, 2]
    assert q3.manual["comment"] == "=clear, thorough" and q3.manual["grader"] == "ta1"
    stored = json.loads((out / "results" / "김민수.json").read_text())
    schema = json.loads((ROOT / "grader" / "schema" / "result.schema.json").read_text())
    jsonschema.validate(stored, schema)
    assert stored["score"] == 7 and stored["questions"][2]["manual"]["state"] == "graded"
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert rows["김민수"]["q3"] == "2" and rows["김민수"]["score"] == "7"
    assert rows["bob"]["q3"] == "0" and rows["carol"]["q3"] == "to be graded by hand"
    md = (out / "reports" / "김민수.md").read_text()
    assert "says backward adds to .grad" in md and "clear, thorough" in md
    html = (out / "reports" / "bob.html").read_text()
    assert "says gradients are reset automatically" in html and "reset is wrong" in html
    gs = json.loads((out / "gradescope" / "김민수" / "results.json").read_text())
    gs_schema = json.loads((ROOT / "grader" / "schema" / "gradescope_results.schema.json")
                           .read_text())
    for student in ANSWERS:
        jsonschema.validate(json.loads((out / "gradescope" / student / "results.json").read_text()),
                            gs_schema)
    assert gs["score"] == 7
    assert [t["score"] for t in gs["tests"] if t["name"].startswith("q3")] == [2]
    otter = {r["file"]: r for r in csv.DictReader((out / "final_grades.csv").open())}
    kim_row = otter["김민수.ipynb"]
    assert kim_row["q3"] == "2" and kim_row["total_points_earned"] == "7"
    summary = (out / "summary.html").read_text()
    assert "2 graded by hand" in summary and "1 to be graded by hand" in summary
    assert "1/2" in summary.split('id="rubric-q3"')[1].split("</table>")[0]

    third = grade(course_dir, subs, out)          # without the CSV: pending again, nothing regraded
    assert third.graded_now == 1 and {r.student: r for r in third.results}["김민수"].pending()
    from grader import cli

    assert "written answers: 3 to be graded by hand" in "\n".join(cli.summary_lines(third))


def test_canvas_takes_the_merged_score(course, tmp_path):
    course_dir, subs = course
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name,canvas_id\n김민수,김민수,101\nbob,Bob,102\n"
                      "carol,Carol,103\ndan,Dan,104\n")
    sheet = write_csv(tmp_path / "manual.csv", [["bob", "q3", "1.5", "", "", "", "", ""]])
    api.grade(subs, assignment="mini", course=course_dir, out=tmp_path / "out", jobs=1,
              manual=sheet, roster=roster, formats=("canvas",))
    rows = list(csv.reader((tmp_path / "out" / "canvas_grades.csv").open()))
    assert [r[-1] for r in rows if r[1] == "102"] == ["6.5"]


def test_a_changed_answer_is_flagged_and_left_ungraded(course, tmp_path):
    course_dir, subs = course
    pages = api.manual(subs, assignment="mini", out=tmp_path / "pages", course=course_dir)
    key = {r["student"]: r["anonymous_id"] for r in csv.DictReader(pages["key"].open())}
    data = json.loads(_data(pages["q3"].read_text()))
    digest = {a["aid"]: a["sha256"] for a in data["answers"]}
    sheet = write_csv(tmp_path / "pages" / "manual.csv", [
        [key["carol"], "q3", "2", "1;2", "", "ta2", "", digest[key["carol"]]]])
    changed = tmp_path / "subs"
    shutil.copytree(subs, changed)
    release = changed / "carol.ipynb"
    answered(release, "I changed my answer after the deadline.", release)
    r = {r.student: r for r in grade(course_dir, changed, tmp_path / "out", sheet).results}
    carol = r["carol"]
    assert carol.score == 5 and carol.pending() == ["q3"]
    assert any("answer changed after it was graded" in f for f in carol.flags)
    ok = {r.student: r for r in grade(course_dir, subs, tmp_path / "out2", sheet).results}
    assert ok["carol"].score == 7 and not ok["carol"].pending() and not ok["carol"].flags


def test_a_bad_manual_csv_is_a_usage_error_naming_the_line(course, tmp_path):
    course_dir, subs = course
    for row, said in [(["bob", "q9", "1"], "not a manual question"),
                      (["bob", "q3", "3"], "from 0 to 2"), (["bob", "q3", "", "7"], "item '7'")]:
        sheet = write_csv(tmp_path / "bad.csv", [row + [""] * (8 - len(row))])
        with pytest.raises(UsageError, match=f"line 2: .*{said}"):
            grade(course_dir, subs, tmp_path / "out", sheet)


@pytest.fixture
def downloading_browser(tmp_path):
    """Headless Chromium that saves downloads into tmp_path/downloads (no prompt)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    folder = tmp_path / "downloads"
    folder.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--no-first-run", "--window-size=1000,1400"):
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"download.default_directory": str(folder),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")
                                              or "/usr/bin/chromedriver"), options=opts)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(folder)})
    yield driver, folder
    driver.quit()


def test_a_grader_grades_three_answers_with_the_keyboard_and_downloads_manual_csv(
        course, tmp_path, downloading_browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver, folder = downloading_browser
    course_dir, subs = course
    pages = api.manual(subs, assignment="mini", out=tmp_path / "pages", course=course_dir)
    driver.get(pages["q3"].as_uri())
    body = driver.find_element(By.TAG_NAME, "body")
    driver.find_element(By.ID, "grader").send_keys("ta1")
    body.click()
    shown = []
    for keys in ("12", "3", "1"):                   # answer 1: items 1, 2; then 3; then 1
        shown.append(driver.find_element(By.CSS_SELECTOR, ".answer:not([hidden])")
                     .get_attribute("data-aid"))
        body.send_keys(keys)
        if keys == "3":
            body.send_keys("c")
            driver.switch_to.active_element.send_keys("no: it accumulates")
            driver.switch_to.active_element.send_keys("\ue00c")     # Escape
        body.send_keys("n")
    body.send_keys("p")                  # back to answer 2: -1 from 0, kept at 0
    assert driver.find_element(By.ID, "points").text == "0 / 2"
    assert driver.find_element(By.ID, "progress").text == "3 graded"
    driver.find_element(By.ID, "download").click()
    WebDriverWait(driver, 20).until(lambda d: (folder / "manual.csv").is_file())
    rows = list(csv.DictReader((folder / "manual.csv").open(encoding="utf-8")))
    assert [r["student"] for r in rows] == shown
    assert [(r["points"], r["items"], r["grader"]) for r in rows] == [
        ("2", "1;2", "ta1"), ("0", "3", "ta1"), ("1", "1", "ta1")]
    assert rows[1]["comment"] == "no: it accumulates"
    shutil.copy(folder / "manual.csv", tmp_path / "manual.csv")   # away from its key: given
    by = {r.student: r for r in grade(course_dir, subs, tmp_path / "out",
                                      tmp_path / "manual.csv", pages["key"]).results}
    key = {r["anonymous_id"]: r["student"] for r in csv.DictReader(pages["key"].open())}
    assert [by[key[a]].score for a in shown] == [7, 5, 6]
    assert all(not by[key[a]].pending() for a in shown)


def test_the_commands_refuse_what_they_cannot_use_with_exit_2(course, tmp_path, capsys):
    from grader import cli

    course_dir, subs = course
    assert cli.main(["--course", str(MINI_COURSE), "manual", "mini", str(subs), "--out",
                     str(tmp_path / "p")]) == 2
    assert "has no manual questions" in capsys.readouterr().err
    assert cli.main(["--course", str(course_dir), "grade", str(subs), "-a", "mini", "-o",
                     str(tmp_path / "o"), "--manual", str(tmp_path / "none.csv")]) == 2
    assert "none.csv: no such file" in capsys.readouterr().err
    assert cli.main(["--course", str(course_dir), "manual", "mini", str(subs), "--out",
                     str(tmp_path / "p"), "--seed", "s"]) == 0
    out = capsys.readouterr().out
    assert "q3.html" in out and "manual-key.csv" in out


def test_a_code_answer_shows_its_png_figures_and_nothing_else(tmp_path):
    import base64

    from grader.reports import manual_pages

    asg = load("mini", manual_course(tmp_path))
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
    fake = base64.b64encode(b"<svg onload=alert(1)>").decode()
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("plt.plot(losses)\nprint('</script>')")
    code.metadata["tags"] = [manual.ANSWER_TAG]
    code.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png}),
                    nbformat.v4.new_output("display_data", data={"image/png": fake}),
                    nbformat.v4.new_output("display_data",
                                           data={"image/svg+xml": "<svg onload=alert(2)>"})]
    nb.cells = [nbformat.v4.new_markdown_cell(f"{manual.BEGIN}\n\n{PROMPT}"), code,
                nbformat.v4.new_markdown_cell(manual.END)]
    nbformat.write(nb, tmp_path / "fig.ipynb")
    found = manual.answers(tmp_path / "fig.ipynb", asg)
    assert [c["images"] for c in found["q3"].cells] == [[png]]
    page = manual_pages.page(asg, asg.manual[0], [manual_pages.Entry("a1", "x", found["q3"])])
    assert f"data:image/png;base64,{png}" in page and fake not in page and "onload" not in page
    assert "print(&#39;&lt;/script&gt;&#39;)" in page
    assert manual.answers(tmp_path / "missing.ipynb", asg) == {}

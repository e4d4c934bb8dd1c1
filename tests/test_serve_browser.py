"""grader serve in a real browser: a student signs in with their link, downloads the notebook,
uploads one through the page's form and watches it graded; another student sees none of it; the
instructor watches the class table fill in, grants an extension and downloads grades.csv.

Everything is real: the service with its worker slots grading the `mini` assignment (sandbox
"none") behind uvicorn on loopback, and headless Chromium (Selenium) downloading into its own
directory."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import MINI_COURSE, chromium
from test_serve import BLANK, SOLUTION, WAIT_S, Running

pytestmark = [pytest.mark.requires("serve", "chromium"), pytest.mark.slow]

RELEASED = MINI_COURSE / "assignments" / "mini" / "mini.ipynb"
ZONE = timezone(timedelta(hours=9))
STUDENTS = {"ada": "Ada", "김민수": "김민수", "grace": "Grace"}


class Served(Running):
    """The service on a course whose `mini` is due in a month with five attempts (Running,
    uvicorn in a thread); its worker slots start when the test asks (`start_grading`)."""

    def __init__(self, tmp: Path) -> None:
        course = tmp / "course"
        shutil.copytree(MINI_COURSE, course, ignore=shutil.ignore_patterns("submissions"))
        self.due = (datetime.now(ZONE) + timedelta(days=30)).replace(second=0, microsecond=0)
        toml = course / "solutions" / "mini" / "assignment.toml"
        toml.write_text(toml.read_text() + f'\n[policy]\ndue = "{self.due.isoformat()}"\n'
                        "attempts = 5\n", encoding="utf-8")
        super().__init__(tmp, course=course, students=STUDENTS, grading=False)
        self.port = self.client.port
        self.url = f"http://127.0.0.1:{self.port}"

    def start_grading(self) -> None:
        if self.service.loop is None:
            self.service.start_grading()

    def graded(self, student: str, notebook: Path = SOLUTION) -> int:
        """The id of a graded submission of `student`, uploading `notebook` through the API when
        there is none."""
        done = [s for s in self.service.history(student) if s.status == "graded"]
        if done:
            return done[-1].id
        self.start_grading()
        status, _, body = self.client.upload(self.tokens[student], notebook.read_bytes())
        assert status == 202, body
        return self.client.wait(json.loads(body)["id"], self.tokens[student])["id"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    running = Served(tmp_path_factory.mktemp("serve-browser"))
    yield running
    running.close()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def chrome(downloads):
    """Headless Chromium (Debian's chromium and chromium-driver) saving downloads, unasked, into
    `downloads`."""
    driver = chromium({"download.default_directory": str(downloads),
                       "download.prompt_for_download": False,
                       "download.directory_upgrade": True, "safebrowsing.enabled": False})
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


# -- helpers ---------------------------------------------------------------------------------
def _wait(driver, check, timeout: float = 30, what: str = "the page"):
    """`check(driver)`'s first truthy answer within `timeout` s, polling; the page's own text on
    failure."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    end = time.monotonic() + timeout
    while True:
        try:
            answer = check(driver)
        except (NoSuchElementException, StaleElementReferenceException):
            answer = None
        if answer:
            return answer
        if time.monotonic() > end:
            raise AssertionError(f"{what} did not come within {timeout} s; the page shows:\n"
                                 + driver.find_element("tag name", "body").text[:2000])
        time.sleep(0.1)


def _sign_in(driver, served: Served, token: str) -> None:
    """Sign out whoever is signed in (the header's button), then open the sign-in link."""
    driver.get(served.url + "/")
    buttons = driver.find_elements("css selector", "form[action='/logout'] button")
    if buttons:
        buttons[0].click()
        _wait(driver, lambda d: d.current_url.endswith("/login"), what="the signed-out page")
        assert driver.get_cookie("grader_session") is None
        body = driver.find_element("tag name", "body").text
        assert "you are signed out" in body and "not valid" not in body, body
    driver.get(f"{served.url}/login?token={token}")


def _downloaded(folder: Path, name: str, timeout: float = 30) -> bytes:
    """The bytes of `name` once the browser has finished saving it into `folder`."""
    path, end = folder / name, time.monotonic() + timeout
    while time.monotonic() < end:
        partial = list(folder.glob("*.crdownload"))
        if path.is_file() and not partial:
            return path.read_bytes()
        time.sleep(0.1)
    raise AssertionError(f"{name} was not downloaded; {folder} holds "
                         f"{sorted(p.name for p in folder.iterdir())}")


def _status_with_cookie(driver, url: str) -> int:
    """The HTTP status of `url` fetched with the browser's session cookie."""
    cookie = driver.get_cookie("grader_session")
    assert cookie is not None, "the browser holds no session"
    request = urllib.request.Request(url, headers={"Cookie": f"grader_session={cookie['value']}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _row(driver, student: str):
    return driver.find_element("xpath", f"//table[@id='class']//tr[td/a[text()='{student}']]")


def _shown_time(text: str) -> datetime:
    """A time as the pages show it (policy.format_time: 2026-10-05 23:59 +09:00)."""
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M %z")


# -- a student -------------------------------------------------------------------------------
def test_a_student_signs_in_downloads_uploads_and_watches_it_graded(served, chrome, downloads):
    from grader.serve.app import COOKIE

    d, asg = chrome, served.service.assignments["mini"]
    _sign_in(d, served, served.tokens["ada"])
    _wait(d, lambda d: d.find_element("id", "assignments"), what="the assignment list")
    assert d.current_url == served.url + "/" and served.tokens["ada"] not in d.current_url
    assert d.get_cookie(COOKIE)["httpOnly"] is True
    row = d.find_element("id", "assignment-mini")
    assert row.text.startswith(f"mini: {asg.title}")
    assert _shown_time(row.find_element("class name", "due").text) == served.due
    left = 5 - len(served.service.history("ada"))
    assert row.find_element("class name", "left").text == str(left)

    row.find_element("class name", "release").click()
    assert _downloaded(downloads, "mini.ipynb") == RELEASED.read_bytes()

    drop = row.find_element("css selector", "input[type=file]")
    assert drop.is_displayed() and drop.size["height"] >= 60 and drop.size["width"] >= 200, (
        drop.size)
    assert drop.value_of_css_property("border-top-style") == "dashed"
    drop.send_keys(str(SOLUTION))
    row.find_element("css selector", "button").click()

    # the receipt at once, before any worker slot has started: queued, and the page refreshes
    receipt = _wait(d, lambda d: d.find_element("id", "receipt"), what="the receipt")
    sub_id = int(d.find_element("id", "receipt-id").text.lstrip("#"))
    assert d.current_url == f"{served.url}/submissions/{sub_id}"
    assert d.find_element("id", "sha256").text == hashlib.sha256(SOLUTION.read_bytes()).hexdigest()
    assert f"#{sub_id}" in receipt.text
    sub = served.service.get(sub_id)
    assert (sub.student, sub.assignment, sub.filename) == ("ada", "mini", SOLUTION.name)
    assert d.find_element("id", "state").text == "queued at position 1"
    meta = d.find_elements("css selector", "meta[http-equiv=refresh]")
    assert meta and meta[0].get_attribute("content") == "2"

    # the page refreshes itself until the slot has graded it; then it stops refreshing
    served.start_grading()
    _wait(d, lambda d: d.find_element("id", "state").text == "graded", WAIT_S,
          what="the graded status")
    assert d.current_url == f"{served.url}/submissions/{sub_id}"
    assert not d.find_elements("css selector", "meta[http-equiv=refresh]")
    assert f"graded: {asg.max_score:g} / {asg.max_score:g}" in d.find_element(
        "tag name", "body").text
    d.find_element("link text", "read the report").click()
    score = _wait(d, lambda d: d.find_element("id", "score"), what="the report")
    assert score.text == f"{asg.max_score:g} / {asg.max_score:g}"
    assert d.current_url == f"{served.url}/submissions/{sub_id}/report"

    d.get(served.url + "/")
    row = d.find_element("id", "assignment-mini")
    assert row.find_element("class name", "left").text == str(left - 1)
    attempts = d.find_element("id", "attempts").text
    assert f"#{sub_id} {sub.sha256[:12]}" in attempts and "graded" in attempts


def test_another_student_sees_nothing_of_the_first(served, chrome):
    d = chrome
    ada = served.graded("ada")
    own = served.graded("김민수", BLANK)
    _sign_in(d, served, served.tokens["김민수"])
    attempts = _wait(d, lambda d: d.find_element("id", "attempts"), what="the home page").text
    assert f"#{own}" in attempts
    for sub in served.service.history("ada"):
        assert f"#{sub.id} " not in attempts and sub.sha256[:12] not in attempts
    for path in (f"/submissions/{ada}", f"/submissions/{ada}/report",
                 f"/api/submissions/{ada}"):
        d.get(served.url + path)
        body = d.find_element("tag name", "body").text
        assert f"no submission '{ada}' of yours" in body, (path, body)
        assert served.service.get(ada).sha256 not in body and "Ada" not in body
        assert _status_with_cookie(d, served.url + path) == 404
    d.get(f"{served.url}/submissions/{own}")
    assert d.find_element("id", "state").text == "graded"
    d.get(served.url + "/staff")
    assert "this page is for the course staff" in d.find_element("tag name", "body").text
    assert _status_with_cookie(d, served.url + "/staff") == 403


# -- the instructor --------------------------------------------------------------------------
def test_the_instructor_watches_the_class_grants_an_extension_and_downloads_grades(
        served, chrome, downloads):
    d, asg = chrome, served.service.assignments["mini"]
    ada = served.service.get(served.graded("ada"))
    assert not served.service.history("grace")
    _sign_in(d, served, served.staff)
    _wait(d, lambda d: d.current_url == served.url + "/staff", what="the class page")
    counted = served.service.counted(served.service.history("ada"), asg)
    assert _row(d, "ada").text == f"ada Ada {counted.score:g} / {asg.max_score:g}"
    assert _row(d, "grace").text == "grace Grace –"
    meta = d.find_element("css selector", "meta[http-equiv=refresh]")
    assert int(meta.get_attribute("content")) > 0

    # an upload through the API while the page is open: its own refresh shows the score
    status, _, body = served.client.upload(served.tokens["grace"], SOLUTION.read_bytes())
    assert status == 202, body
    old = d.find_element("id", "class")
    _wait(d, lambda d: _row(d, "grace").text == f"grace Grace {asg.max_score:g} / "
                                                f"{asg.max_score:g}", WAIT_S,
          what="grace's score on the class page")
    assert d.current_url == served.url + "/staff"
    from selenium.common.exceptions import StaleElementReferenceException
    with pytest.raises(StaleElementReferenceException):
        old.text                                               # the page was loaded again

    # an extension through the student's page: the student's home page shows the new deadline
    _row(d, "ada").find_element("link text", "ada").click()
    _wait(d, lambda d: d.current_url == served.url + "/staff/students/ada")
    new_due = served.due + timedelta(days=2, hours=3)
    form = d.find_element("css selector", "form[action='/staff/extensions']")
    form.find_element("name", "due").send_keys(new_due.isoformat())
    form.find_element("css selector", "button").click()
    _wait(d, lambda d: d.current_url == served.url + "/staff/students/ada"
          and d.find_elements("css selector", "form[action='/staff/extensions']"),
          what="the student's page after the extension")
    assert served.service.deadline("ada", asg) == new_due
    d.get(served.url + "/staff")
    d.find_element("id", "grades").click()
    text = _downloaded(downloads, "grades.csv").decode()
    rows = {(r["student"], r["assignment"]): r for r in csv.DictReader(io.StringIO(text))}
    assert rows.keys() == {(s, "mini") for s in STUDENTS}
    assert rows["ada", "mini"]["score"] == f"{counted.score:g}"
    assert rows["ada", "mini"]["max_score"] == f"{asg.max_score:g}"
    assert rows["ada", "mini"]["status"] == "graded"
    assert rows["ada", "mini"]["submission"] == str(counted.id)
    assert rows["grace", "mini"]["score"] == f"{asg.max_score:g}"
    assert int(rows["ada", "mini"]["attempts"]) == len(served.service.history("ada"))

    _sign_in(d, served, served.tokens["ada"])
    row = _wait(d, lambda d: d.find_element("id", "assignment-mini"), what="ada's home page")
    assert _shown_time(row.find_element("class name", "due").text) == new_due
    d.get(f"{served.url}/submissions/{ada.id}")
    assert d.find_element("id", "state").text == "graded"

"""grader serve: the JSON contract, who may see what, bad uploads, the queue kept in the database
(SQLite and a throwaway PostgreSQL cluster) through restarts and `kill -9`, and the pages.

Everything is real: a uvicorn server on an ephemeral port, worker slots grading the `mini`
assignment (sandbox "none": the worker process is the boundary these tests need), PostgreSQL
started with initdb and pg_ctl."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import MINI_COURSE, ROOT, postgres_bin

pytestmark = pytest.mark.requires("serve")

SOLUTION = MINI_COURSE / "submissions" / "solution.ipynb"
BLANK = MINI_COURSE / "submissions" / "blank.ipynb"
WAIT_S = 180          # a worker slot's first start loads torch and the judge


# -- PostgreSQL: one throwaway cluster for the session, a fresh database per test -------------
@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server in a temporary directory on an ephemeral port (as the postgres user
    when run as root: pytest's own temporary directory is closed to it); yields a function
    making a new empty database's URL."""
    import tempfile

    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("needs postgresql: make system-deps (Debian's postgresql)")
    root = Path(tempfile.mkdtemp(prefix="grader-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    made = subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                           "-U", "postgres", "-E", "UTF8"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                    "-w", "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    import psycopg

    def new_database() -> str:
        name = f"t_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{port}/{name}"

    yield new_database
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                   capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.requires("postgresql"))]


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    return request.getfixturevalue("postgres")()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- HTTP helpers ---------------------------------------------------------------------------
def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body: `files` maps a field to (filename, bytes, content type)."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                      f"{v}\r\n".encode())
    for name, (filename, raw, ctype) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                  f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode())
        out.write(raw + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


class Client:
    """A loopback HTTP client for one server; answers (status, headers, body bytes)."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, *, token: str | None = None,
                cookie: str | None = None, body: bytes | None = None,
                ctype: str | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        if cookie:
            h["Cookie"] = cookie
        if ctype:
            h["Content-Type"] = ctype
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def upload(self, token: str | None, raw: bytes, *, assignment: str = "mini",
               filename: str = "hw.ipynb", ctype: str = "application/x-ipynb+json",
               cookie: str | None = None, extra: dict | None = None, path="/api/submissions"):
        body, form_type = multipart({"assignment": assignment, **(extra or {})},
                                    {"notebook": (filename, raw, ctype)})
        return self.request("POST", path, token=token, cookie=cookie, body=body, ctype=form_type)

    def json(self, path: str, token: str | None = None):
        status, _, body = self.request("GET", path, token=token)
        return status, json.loads(body)

    def wait(self, sub_id: int, token: str, timeout: float = WAIT_S) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            status, data = self.json(f"/api/submissions/{sub_id}", token)
            assert status == 200, data
            if data["status"] not in ("queued", "running"):
                return data
            time.sleep(0.2)
        raise AssertionError(f"submission {sub_id} was not graded within {timeout} s")


class Running:
    """A Service with its grading loop, served by uvicorn in a thread of this process."""

    def __init__(self, tmp: Path, *, course: Path = MINI_COURSE, db: str | None = None,
                 grading: bool = True, https: bool = False, clock=None,
                 body_timeout_s: float = 30.0, sandbox: str = "none",
                 executor: str = "local", students: dict | None = None) -> None:
        import uvicorn

        from grader.serve.app import build_app
        from grader.serve.service import Config, Service

        roster = tmp / "roster.csv"
        students = students or {"ada": "Ada", "김민수": "김민수"}
        roster.write_text("student,name\n" + "".join(f"{k},{v}\n" for k, v in students.items()),
                          encoding="utf-8")
        kw = {"clock": clock} if clock else {}
        self.service = Service(Config(course=course, roster=roster, data=tmp / "data", db=db,
                                      sandbox=sandbox, https=https, executor=executor,
                                      body_timeout_s=body_timeout_s), **kw)
        self.tokens = {s: self.service.db.issue_token("student", s) for s in students}
        self.staff = self.service.db.issue_token("staff", "prof")
        if grading:
            self.service.start_grading()
        config = uvicorn.Config(build_app(self.service), host="127.0.0.1", port=0,
                                log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        self.client = Client(self.server.servers[0].sockets[0].getsockname()[1])

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.service.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    running = Running(tmp_path_factory.mktemp("serve"), body_timeout_s=2)
    yield running
    running.close()


# -- the fixed contract ----------------------------------------------------------------------
def test_an_upload_gets_a_receipt_then_its_graded_status_and_report(served):
    from grader.reports.feedback import html

    c, token = served.client, served.tokens["ada"]
    raw = SOLUTION.read_bytes()
    status, _, body = c.upload(token, raw)
    assert status == 202, body
    receipt = json.loads(body)
    assert set(receipt) == {"id", "sha256", "status"}
    assert receipt["sha256"] == hashlib.sha256(raw).hexdigest()
    assert receipt["status"] == "queued"
    done = c.wait(receipt["id"], token)
    assert {"id", "status", "score", "max_score", "report_url"} <= set(done)
    asg = served.service.assignments["mini"]
    assert (done["status"], done["score"], done["max_score"]) == ("graded", asg.max_score,
                                                                  asg.max_score)
    status, headers, page = c.request("GET", done["report_url"], token=token)
    assert status == 200 and headers["content-type"].startswith("text/html")
    sub = served.service.get(receipt["id"])
    assert page.decode() == html(served.service.result(sub), "full")
    assert (served.service.config.data / "notebooks" / sub.path).read_bytes() == raw


@pytest.mark.requires("root", "bwrap")
def test_uploads_are_graded_in_bubblewrap_on_warm_slots(tmp_path):
    running = Running(tmp_path, sandbox="bwrap")
    try:
        token, asg = running.tokens["ada"], running.service.assignments["mini"]
        for notebook in (SOLUTION, BLANK):
            status, _, body = running.client.upload(token, notebook.read_bytes())
            done = running.client.wait(json.loads(body)["id"], token)
            result = running.service.result(running.service.get(done["id"]))
            assert result.environment["sandbox"] == "bwrap" and done["status"] == "graded"
            assert (done["score"] == asg.max_score) == (notebook == SOLUTION)
    finally:
        running.close()


def test_a_blank_notebook_is_graded_below_the_solution(served):
    token = served.tokens["김민수"]
    status, _, body = served.client.upload(token, BLANK.read_bytes(), filename="빈.ipynb")
    assert status == 202, body
    done = served.client.wait(json.loads(body)["id"], token)
    assert done["status"] == "graded" and done["score"] < done["max_score"]


def test_healthz_and_metrics(served):
    status, data = served.client.json("/healthz")
    assert status == 200 and data["ok"] is True
    status, headers, body = served.client.request("GET", "/metrics")
    text = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert re.search(r"^grader_queue_depth \d+$", text, re.M)
    assert re.search(r'^grader_submissions\{status="graded"\} [1-9]\d*$', text, re.M)
    assert re.search(r'^grader_grading_latency_seconds\{quantile="0.95"\} [0-9.e+-]+$', text,
                     re.M)
    assert re.search(r'^grader_slots\{state="idle"\} \d+$', text, re.M)


# -- who may see what --------------------------------------------------------------------------
def test_the_authorization_matrix(served):
    """Every route as anonymous, as the wrong student, as the right student and as staff."""
    c = served.client
    ada, other, staff = served.tokens["ada"], served.tokens["김민수"], served.staff
    status, _, body = c.upload(ada, SOLUTION.read_bytes())
    sub = json.loads(body)["id"]
    c.wait(sub, ada)
    form, form_type = multipart({"student": "ada", "assignment": "mini", "extra_hours": "1"}, {})
    routes = {   # (method, path, body, type): (anonymous, wrong student, right student, staff)
        ("GET", f"/api/submissions/{sub}", None, None): (401, 404, 200, 200),
        ("GET", f"/submissions/{sub}", None, None): (401, 404, 200, 200),
        ("GET", f"/submissions/{sub}/report", None, None): (401, 404, 200, 200),
        ("GET", "/api/submissions", None, None): (401, 200, 200, 200),
        ("GET", "/", None, None): (401, 200, 200, 303),
        ("GET", "/assignments/mini/release", None, None): (401, 200, 200, 200),
        ("GET", "/staff", None, None): (401, 403, 403, 200),
        ("GET", "/staff/students/ada", None, None): (401, 403, 403, 200),
        ("GET", "/staff/grades.csv", None, None): (401, 403, 403, 200),
        ("GET", "/api/grades.csv", None, None): (401, 403, 403, 200),
        ("GET", "/staff/submissions.zip", None, None): (401, 403, 403, 200),
        ("GET", "/staff/assignments/mini/otter.csv", None, None): (401, 403, 403, 200),
        ("POST", "/api/extensions", form, form_type): (401, 403, 403, 200),
        ("GET", "/staff/manual", None, None): (401, 403, 403, 200),
        ("GET", "/api/manual", None, None): (401, 403, 403, 200),
        ("GET", "/staff/manual/mini/q1", None, None): (401, 403, 403, 404),   # not manual
        ("GET", "/api/manual/mini/q1", None, None): (401, 403, 403, 404),
        ("GET", "/staff/manual/mini/q1/a0", None, None): (401, 403, 403, 404),
        ("POST", "/api/manual/mini/q1/a0", form, form_type): (401, 403, 403, 404),
        ("POST", "/api/regrade", form, form_type): (401, 403, 403, 200),
        ("GET", "/healthz", None, None): (200, 200, 200, 200),
        ("GET", "/metrics", None, None): (200, 200, 200, 200),
    }
    # every route of the app is in the matrix (the form posts' /staff twins and the sign-in
    # routes are tried by the tests of their own)
    app = served.server.config.app.app
    tried = {re.sub(r"\b(mini|ada|q1|a0|\d+|otter)\b", "x", p) for _, p, _, _ in routes}
    own = {"/login", "/logout", "/submit", "/api/submissions", "/staff/extensions",
           "/staff/regrade", "/staff/grades.csv", "/staff/manual/x/x/x"}
    for route in app.routes:
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        assert path in tried or path in own, f"{route.path} is not in the matrix"
    seen = {}
    for (method, path, body, ctype), expected in routes.items():
        got = tuple(c.request(method, path, token=t, body=body, ctype=ctype)[0]
                    for t in (None, other, ada, staff))
        seen[path] = (got, expected)
    assert {p: g for p, (g, _) in seen.items()} == {p: e for p, (_, e) in seen.items()}
    c.wait(sub, ada)           # staff's regrade in the matrix queued it again
    # an upload: refused without a token, taken from a student, refused from staff
    assert c.upload(None, SOLUTION.read_bytes())[0] == 401
    assert c.upload("not-a-token", SOLUTION.read_bytes())[0] == 401
    assert c.upload(staff, SOLUTION.read_bytes())[0] == 403
    # the other student sees none of ada's submissions in their list
    status, mine = c.json("/api/submissions", other)
    assert status == 200 and all(s["id"] != sub for s in mine)


def test_a_refusal_is_a_clear_json_body_and_never_a_traceback(served):
    status, headers, body = served.client.request("GET", "/api/submissions/1",
                                                  token="wrong")
    assert status == 401 and headers["content-type"] == "application/json"
    data = json.loads(body)
    assert "sign in" in data["error"] and data["status"] == 401
    for path in ("/api/submissions/99999999999999999", "/api/submissions/-1",
                 "/submissions/%00", "/api/submissions/" + "9" * 40):
        status, _, body = served.client.request("GET", path, token=served.tokens["ada"])
        assert status == 404, (path, body)
        assert b"Traceback" not in body


# -- bad uploads ---------------------------------------------------------------------------
def test_bad_uploads_are_refused_with_a_reason_and_the_service_goes_on(served):
    c, token = served.client, served.tokens["ada"]
    before = len(served.service.history("ada"))
    no_file = multipart({"assignment": "mini"}, {})
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("hw.ipynb", SOLUTION.read_bytes())
    cases = {
        "not JSON": (c.upload(token, b"print('hello')\n"), 422, "not valid JSON"),
        "a zip renamed .ipynb": (c.upload(token, zipped.getvalue()), 422, "UTF-8"),
        "an empty file": (c.upload(token, b""), 422, "empty"),
        "JSON that is no notebook": (c.upload(token, b'{"a": 1}'), 422, "no cells"),
        "an unknown assignment": (c.upload(token, SOLUTION.read_bytes(), assignment="../x"),
                                  404, "no assignment"),
        "no file field": (c.request("POST", "/api/submissions", token=token, body=no_file[0],
                                    ctype=no_file[1]), 422, "no notebook file"),
        "a JSON body, not a form": (c.request("POST", "/api/submissions", token=token,
                                              body=SOLUTION.read_bytes(),
                                              ctype="application/json"), 415, "multipart"),
        "an empty body": (c.request("POST", "/api/submissions", token=token, body=b"",
                                    ctype="multipart/form-data; boundary=x"), 422, "no notebook"),
    }
    for name, ((status, headers, body), expected, words) in cases.items():
        assert status == expected, (name, body)
        assert headers["content-type"] == "application/json", name
        assert words in json.loads(body)["error"], (name, body)
    assert len(served.service.history("ada")) == before
    assert c.json("/healthz")[0] == 200


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(served):
    limit = served.service.max_bytes(served.service.assignments["mini"])
    conn = http.client.HTTPConnection("127.0.0.1", served.client.port, timeout=30)
    conn.putrequest("POST", "/api/submissions")
    conn.putheader("Authorization", f"Bearer {served.tokens['ada']}")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(100 * 2**20))       # 100 MB announced, none sent
    conn.endheaders()
    r = conn.getresponse()
    body = json.loads(r.read())
    conn.close()
    assert r.status == 413 and f"{limit / 2**20:g} MiB limit" in body["error"]
    raw = b" " * (limit + 2 * 2**20)                          # sent, without a length first
    status, _, body = served.client.upload(served.tokens["ada"], raw)
    assert status == 413, body
    assert served.client.json("/healthz")[0] == 200


def test_a_client_that_stalls_mid_upload_is_answered_and_let_go(served):
    body, ctype = multipart({"assignment": "mini"},
                            {"notebook": ("hw.ipynb", SOLUTION.read_bytes(), "text/plain")})
    conn = http.client.HTTPConnection("127.0.0.1", served.client.port, timeout=60)
    conn.putrequest("POST", "/api/submissions")
    conn.putheader("Authorization", f"Bearer {served.tokens['ada']}")
    conn.putheader("Content-Type", ctype)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    conn.send(body[: len(body) // 2])                     # and then nothing more
    r = conn.getresponse()
    answer = json.loads(r.read())
    assert r.status == 408 and "stalled" in answer["error"]
    assert conn.sock is None or conn.sock.recv(1) == b""  # the server closed the connection
    conn.close()
    assert served.client.json("/healthz")[0] == 200


def test_every_answer_carries_the_security_headers(served):
    for path, token in (("/healthz", None), ("/", served.tokens["ada"]),
                        ("/api/submissions/1", "wrong")):
        headers = served.client.request("GET", path, token=token)[1]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "script-src" not in headers["content-security-policy"]
        assert headers["content-security-policy"].startswith("default-src 'none'")


def test_a_worker_slot_killed_while_grading_is_restarted_and_the_upload_graded_once(served):
    c, token = served.client, served.tokens["ada"]
    loop = served.service.loop
    raw = SOLUTION.read_bytes() + b"\n\n"
    status, _, body = c.upload(token, raw)
    sub_id = json.loads(body)["id"]
    end = time.monotonic() + WAIT_S
    while loop.busy.get(0) != sub_id and time.monotonic() < end:
        time.sleep(0.005)
    assert loop.busy.get(0) == sub_id, "the upload was not taken by the slot"
    os.kill(loop.slots[0].proc.pid, signal.SIGKILL)
    done = c.wait(sub_id, token)
    sub = served.service.get(sub_id)
    result = served.service.result(sub)
    assert (done["status"], sub.gradings) == ("graded", 1)
    assert any("the worker grading it before died" in f for f in result.flags)


def test_a_notebook_is_taken_whatever_its_name_or_content_type(served):
    c, token = served.client, served.tokens["ada"]
    raw = SOLUTION.read_bytes().replace(b'"cells"', b'"cells"', 1) + b"\n"
    status, _, body = c.upload(token, raw, filename="../../../../etc/passwd",
                               ctype="application/zip")
    assert status == 202, body
    sub = served.service.get(json.loads(body)["id"])
    assert sub.filename == "passwd"
    stored = (served.service.config.data / "notebooks" / sub.path).resolve()
    assert stored.is_relative_to((served.service.config.data / "notebooks").resolve())
    assert stored.read_bytes() == raw
    assert c.wait(sub.id, token)["status"] == "graded"


# -- the policy: attempts, rate, deadline, cutoff --------------------------------------------
def _course_with(tmp: Path, policy: str) -> Path:
    course = tmp / "course"
    shutil.copytree(MINI_COURSE, course, ignore=shutil.ignore_patterns("submissions"))
    toml = course / "solutions" / "mini" / "assignment.toml"
    toml.write_text(toml.read_text() + "\n[policy]\n" + policy, encoding="utf-8")
    return course


def test_attempts_and_rate_are_refused_past_the_policy(tmp_path):
    from grader.errors import RefusedError

    course = _course_with(tmp_path, "attempts = 3\nrate = 2\n")
    now = [datetime(2026, 10, 1, 12, tzinfo=timezone.utc)]
    running = Running(tmp_path, course=course, grading=False, clock=lambda: now[0])
    try:
        svc, raw = running.service, SOLUTION.read_bytes()
        svc.accept("ada", "mini", raw)
        svc.accept("ada", "mini", raw)
        with pytest.raises(RefusedError, match="2 an hour; try again in 1 h") as exc:
            svc.accept("ada", "mini", raw)
        assert exc.value.status == 429
        status, _, body = running.client.upload(running.tokens["ada"], raw)
        assert status == 429 and "too many attempts" in json.loads(body)["error"]
        now[0] += timedelta(hours=1, seconds=1)
        svc.accept("ada", "mini", raw)
        assert svc.attempts_left("ada", svc.assignments["mini"]) == 0
        with pytest.raises(RefusedError, match="no attempts left"):
            svc.accept("ada", "mini", raw)
        svc.accept("김민수", "mini", raw)              # another student's attempts are their own
    finally:
        running.close()


def test_late_work_and_the_cutoff_are_refused_and_an_extension_lets_it_in(tmp_path):
    from grader.errors import RefusedError

    course = _course_with(tmp_path, 'due = "2026-10-05T23:59:00+09:00"\n')
    after = datetime(2026, 10, 6, 1, tzinfo=timezone(timedelta(hours=9)))
    running = Running(tmp_path, course=course, grading=False, clock=lambda: after)
    try:
        svc = running.service
        with pytest.raises(RefusedError, match="late work is not accepted") as exc:
            svc.accept("ada", "mini", SOLUTION.read_bytes())
        assert exc.value.status == 403
        svc.set_extension("ada", svc.assignments["mini"], extra_hours=2)
        sub = svc.accept("ada", "mini", SOLUTION.read_bytes())
        assert sub.status == "queued"
        with pytest.raises(RefusedError, match="late work"):
            svc.accept("김민수", "mini", SOLUTION.read_bytes())
    finally:
        running.close()


def test_a_late_submission_is_graded_with_its_penalty(tmp_path):
    course = _course_with(tmp_path, 'due = "2026-10-05T23:59:00+09:00"\nlate = "per_day"\n'
                                    'penalty = 0.1\ncutoff = "2026-10-08T23:59:00+09:00"\n')
    after = datetime(2026, 10, 7, 1, tzinfo=timezone(timedelta(hours=9)))    # 25 h 1 min late
    running = Running(tmp_path, course=course, clock=lambda: after)
    try:
        token = running.tokens["ada"]
        status, _, body = running.client.upload(token, SOLUTION.read_bytes())
        assert status == 202, body
        done = running.client.wait(json.loads(body)["id"], token)
        assert done["score"] == pytest.approx(done["max_score"] * 0.8)
        result = running.service.result(running.service.get(done["id"]))
        assert result.lateness["periods"] == 2 and result.raw_score() == done["max_score"]
        too_late = datetime(2026, 10, 9, 1, tzinfo=timezone(timedelta(hours=9)))
        running.service.clock = lambda: too_late
        status, _, body = running.client.upload(token, SOLUTION.read_bytes())
        assert status == 403 and "cutoff" in json.loads(body)["error"]
    finally:
        running.close()


def test_a_student_sees_the_hidden_tests_as_the_feedback_setting_allows(tmp_path):
    from grader.reports.feedback import html

    course = _course_with(tmp_path, 'due = "2099-10-05T23:59:00+09:00"\nfeedback = "public"\n')
    running = Running(tmp_path, course=course)
    try:
        c, token = running.client, running.tokens["ada"]
        status, _, body = c.upload(token, BLANK.read_bytes())
        done = c.wait(json.loads(body)["id"], token)
        result = running.service.result(running.service.get(done["id"]))
        student = c.request("GET", done["report_url"], token=token)[2].decode()
        staff = c.request("GET", done["report_url"], token=running.staff)[2].decode()
        assert student == html(result, "public") and staff == html(result, "full")
        assert student != staff
    finally:
        running.close()


# -- the queue in the database, on both engines ------------------------------------------------
def _rows(db, n: int, student: str = "ada") -> list[int]:
    from grader.serve.db import Submission

    db.sync_roster([(student, "")])
    db.sync_assignments([("mini", "mini", 5.0)])
    with db.session.begin() as s:
        subs = [Submission(student=student, assignment="mini", sha256=f"{i:064x}", path="x",
                           size=1, submitted_at=time.time()) for i in range(n)]
        s.add_all(subs)
    return [x.id for x in subs]


def test_concurrent_claims_take_each_submission_once(db_url):
    from grader.serve import queue
    from grader.serve.db import Database

    db = Database(db_url)
    try:
        ids = _rows(db, 40)
        taken: list[list[int]] = [[] for _ in range(4)]

        def take(k: int) -> None:
            while (sub := queue.claim(db, f"c{k}")) is not None:
                taken[k].append(sub.id)

        threads = [threading.Thread(target=take, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        everything = sorted(i for part in taken for i in part)
        assert everything == sorted(ids)
        assert queue.counts(db) == {"running": 40}
    finally:
        db.close()


def test_a_result_is_recorded_once_and_only_by_the_claim_holding_it(db_url):
    from grader.results import Result
    from grader.serve import queue
    from grader.serve.db import Database

    db = Database(db_url)
    try:
        [sid] = _rows(db, 1)
        first = queue.claim(db, "dead-server")
        assert first.id == sid and first.status == "running"
        assert queue.recover(db) == 1                       # the restart
        again = queue.claim(db, "new-server")
        assert again.id == sid and again.claims == 2
        result = Result(student="ada", assignment="mini", status="graded", score=5, max_score=5)
        assert not queue.finish(db, sid, "dead-server", result)  # the old claim no longer holds it
        assert queue.finish(db, sid, "new-server", result)
        assert not queue.finish(db, sid, "new-server", result)   # once
        row = db.session().get(type(first), sid)
        assert (row.status, row.gradings, row.score) == ("graded", 1, 5.0)
    finally:
        db.close()


def test_a_restart_grades_the_running_rows_exactly_once(tmp_path, db_url):
    from grader.serve import queue
    from grader.serve.db import Submission

    first = Running(tmp_path, db=db_url, grading=False)
    raw = SOLUTION.read_bytes()
    ids = [first.service.accept("ada", "mini", raw).id for _ in range(3)]
    assert queue.claim(first.service.db, "killed-server").id == ids[0]
    assert queue.claim(first.service.db, "killed-server").id == ids[1]
    first.close()
    second = Running(tmp_path, db=db_url, grading=False)
    try:
        assert second.service.start_grading() == 2
        for i in ids:
            assert second.client.wait(i, second.tokens["ada"])["status"] == "graded"
        with second.service.db.session() as s:
            rows = s.query(Submission).order_by(Submission.id).all()
        assert [(r.id, r.gradings) for r in rows] == [(i, 1) for i in ids]
        assert [r.claims for r in rows] == [2, 2, 1]
    finally:
        second.close()


def test_a_second_server_on_the_same_data_or_database_is_refused(tmp_path, db_url):
    from grader.errors import UsageError
    from grader.serve.service import Config, Service

    from grader.serve import queue
    from grader.serve.db import ServerLock, Submission

    (tmp_path / "a").mkdir()
    first = Running(tmp_path / "a", db=db_url, grading=False)
    try:
        first.service.lock = ServerLock(first.service.config.data, first.service.db)
        first.service.accept("ada", "mini", SOLUTION.read_bytes())
        assert queue.claim(first.service.db, "first-server") is not None
        # the same data directory, and (PostgreSQL) another directory on the same database
        dirs = [tmp_path / "a"] + ([tmp_path / "b"] if db_url.startswith("postgresql") else [])
        for data in dirs:
            data.mkdir(exist_ok=True)
            second = Service(Config(course=MINI_COURSE, roster=tmp_path / "a" / "roster.csv",
                                    data=data / "data", db=db_url, sandbox="none"))
            try:
                with pytest.raises(UsageError, match="another grader serve"):
                    second.start_grading()
            finally:
                second.close()
        with first.service.db.session() as s:      # the first server's claim was left alone
            assert s.query(Submission).filter_by(claim="first-server").count() == 1
    finally:
        first.close()
    third = Service(Config(course=MINI_COURSE, roster=tmp_path / "a" / "roster.csv",
                           data=tmp_path / "a" / "data", db=db_url, sandbox="none"))
    try:
        assert third.start_grading() == 1        # the lock went with the first server
    finally:
        third.close()


# -- kill -9 of the server during uploads ------------------------------------------------------
def _start_server(tmp: Path, port: int) -> subprocess.Popen:
    log = open(tmp / "server.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "grader.cli", "serve", "--course",
                             str(MINI_COURSE), "--roster", str(tmp / "roster.csv"), "--data",
                             str(tmp / "data"), "--port", str(port), "--sandbox", "none"],
                            stdout=log, stderr=log, cwd=ROOT, start_new_session=True)


def _wait_up(client: Client, proc: subprocess.Popen) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        assert proc.poll() is None, "the server exited"
        try:
            if client.request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not come up")


def test_kill_9_during_uploads_then_a_restart_grades_every_receipt_once(tmp_path):
    (tmp_path / "roster.csv").write_text("student\n" + "".join(f"s{i}\n" for i in range(8)))
    out = tmp_path / "tokens.csv"
    subprocess.run([sys.executable, "-m", "grader.cli", "serve", "tokens", "--roster",
                    str(tmp_path / "roster.csv"), "--data", str(tmp_path / "data"), "--out",
                    str(out)], check=True, cwd=ROOT, capture_output=True)
    rows = [line.split(",") for line in out.read_text().splitlines()]
    assert rows[0] == ["student", "token", "link"]
    tokens = {r[0]: r[1] for r in rows[1:]}
    port = _free_port()
    client = Client(port)
    proc = _start_server(tmp_path, port)
    receipts: dict[int, str] = {}
    lock = threading.Lock()
    raw = SOLUTION.read_bytes()

    def student(sid: str) -> None:
        for _ in range(50):
            try:
                status, _, body = client.upload(tokens[sid], raw)
            except OSError:
                return                                  # the server is gone
            if status == 202:
                with lock:
                    receipts[json.loads(body)["id"]] = sid
    try:
        _wait_up(client, proc)
        threads = [threading.Thread(target=student, args=(s,)) for s in tokens]
        for t in threads:
            t.start()
        while len(receipts) < 12:
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for t in threads:
            t.join(60)
        proc = _start_server(tmp_path, port)
        _wait_up(client, proc)
        for sub_id, sid in sorted(receipts.items()):
            assert client.wait(sub_id, tokens[sid])["status"] == "graded"
        deadline = time.monotonic() + WAIT_S
        db = sqlite3.connect(tmp_path / "data" / "grader.sqlite3")
        while db.execute("select count(*) from submissions where status in "
                         "('queued','running')").fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.2)
        got = dict(db.execute("select id, gradings from submissions"))
        statuses = {s for (s,) in db.execute("select distinct status from submissions")}
        db.close()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert set(receipts) <= set(got)                      # no receipt lost
    assert set(got.values()) == {1} and statuses == {"graded"}   # each graded once
    assert len(got) - len(receipts) <= len(tokens)        # at most one in flight per student


# -- pages ------------------------------------------------------------------------------------
def _login(c: Client, token: str) -> tuple[str, dict]:
    status, headers, _ = c.request("GET", f"/login?token={token}")
    assert status == 303
    return headers["set-cookie"].split(";")[0], headers


def test_a_sign_in_link_sets_a_safe_cookie_and_the_form_needs_its_csrf_token(served, caplog):
    c, token = served.client, served.tokens["ada"]
    with caplog.at_level("DEBUG"):
        cookie, headers = _login(c, token)
    attrs = headers["set-cookie"].lower()
    assert "httponly" in attrs and "samesite=lax" in attrs and "secure" not in attrs
    assert token not in caplog.text and token not in cookie
    status, _, page = c.request("GET", "/", cookie=cookie)
    html = page.decode()
    assert status == 200 and "mini" in html and "download" in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    raw = SOLUTION.read_bytes()
    assert c.upload(None, raw, cookie=cookie, path="/submit")[0] == 403
    assert c.upload(None, raw, cookie=cookie, path="/submit", extra={"csrf": "forged"})[0] == 403
    status, headers, _ = c.upload(None, raw, cookie=cookie, path="/submit", extra={"csrf": csrf})
    assert status == 303
    status, _, page = c.request("GET", headers["location"], cookie=cookie)
    assert status == 200 and b"Receipt: submission" in page
    if b"queued" in page or b"running" in page:
        assert b'http-equiv="refresh"' in page
    sub_id = int(headers["location"].rsplit("/", 1)[1])
    c.wait(sub_id, token)
    status, _, page = c.request("GET", f"/submissions/{sub_id}", cookie=cookie)
    assert b"read the report" in page and b'http-equiv="refresh"' not in page
    assert c.request("GET", "/assignments/mini/release", cookie=cookie)[2] == (
        MINI_COURSE / "assignments" / "mini" / "mini.ipynb").read_bytes()
    assert c.request("GET", "/login?token=wrong")[0] == 401


def test_a_session_ends_at_sign_out_and_after_its_days(served):
    from sqlalchemy import update

    from grader.serve.app import SESSION_DAYS
    from grader.serve.db import WebSession, hash_token

    c = served.client
    cookie, headers = _login(c, served.tokens["ada"])
    assert f"max-age={SESSION_DAYS * 86400}" in headers["set-cookie"].lower()
    page = c.request("GET", "/", cookie=cookie)[2].decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    body, ctype = multipart({"csrf": csrf}, {})
    assert c.request("POST", "/logout", cookie=cookie, body=body, ctype=ctype)[0] == 303
    assert c.request("GET", "/", cookie=cookie)[0] == 401
    old, _ = _login(c, served.tokens["ada"])
    assert c.request("GET", "/", cookie=old)[0] == 200
    with served.service.db.session.begin() as s:
        s.execute(update(WebSession).where(WebSession.hash == hash_token(old.split("=", 1)[1]))
                  .values(created=time.time() - (SESSION_DAYS * 86400 + 1)))
    assert c.request("GET", "/", cookie=old)[0] == 401


def test_cookies_are_secure_under_https(tmp_path):
    running = Running(tmp_path, grading=False, https=True)
    try:
        _, headers = _login(running.client, running.tokens["ada"])
        assert "secure" in headers["set-cookie"].lower()
    finally:
        running.close()


def test_staff_see_the_class_grant_an_extension_regrade_and_export(served):
    c = served.client
    cookie, _ = _login(c, served.staff)
    status, _, page = c.request("GET", "/staff", cookie=cookie)
    assert status == 200 and "김민수".encode() in page and b"grades.csv" in page
    assert re.search(rb"Worker slots: 1: (busy|idle)\.", page)
    status, _, page = c.request("GET", "/staff/students/ada", cookie=cookie)
    csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
    body, ctype = multipart({"csrf": csrf, "student": "ada", "assignment": "mini",
                             "extra_hours": "48"}, {})
    assert c.request("POST", "/staff/extensions", cookie=cookie, body=body, ctype=ctype)[0] == 303
    ext = served.service.extension("ada", served.service.assignments["mini"])
    assert ext.extra_hours == 48
    for field, value in (("extra_hours", "1e9"), ("due", "9999-12-31T23:59:00+00:00")):
        body, ctype = multipart({"csrf": csrf, "student": "ada", "assignment": "mini",
                                 field: value}, {})
        status, _, page = c.request("POST", "/staff/extensions", cookie=cookie, body=body,
                                    ctype=ctype)
        assert status == 422 and b"Traceback" not in page, (field, page[:200])
    assert served.service.extension("ada", served.service.assignments["mini"]).extra_hours == 48
    body, ctype = multipart({"student": "ada", "assignment": "mini", "extra_hours": "1"}, {})
    assert c.request("POST", "/staff/extensions", cookie=cookie, body=body, ctype=ctype)[0] == 403
    status, headers, csv_text = c.request("GET", "/staff/grades.csv", cookie=cookie)
    lines = csv_text.decode().splitlines()
    assert status == 200 and lines[0].startswith("student,assignment,score,max_score")
    assert {line.split(",")[0] for line in lines[1:]} == {"ada", "김민수"}
    status, headers, data = c.request("GET", "/staff/submissions.zip", cookie=cookie)
    assert status == 200 and headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        everyone = served.service.history("ada") + served.service.history("김민수")
        assert sorted(names) == sorted(f"{x.student}/{x.id}-{x.sha256[:12]}.ipynb"
                                       for x in everyone)
        assert all(z.read(f"{x.student}/{x.id}-{x.sha256[:12]}.ipynb") == (
            served.service.config.data / "notebooks" / x.path).read_bytes() for x in everyone)
    from grader.reports import gradebook

    asg = served.service.assignments["mini"]
    counted = served.service.counted(served.service.history("ada"), asg)
    for fmt, make in (("grades", gradebook.grades_csv), ("otter", gradebook.otter_csv)):
        status, _, text = c.request("GET", f"/staff/assignments/mini/{fmt}.csv", cookie=cookie)
        assert status == 200 and text.decode() == make(served.service.counted_results(asg), asg)
    rows = c.request("GET", "/staff/assignments/mini/grades.csv", cookie=cookie)[2].decode()
    assert f"\nada,{counted.score:g},{asg.max_score:g},graded," in rows
    assert c.request("GET", "/staff/assignments/mini/nope.csv", cookie=cookie)[0] == 404
    before = {s.id: s.gradings for s in served.service.history("ada")}
    body, ctype = multipart({"student": "ada"}, {})
    status, _, answer = c.request("POST", "/api/regrade", token=served.staff, body=body,
                                  ctype=ctype)
    assert status == 200 and json.loads(answer)["queued"] == len(before)
    for sub_id in before:
        c.wait(sub_id, served.tokens["ada"])
    after = {s.id: s.gradings for s in served.service.history("ada")}
    assert after == {i: n + 1 for i, n in before.items()}


def test_the_cli_refuses_serve_without_a_roster(tmp_path):
    r = subprocess.run([sys.executable, "-m", "grader.cli", "serve", "--course", str(MINI_COURSE),
                        "--data", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "needs --roster" in r.stderr


def test_an_unreachable_database_is_a_usage_error_without_its_password(tmp_path):
    (tmp_path / "roster.csv").write_text("student\nada\n")
    r = subprocess.run([sys.executable, "-m", "grader.cli", "serve", "tokens", "--roster",
                        str(tmp_path / "roster.csv"), "--data", str(tmp_path), "--out",
                        str(tmp_path / "t.csv"), "--db",
                        f"postgresql://grader:s3cret@127.0.0.1:{_free_port()}/course"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    assert "cannot open the database postgresql://grader@127.0.0.1" in r.stderr
    assert "s3cret" not in r.stderr and "Traceback" not in r.stderr


def test_new_tokens_replace_the_old_ones(tmp_path):
    from grader.serve.db import Database

    db = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        db.sync_roster([("ada", "")])
        old = db.issue_token("student", "ada")
        new = db.issue_token("student", "ada")
        assert db.who(old) is None and db.who(new) == ("student", "ada")
    finally:
        db.close()


def test_add_staff_prints_a_token_kept_only_as_its_hash(tmp_path):
    from grader.serve.db import Database, Token, default_url, hash_token

    r = subprocess.run([sys.executable, "-m", "grader.cli", "serve", "add-staff", "prof",
                        "--data", str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                       check=True)
    token = r.stdout.strip()
    db = Database(default_url(tmp_path))
    try:
        assert db.who(token) == ("staff", "prof")
        with db.session() as s:
            assert [t.hash for t in s.query(Token)] == [hash_token(token)]
    finally:
        db.close()
    assert token.encode() not in (tmp_path / "grader.sqlite3").read_bytes()


def test_log_lines_are_one_line_each_and_carry_the_event_fields():
    import logging

    from grader.serve.logs import JsonFormatter, TextFormatter

    hostile = "/api/x\n2026-12-01 INFO grader.serve submission 1 graded\x1b[2J\ud800"
    record = logging.LogRecord("grader.serve", logging.INFO, __file__, 1, "refused %s", (hostile,),
                               None)
    record.event, record.path, record.http_status, record.student = ("refused", hostile, 404,
                                                                     "김민수\r\n")
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\r" not in line
    entry = json.loads(line)
    assert entry["event"] == "refused" and entry["http_status"] == 404
    assert entry["student"].startswith("김민수") and "\x1b" not in entry["path"]
    assert entry["level"] == "info" and entry["logger"] == "grader.serve"
    text = TextFormatter().format(record)
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert "event=\"refused\"" in text and "http_status=404" in text


def test_staff_grade_written_answers_and_a_stale_save_is_refused_naming_its_grader(tmp_path):
    from test_manual import answered, manual_course

    from grader import assign
    from grader.assignment import load

    course = manual_course(tmp_path)
    release = assign.build_release(load("mini", course), tmp_path / "release")
    running = Running(tmp_path, course=course)
    try:
        c, svc = running.client, running.service
        texts = {"ada": "Gradients **accumulate** in `.grad`.", "김민수": "<script>x()</script>"}
        ids = {}
        for student, text in texts.items():
            raw = answered(release.solution, text, tmp_path / f"{student}.ipynb").read_bytes()
            status, _, body = c.upload(running.tokens[student], raw)
            assert status == 202, body
            ids[student] = json.loads(body)["id"]
        for student, i in ids.items():
            done = c.wait(i, running.tokens[student])
            assert done["status"] == "graded"
        auto = done["score"]
        assert done["max_score"] == auto + 2       # q3 pending: not counted, not zero either
        ta = svc.db.issue_token("staff", "ta")
        status, rows = c.json("/api/manual/mini/q3", running.staff)
        assert status == 200 and [r["state"] for r in rows] == ["pending", "pending"]
        # the pages name no student
        for path in ["/staff/manual/mini/q3", *(f"/staff/manual/mini/q3/{r['aid']}" for r in rows)]:
            status, _, html = c.request("GET", path, token=running.staff)
            text = html.decode()
            assert status == 200 and "김민수" not in text and not re.search(r"\bada\b", text)
        assert "<script>x()" not in c.request("GET", f"/staff/manual/mini/q3/{rows[0]['aid']}",
                                               token=running.staff)[2].decode()
        aid_of = {e["student"]: e["aid"] for e in svc.manual_entries(svc.assignments["mini"],
                                                                      svc.manual_question(
                                                                          svc.assignments["mini"],
                                                                          "q3"))}
        row = next(r for r in rows if r["aid"] == aid_of["ada"])

        def save(token, items, version, comment=""):
            body, ctype = multipart({"version": str(version), "sha256": row["sha256"],
                                     "comment": comment, "item": items}, {})
            return c.request("POST", f"/api/manual/mini/q3/{row['aid']}", token=token,
                             body=body, ctype=ctype)

        status, _, body = save(running.staff, ["1", "2"], 0, "정확합니다")
        assert status == 200 and json.loads(body)["points"] == 2, body
        status, _, body = save(ta, ["3"], 0)          # ta opened it before prof saved
        assert status == 409, body
        message = json.loads(body)["error"]
        assert "prof saved a grade of it" in message and "reload" in message
        assert save(ta, ["9"], 1)[0] == 422            # no rubric item 9
        status, _, body = save(ta, ["1"], 1, "only half")
        assert status == 200 and json.loads(body)["version"] == 2
        # merged into the student's status, report and the gradebook
        done = c.wait(ids["ada"], running.tokens["ada"])
        assert done["score"] == auto + 1 and done["max_score"] == auto + 2
        report = c.request("GET", f"/submissions/{ids['ada']}/report",
                           token=running.tokens["ada"])[2].decode()
        assert "only half" in report
        grades = c.request("GET", "/api/grades.csv", token=running.staff)[2].decode()
        assert f"ada,mini,{auto + 1:g}," in grades
        merged = f"{auto + 1:g}"
        home = c.request("GET", "/", token=running.tokens["ada"])[2].decode()
        assert f"<td>{merged}</td>" in home
        page = c.request("GET", f"/submissions/{ids['ada']}", token=running.tokens["ada"])[2]
        assert f"{merged} / {auto + 2:g}" in page.decode()
        assert f"{merged} / {auto + 2:g}" in c.request("GET", "/staff",
                                                      token=running.staff)[2].decode()
        other = c.wait(ids["김민수"], running.tokens["김민수"])
        assert other["score"] == auto                 # still pending for the other student
        status, rows = c.json("/api/manual/mini/q3", running.staff)
        assert sorted(r["state"] for r in rows) == ["graded", "pending"]
        assert c.json("/api/manual/mini/q3", running.tokens["ada"])[0] == 403
    finally:
        running.close()

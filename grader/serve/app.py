"""The HTTP side of `grader serve` (Starlette): the JSON API, the student and staff pages,
/healthz and /metrics.

Every route but /healthz, /metrics and /login needs a session: a Bearer token (scripts) or the
session cookie /login sets (browsers; HttpOnly, SameSite=Lax, Secure under --https).  A form
posted with the cookie carries its CSRF token.  A student sees only their own submissions: any
other is 404.  Every refusal is a clear JSON body or page, and no traceback reaches a client.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (FileResponse, HTMLResponse, JSONResponse, PlainTextResponse,
                                 RedirectResponse, Response)
from starlette.routing import Route

from grader import policy as policy_mod
from grader.errors import GraderError, RefusedError
from grader.serve import db as db_mod
from grader.serve import queue
from grader.serve.service import Service, as_time

log = logging.getLogger("grader.serve")
COOKIE = "grader_session"
SESSION_DAYS = 30             # a browser signs in again with its link after this
FORM_SLACK = 1 << 20          # multipart headers and the other fields, beyond the notebook


@dataclass
class Who:
    kind: str                 # student | staff
    subject: str
    csrf: str = ""            # the session's CSRF token; "" for a Bearer token
    cookie: str = ""

    @property
    def staff(self) -> bool:
        return self.kind == "staff"


def _env() -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(Path(__file__).parent / "templates")
    return jinja2.Environment(loader=loader, autoescape=True)


def build_app(service: Service):
    """The ASGI app serving `service`."""
    env = _env()
    db = service.db

    def api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        who = request.scope.get("grader.who")
        html = env.get_template(name).render(who=who.subject if who else "",
                                             csrf=who.csrf if who else "", **context)
        return HTMLResponse(html, status_code=status)

    def refuse(request: Request, status: int, message: str) -> Response:
        if api(request):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        return page(request, "message.html", status, title="Refused", message=message, back="/")

    def identify(request: Request) -> Who | None:
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            found = db.who(header[7:].strip())
            return Who(*found) if found else None
        cookie = request.cookies.get(COOKIE, "")
        row = db_mod.find_session(db, cookie) if cookie else None
        if row is not None and time.time() - row.created > SESSION_DAYS * 86400:
            return None
        return Who(row.kind, row.subject, row.csrf, cookie) if row else None

    def need(request: Request, *, staff: bool = False) -> Who:
        who = identify(request)
        if who is None:
            raise RefusedError("sign in first: open the link your instructor sent, or send "
                               "Authorization: Bearer TOKEN", 401)
        if staff and not who.staff:
            raise RefusedError("this page is for the course staff", 403)
        request.scope["grader.who"] = who
        return who

    def check_csrf(who: Who, form) -> None:
        if who.cookie and not hmac.compare_digest(str(form.get("csrf", "")), who.csrf):
            raise RefusedError("this form has expired; reload the page and send it again", 403)

    def own(who: Who, sub_id: str) -> db_mod.Submission:
        sub = service.get(int(sub_id)) if sub_id.isdigit() and len(sub_id) < 12 else None
        if sub is None or (not who.staff and sub.student != who.subject):
            raise RefusedError(f"no submission {sub_id[:20]!r} of yours", 404)
        return sub

    def describe(sub: db_mod.Submission) -> dict:
        score, max_score = service.scores(sub)       # hand grades merged
        return {"id": sub.id, "status": sub.status, "score": score, "max_score": max_score, "sha256": sub.sha256, "assignment": sub.assignment,
                "submitted_at": as_time(sub.submitted_at).isoformat(),
                "position": queue.position(db, sub) if sub.status == queue.QUEUED else None,
                "report_url": f"/submissions/{sub.id}/report" if sub.result else None}

    # -- open routes ------------------------------------------------------------------------
    def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "grading": service.loop is not None})

    def metrics(request: Request) -> Response:
        return PlainTextResponse(metrics_text(service), media_type="text/plain; version=0.0.4")

    def login(request: Request) -> Response:
        if "token" not in request.query_params:      # where sign-out lands: no link to judge
            return page(request, "message.html", title="Signed out",
                        message="you are signed out; to sign in, open the link your instructor "
                                "sent you")
        found = db.who(request.query_params.get("token", ""))
        if found is None:
            return refuse(request, 401, "this sign-in link is not valid; ask your instructor "
                                        "for a new one")
        cookie, _ = db_mod.open_session(db, *found)
        response = RedirectResponse("/staff" if found[0] == "staff" else "/", status_code=303)
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="lax",
                            max_age=SESSION_DAYS * 86400,
                            secure=service.config.https, path="/")
        return response

    async def logout(request: Request) -> Response:
        who = await run_in_threadpool(need, request)
        check_csrf(who, await request.form())
        if who.cookie:
            await run_in_threadpool(db_mod.end_session, db, who.cookie)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- students ---------------------------------------------------------------------------
    def home(request: Request) -> Response:
        who = need(request)
        if who.staff:
            return RedirectResponse("/staff", status_code=303)
        rows, history = [], []
        for asg in service.assignments.values():
            due = service.deadline(who.subject, asg)
            left = service.attempts_left(who.subject, asg)
            rows.append({"name": asg.name, "title": asg.title,
                         "due": policy_mod.format_time(due) if due else "none",
                         "left": "no limit" if left is None else left})
        subs = service.history(who.subject)
        for asg in service.assignments.values():
            counted = service.counted([s for s in subs if s.assignment == asg.name], asg)
            history += [_row(s, counted, service.scores(s)[0]) for s in subs
                        if s.assignment == asg.name]
        return page(request, "home.html", title="Assignments", rows=rows, history=history)

    def release(request: Request) -> Response:
        need(request)
        asg = service.assignment(request.path_params["name"])
        path = service.course / "assignments" / asg.name / asg.notebook
        if not path.is_file():
            raise RefusedError(f"{asg.name} has not been released yet", 404)
        return FileResponse(path, filename=asg.notebook, media_type="application/x-ipynb+json")

    async def submit_api(request: Request) -> Response:
        who = await run_in_threadpool(need, request)
        sub = await _upload(request, who)
        return JSONResponse({"id": sub.id, "sha256": sub.sha256, "status": sub.status},
                            status_code=202)

    async def submit_form(request: Request) -> Response:
        who = await run_in_threadpool(need, request)
        sub = await _upload(request, who)
        return RedirectResponse(f"/submissions/{sub.id}", status_code=303)

    async def _upload(request: Request, who: Who) -> db_mod.Submission:
        if who.staff:
            raise RefusedError("staff accounts do not hand in notebooks", 403)
        limit = max(service.max_bytes(a) for a in service.assignments.values())
        form = await read_form(request, limit, service.config.body_timeout_s)
        check_csrf(who, form)
        notebook = form.get("notebook")
        if not isinstance(notebook, UploadFile):
            raise RefusedError("the form has no notebook file: send it in the field 'notebook'",
                               422)
        raw = await notebook.read()
        sub = await run_in_threadpool(service.accept, who.subject,
                                      str(form.get("assignment", "")), raw,
                                      notebook.filename or "")
        log.info("submission %s accepted", sub.id, extra={
            "event": "accepted", "submission": sub.id, "student": sub.student,
            "assignment": sub.assignment})
        return sub

    def status_api(request: Request) -> Response:
        who = need(request)
        sub = own(who, request.path_params["id"])
        return JSONResponse(describe(sub))

    def list_api(request: Request) -> Response:
        who = need(request)
        return JSONResponse([describe(s) for s in service.history(who.subject)])

    def status_page(request: Request) -> Response:
        who = need(request)
        sub = own(who, request.path_params["id"])
        state = sub.status
        score, max_score = service.scores(sub)
        if sub.status == queue.QUEUED:
            state = f"queued at position {queue.position(db, sub)}"
        waiting = sub.status in (queue.QUEUED, queue.RUNNING)
        return page(request, "submission.html", title=f"Submission #{sub.id}", s=sub, state=state,
                    score=f"{score or 0:g}", max_score=f"{max_score or 0:g}",
                    when=policy_mod.format_time(as_time(sub.submitted_at)),
                    refresh=2 if waiting else None,
                    back=f"/staff/students/{sub.student}" if who.staff else "/")

    def report(request: Request) -> Response:
        who = need(request)
        sub = own(who, request.path_params["id"])
        if sub.result is None:
            raise RefusedError("this submission has not been graded yet", 404)
        return HTMLResponse(service.report_html(sub, staff=who.staff))

    # -- staff ------------------------------------------------------------------------------
    def staff_home(request: Request) -> Response:
        need(request, staff=True)
        rows = []
        for st in service.students():
            subs = service.history(st.id)
            cells = []
            for asg in service.assignments.values():
                mine = [s for s in subs if s.assignment == asg.name]
                best = service.counted(mine, asg)
                cells.append(f"{service.scores(best)[0]:g} / {asg.max_score:g}" if best else
                             ("in the queue" if mine else "–"))
            rows.append({"id": st.id, "name": st.name, "cells": cells})
        n = queue.counts(db)
        loop = service.loop
        slots = [("busy" if loop.busy.get(i) is not None else "idle")
                 + ("" if w.alive() else ", restarting")
                 for i, w in enumerate(loop.slots)] if loop else []
        return page(request, "staff.html", title="Class", rows=rows, refresh=10,
                    assignments=list(service.assignments), queued=n.get(queue.QUEUED, 0),
                    running=n.get(queue.RUNNING, 0),
                    slots="; ".join(f"{i + 1}: {x}" for i, x in enumerate(slots)) or "none")

    def staff_student(request: Request) -> Response:
        need(request, staff=True)
        student = request.path_params["student"]
        if student not in {s.id for s in service.students()}:
            raise RefusedError("no such student on the roster", 404)
        history = [_row(s, None, service.scores(s)[0]) for s in service.history(student)]
        return page(request, "staff_student.html", title=f"Student {student}", student=student,
                    history=history, assignments=list(service.assignments))

    async def extensions(request: Request) -> Response:
        who = await run_in_threadpool(need, request, staff=True)
        form = await request.form()
        check_csrf(who, form)
        asg = service.assignment(str(form.get("assignment", "")))
        student, due_text = str(form.get("student", "")), str(form.get("due", "")).strip()
        hours_text = str(form.get("extra_hours", "")).strip()
        try:       # the bounds of an extensions file: every deadline stays a representable time
            due = policy_mod.extension_due(due_text, "due") if due_text else None
            hours = policy_mod.extension_hours(hours_text, "extra_hours") if hours_text else 0.0
        except (GraderError, ValueError) as exc:
            raise RefusedError(f"the extension could not be read: {exc}", 422) from None
        await run_in_threadpool(service.set_extension, student, asg, due=due, extra_hours=hours)
        if api(request):
            return JSONResponse({"student": student, "assignment": asg.name, "ok": True})
        return RedirectResponse(f"/staff/students/{student}", status_code=303)

    async def regrade(request: Request) -> Response:
        who = await run_in_threadpool(need, request, staff=True)
        form = await request.form()
        check_csrf(who, form)
        student = str(form.get("student", "")) or None
        n = await run_in_threadpool(service.regrade, student)
        if api(request):
            return JSONResponse({"queued": n})
        return RedirectResponse("/staff", status_code=303)

    def grades(request: Request) -> Response:
        need(request, staff=True)
        return Response(service.gradebook(), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": "attachment; filename=grades.csv"})

    def export(request: Request) -> Response:
        need(request, staff=True)
        asg = service.assignment(request.path_params["name"])
        fmt = request.path_params["fmt"]
        text = service.export(asg, fmt)
        name = {"otter": "final_grades.csv", "canvas": "canvas_grades.csv"}.get(fmt, "grades.csv")
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f"attachment; filename={asg.name}-{name}"})

    async def submissions_zip(request: Request) -> Response:
        await run_in_threadpool(need, request, staff=True)
        data = await run_in_threadpool(service.submissions_zip)
        return Response(data, media_type="application/zip",
                        headers={"content-disposition": "attachment; filename=submissions.zip"})

    # -- manual grading (staff) ------------------------------------------------------------
    def manual_index(request: Request) -> Response:
        need(request, staff=True)
        rows = []
        for asg in service.assignments.values():
            for q in asg.manual:
                entries = service.manual_entries(asg, q)
                rows.append({"assignment": asg.name, "id": q.id, "title": q.title,
                             "answers": len(entries),
                             "pending": sum(1 for e in entries if e["state"] != "graded")})
        if api(request):
            return JSONResponse(rows)
        return page(request, "manual_index.html", title="Written answers", rows=rows)

    def manual_list(request: Request) -> Response:
        need(request, staff=True)
        asg = service.assignment(request.path_params["name"])
        q = service.manual_question(asg, request.path_params["qid"])
        entries = service.manual_entries(asg, q)
        rows = [{"aid": e["aid"], "state": e["state"], "sha256": e["sha256"],
                 "version": e["version"],
                 "points": e["row"].points if e["row"] else None,
                 "grader": e["row"].grader if e["row"] else ""} for e in entries]
        if api(request):
            return JSONResponse(rows)
        return page(request, "manual_list.html", title=f"{asg.name} {q.id}: {q.title}",
                    asg=asg, q=q, rows=rows)

    def manual_answer(request: Request) -> Response:
        from grader.reports.manual_pages import render_cells

        need(request, staff=True)
        asg = service.assignment(request.path_params["name"])
        q = service.manual_question(asg, request.path_params["qid"])
        entries, i = service.manual_entry(asg, q, request.path_params["aid"])
        e = entries[i]
        row = e["row"]
        base = f"/staff/manual/{asg.name}/{q.id}"
        return page(request, "manual_answer.html", title=f"{asg.name} {q.id} · {e['aid']}",
                    asg=asg, q=q, e=e, cells=render_cells(e["answer"]), base=base,
                    n=i + 1, total=len(entries),
                    ticked=set(json.loads(row.items)) if row else set(),
                    comment=row.comment if row else "",
                    prev=entries[i - 1]["aid"] if i > 0 else None,
                    next=entries[i + 1]["aid"] if i + 1 < len(entries) else None,
                    graded_by=(f"{row.grader}, {policy_mod.format_time(as_time(row.graded_at))}"
                               if row else ""))

    async def manual_save(request: Request) -> Response:
        who = await run_in_threadpool(need, request, staff=True)
        form = await request.form()
        check_csrf(who, form)
        asg = service.assignment(request.path_params["name"])
        q = service.manual_question(asg, request.path_params["qid"])
        aid = request.path_params["aid"]
        try:
            items = [int(str(v)) for v in form.getlist("item")]
            version = int(str(form.get("version", "")))
            points_text = str(form.get("points", "")).strip()
            points = float(points_text) if points_text else None
        except ValueError:
            raise RefusedError("the grade could not be read: items, version and points are "
                               "numbers", 422) from None
        saved = await run_in_threadpool(
            lambda: service.save_manual(who.subject, asg, q, aid, items=items,
                                        comment=str(form.get("comment", "")), points=points,
                                        seen_version=version,
                                        seen_sha256=str(form.get("sha256", ""))))
        log.info("manual grade saved", extra={"event": "manual_grade", "assignment": asg.name,
                                              "question": q.id, "points": saved["points"]})
        if api(request):
            return JSONResponse(saved)
        entries = await run_in_threadpool(service.manual_entries, asg, q)
        after = [e for e in entries if e["state"] != "graded"]
        target = f"/staff/manual/{asg.name}/{q.id}"
        return RedirectResponse(f"{target}/{after[0]['aid']}" if after else target,
                                status_code=303)

    routes = [
        Route("/healthz", healthz), Route("/metrics", metrics), Route("/login", login),
        Route("/logout", logout, methods=["POST"]), Route("/", home),
        Route("/assignments/{name}/release", release),
        Route("/submit", submit_form, methods=["POST"]),
        Route("/submissions/{id}", status_page), Route("/submissions/{id}/report", report),
        Route("/api/submissions", submit_api, methods=["POST"]),
        Route("/api/submissions", list_api, methods=["GET"]),
        Route("/api/submissions/{id}", status_api),
        Route("/staff", staff_home), Route("/staff/students/{student}", staff_student),
        Route("/staff/extensions", extensions, methods=["POST"]),
        Route("/api/extensions", extensions, methods=["POST"]),
        Route("/staff/regrade", regrade, methods=["POST"]),
        Route("/api/regrade", regrade, methods=["POST"]),
        Route("/staff/grades.csv", grades), Route("/api/grades.csv", grades),
        Route("/staff/submissions.zip", submissions_zip),
        Route("/staff/assignments/{name}/{fmt}.csv", export),
        Route("/staff/manual", manual_index), Route("/api/manual", manual_index),
        Route("/staff/manual/{name}/{qid}", manual_list),
        Route("/api/manual/{name}/{qid}", manual_list),
        Route("/staff/manual/{name}/{qid}/{aid}", manual_answer),
        Route("/staff/manual/{name}/{qid}/{aid}", manual_save, methods=["POST"]),
        Route("/api/manual/{name}/{qid}/{aid}", manual_save, methods=["POST"]),
    ]

    async def on_refused(request: Request, exc: RefusedError) -> Response:
        log.info("refused %s %s: %s", request.method, request.url.path, exc, extra={
            "event": "refused", "http_status": exc.status, "method": request.method,
            "path": request.url.path})
        return refuse(request, exc.status, str(exc))

    async def on_http(request: Request, exc: HTTPException) -> Response:
        return refuse(request, exc.status_code, str(exc.detail))

    async def on_error(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s %s: %s: %s", request.method, request.url.path,
                  type(exc).__name__, exc, extra={"event": "internal_error", "http_status": 500,
                                                  "method": request.method,
                                                  "path": request.url.path})
        return refuse(request, 500, "the server failed on this request; it has been logged")

    app = Starlette(routes=routes, exception_handlers={
        RefusedError: on_refused, HTTPException: on_http, Exception: on_error})
    return _with_headers(app)


SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"), (b"cache-control", b"no-store"),
                    (b"content-security-policy",
                     b"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                     b"form-action 'self'; frame-ancestors 'none'")]


def _with_headers(app):
    """`app` answering every HTTP response with SECURITY_HEADERS: no script runs on a page,
    none is framed, no sign-in link leaks through a Referer, nothing is cached."""
    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)

        async def send_with(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  *SECURITY_HEADERS]}
            await send(message)

        return await app(scope, receive, send_with)

    wrapped.app = app
    return wrapped


async def read_form(request: Request, limit: int, timeout_s: float):
    """The multipart form of `request`, read whole only if within `limit` bytes (plus the form's
    own slack) and if no wait for the next part of the body exceeds `timeout_s`; RefusedError
    for anything else."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise RefusedError("send a multipart/form-data form with the fields 'assignment' and "
                           "'notebook'", 415)
    cap = limit + FORM_SLACK
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        raise RefusedError(f"the upload is {int(length) / 2**20:.1f} MiB, over the "
                           f"{limit / 2**20:g} MiB limit for a notebook", 413)
    body = bytearray()
    chunks = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(chunks.__anext__(), timeout_s)
        except StopAsyncIteration:
            break
        except (asyncio.TimeoutError, TimeoutError):
            raise RefusedError(f"the upload stalled: nothing came for {timeout_s:g} s; send it "
                               "again", 408) from None
        body += chunk
        if len(body) > cap:
            raise RefusedError(f"the upload is over the {limit / 2**20:g} MiB limit for a "
                               "notebook", 413)
    done = False

    async def replay() -> dict:
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        done = True
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    try:
        return await Request(request.scope, replay).form(max_files=2, max_fields=20)
    except HTTPException as exc:
        raise RefusedError(f"the form could not be read: {exc.detail}", 400) from None
    except Exception as exc:  # noqa: BLE001 - a malformed multipart body
        raise RefusedError(f"the form could not be read ({type(exc).__name__})", 400) from None


def _row(sub: db_mod.Submission, counted, score: float | None) -> dict:
    return {"id": sub.id, "sha256": sub.sha256, "assignment": sub.assignment,
            "when": policy_mod.format_time(as_time(sub.submitted_at)), "status": sub.status,
            "score": "" if score is None else f"{score:g}",
            "counts": counted is not None and counted.id == sub.id}


def metrics_text(service: Service) -> str:
    """The Prometheus text exposition of the queue, the slots and the grading latency."""
    counts = queue.counts(service.db)
    lines = ["# HELP grader_queue_depth Submissions waiting to be graded.",
             "# TYPE grader_queue_depth gauge",
             f"grader_queue_depth {counts.get(queue.QUEUED, 0)}",
             "# HELP grader_submissions Submissions by status.",
             "# TYPE grader_submissions gauge"]
    lines += [f'grader_submissions{{status="{s}"}} {n}' for s, n in sorted(counts.items())]
    loop = service.loop
    busy = sum(1 for v in (loop.busy.values() if loop else []) if v is not None)
    lines += ["# HELP grader_slots Worker slots by state.", "# TYPE grader_slots gauge",
              f'grader_slots{{state="busy"}} {busy}',
              f'grader_slots{{state="idle"}} {(loop.jobs if loop else 0) - busy}']
    lat = sorted(loop.latencies) if loop else []
    lines += ["# HELP grader_grading_latency_seconds Upload to result, recent submissions.",
              "# TYPE grader_grading_latency_seconds summary"]
    for q in (0.5, 0.95):
        value = lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
        lines.append(f'grader_grading_latency_seconds{{quantile="{q}"}} {value:.6g}')
    lines += [f"grader_grading_latency_seconds_sum {sum(lat):.6g}",
              f"grader_grading_latency_seconds_count {len(lat)}"]
    return "\n".join(lines) + "\n"


def serve(service: Service, host: str, port: int) -> None:
    """Run the service until interrupted (uvicorn; its access log is off: a sign-in link's
    query holds a token)."""
    import uvicorn

    app = build_app(service)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info",
                timeout_keep_alive=5, server_header=False)

"""`grader serve`, `grader serve tokens` and `grader serve add-staff` (wired in grader.cli)."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from grader.errors import UsageError


def run(args) -> int:
    try:
        import sqlalchemy  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"grader serve needs the serve extra ({exc.name} is missing): "
                         "pip install 'torchgrader[serve]'") from None
    if args.serve_command == "tokens":
        return tokens(args.tokens_roster, args.tokens_data, args.tokens_db, args.out,
                      args.base_url)
    if args.serve_command == "add-staff":
        return add_staff(args.name, args.staff_data, args.staff_db)
    return serve(args)


def _db(data: Path, url: str | None):
    from grader.serve.db import Database, default_url

    Path(data).mkdir(parents=True, exist_ok=True)
    return Database(url or default_url(data))


def tokens(roster: Path, data: Path, url: str | None, out: Path, base_url: str) -> int:
    """A new token for every student of `roster` (earlier ones stop working), written to `out`
    as student,token,link; the database keeps their hashes only."""
    from grader.lms import Roster

    people = Roster.load(roster)
    db = _db(data, url)
    try:
        db.sync_roster([(r["student"], r.get("name", "")) for r in people.rows])
        rows = [(sid, db.issue_token("student", sid)) for sid in people.ids()]
    finally:
        db.close()
    base = base_url.rstrip("/")
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "token", "link"])
        w.writerows([sid, tok, f"{base}/login?token={tok}"] for sid, tok in rows)
    print(f"wrote {len(rows)} student tokens to {out}")
    return 0


def add_staff(name: str, data: Path, url: str | None) -> int:
    """A staff account `name`; its token is printed once and kept as a hash."""
    from grader.serve.db import Staff

    if not name.strip() or len(name) > 200:
        raise UsageError("give the staff member a name of 1 to 200 characters")
    db = _db(data, url)
    try:
        with db.session.begin() as s:
            if s.get(Staff, name) is None:
                s.add(Staff(name=name))
        token = db.issue_token("staff", name)
    finally:
        db.close()
    print(token)
    return 0


def serve(args) -> int:
    from grader.serve import logs
    from grader.serve.app import serve as run_app
    from grader.serve.service import Config, Service

    if args.roster is None:
        raise UsageError("grader serve needs --roster (a CSV with a 'student' column)")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.ray_address and args.executor != "ray":
        raise UsageError("--ray-address needs --executor ray")
    if args.executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UsageError("--executor ray needs Ray: pip install 'torchgrader[ray]'") from None
    course = args.serve_course or args.course or Path.cwd()
    logs.setup(args.log_format)
    service = Service(Config(course=course, roster=args.roster, data=args.data, db=args.db,
                             jobs=args.jobs, sandbox=args.sandbox, https=args.https,
                             unsafe_no_cgroups=args.unsafe_no_cgroups,
                             executor=args.executor, ray_address=args.ray_address))
    try:
        recovered = service.start_grading()
        logging.getLogger("grader.serve").info(
            "serving %d assignment(s) on http://%s:%d; %d interrupted submission(s) queued again",
            len(service.assignments), args.host, args.port, recovered,
            extra={"event": "started", "recovered": recovered, "slots": args.jobs,
                   "port": args.port})
        run_app(service, args.host, args.port)
    finally:
        service.close()
    return 0

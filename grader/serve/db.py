"""The service's database: students, staff, tokens (as hashes), sessions, extensions and
submissions with their queue state and result records (SQLAlchemy 2).

SQLite under the data directory by default (WAL, synchronous=FULL: a committed row survives a
crash of the process or the machine), PostgreSQL with `postgresql://...`.  Times are stored as
seconds since the epoch (UTC), the same on both engines.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path

from sqlalchemy import (Float, ForeignKey, Integer, String, Text, UniqueConstraint, create_engine,
                        event, select)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from grader.errors import UsageError

QUEUED, RUNNING = "queued", "running"


class Base(DeclarativeBase):
    pass


class Student(Base):
    __tablename__ = "students"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class Staff(Base):
    __tablename__ = "staff"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)


class Token(Base):
    """A sign-in token, kept as its sha256 only: the token itself is shown once."""

    __tablename__ = "tokens"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))            # student | staff
    subject: Mapped[str] = mapped_column(String(200), index=True)
    created: Mapped[float] = mapped_column(Float, default=time.time)


class WebSession(Base):
    """A signed-in browser: the cookie's sha256, who it is, and the CSRF token of its forms."""

    __tablename__ = "sessions"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    csrf: Mapped[str] = mapped_column(String(64))
    created: Mapped[float] = mapped_column(Float, default=time.time)


class Assignment(Base):
    __tablename__ = "assignments"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    max_score: Mapped[float] = mapped_column(Float, default=0.0)


class ExtensionRow(Base):
    """A student's extension on one assignment: a new deadline (epoch seconds) or extra hours."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("student", "assignment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student: Mapped[str] = mapped_column(ForeignKey("students.id"))
    assignment: Mapped[str] = mapped_column(ForeignKey("assignments.name"))
    due: Mapped[float | None] = mapped_column(Float, nullable=True)
    extra_hours: Mapped[float] = mapped_column(Float, default=0.0)


class Submission(Base):
    """One accepted upload: its notebook (by sha256 in the store), its place in the queue, and
    its result record once graded."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    assignment: Mapped[str] = mapped_column(ForeignKey("assignments.name"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300))           # relative to the store's root
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(300), default="")
    submitted_at: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), index=True, default=QUEUED)
    claim: Mapped[str] = mapped_column(String(32), default="")   # the grading run that holds it
    claims: Mapped[int] = mapped_column(Integer, default=0)      # times it was taken off the queue
    gradings: Mapped[int] = mapped_column(Integer, default=0)    # results recorded for it
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)   # the Result record's JSON


class ManualGradeRow(Base):
    """A grader's grade of one student's answer to one manual question.  `version` counts the
    saves: a save names the version its grader saw, and one made on an older version is refused
    (another grader saved in between)."""

    __tablename__ = "manual_grades"
    __table_args__ = (UniqueConstraint("student", "assignment", "question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student: Mapped[str] = mapped_column(ForeignKey("students.id"))
    assignment: Mapped[str] = mapped_column(ForeignKey("assignments.name"))
    question: Mapped[str] = mapped_column(String(200))
    points: Mapped[float] = mapped_column(Float)
    items: Mapped[str] = mapped_column(Text, default="[]")          # JSON: rubric item numbers
    comment: Mapped[str] = mapped_column(Text, default="")
    grader: Mapped[str] = mapped_column(String(200))
    graded_at: Mapped[float] = mapped_column(Float)
    sha256: Mapped[str] = mapped_column(String(64))                 # the answer graded
    version: Mapped[int] = mapped_column(Integer, default=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Database:
    """An engine and its sessions for `url` (a SQLAlchemy URL); the tables are made if missing."""

    def __init__(self, url: str) -> None:
        self.url = _driver(url)
        self.sqlite = self.url.startswith("sqlite")
        sqlite_args = {"check_same_thread": False, "timeout": 30}
        kwargs = {"connect_args": sqlite_args} if self.sqlite else {}
        try:
            self.engine = create_engine(self.url, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a bad URL is the user's to fix
            raise UsageError(f"--db {_safe_url(url)}: {exc}") from None
        if self.sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.session = sessionmaker(self.engine, expire_on_commit=False)
        try:
            Base.metadata.create_all(self.engine)
        except Exception as exc:  # noqa: BLE001 - an unreachable server, bad credentials
            raise UsageError(f"cannot open the database {_safe_url(url)}: "
                             f"{str(exc).splitlines()[0][:300]}") from None

    def close(self) -> None:
        self.engine.dispose()

    def sync_roster(self, students: list[tuple[str, str]]) -> None:
        """Add the roster's (id, name) students not yet known; nobody is removed."""
        with self.session.begin() as s:
            known = set(s.scalars(select(Student.id)))
            s.add_all(Student(id=sid, name=name) for sid, name in students if sid not in known)

    def sync_assignments(self, rows: list[tuple[str, str, float]]) -> None:
        with self.session.begin() as s:
            for name, title, max_score in rows:
                s.merge(Assignment(name=name, title=title, max_score=max_score))

    def issue_token(self, kind: str, subject: str) -> str:
        """A new token for `subject`, replacing its earlier ones; only the hash is kept."""
        token = new_token()
        with self.session.begin() as s:
            for old in s.scalars(select(Token).where(Token.kind == kind, Token.subject == subject)):
                s.delete(old)
            s.add(Token(hash=hash_token(token), kind=kind, subject=subject))
        return token

    def who(self, token: str) -> tuple[str, str] | None:
        """(kind, subject) for a valid token, else None."""
        with self.session() as s:
            row = s.get(Token, hash_token(token))
            return (row.kind, row.subject) if row is not None else None


def default_url(data: Path) -> str:
    return f"sqlite:///{(Path(data) / 'grader.sqlite3').resolve()}"


def _driver(url: str) -> str:
    """postgresql:// URLs go through psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _safe_url(url: str) -> str:
    """The URL without its password."""
    head, sep, tail = url.rpartition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, creds = head.partition("://")
    return f"{scheme}://{creds.split(':')[0]}@{tail}"


def _sqlite_pragmas(conn, _record) -> None:
    conn.isolation_level = None          # transactions begin as _sqlite_begin says
    cur = conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn) -> None:
    """Every transaction takes the write lock first: one that read and then writes never meets
    a writer that came between (SQLITE_BUSY), it waits for it (the busy timeout)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def open_session(db: Database, kind: str, subject: str) -> tuple[str, str]:
    """A new browser session for (kind, subject): (the cookie's value, its CSRF token)."""
    cookie, csrf = new_token(), new_token()
    with db.session.begin() as s:
        s.add(WebSession(hash=hash_token(cookie), kind=kind, subject=subject, csrf=csrf))
    return cookie, csrf


def find_session(db: Database, cookie: str) -> WebSession | None:
    with db.session() as s:
        return s.get(WebSession, hash_token(cookie))


def end_session(db: Database, cookie: str) -> None:
    with db.session.begin() as s:
        row = s.get(WebSession, hash_token(cookie))
        if row is not None:
            s.delete(row)


ADVISORY_KEY = 0x746F726368   # PostgreSQL's advisory lock of the server grading from a database


class ServerLock:
    """One grading server per data directory and per database: a second one would put the
    first's running submissions back in the queue when it starts (and grade them twice over).

    An exclusive `flock` on DATA/server.lock, and on PostgreSQL a session advisory lock held on
    its own connection (servers with different data directories may share a database).  Both
    go with the process, `kill -9` included: a restart never waits for a stale lock."""

    def __init__(self, data: Path, db: Database) -> None:
        import fcntl
        import os

        path = Path(data) / "server.lock"
        self.file = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            pid = self.file.read().strip()[:20] or "unknown"
            self.file.close()
            raise UsageError(f"another grader serve (pid {pid}) is already serving {data}; stop "
                             "it first, or give this server its own --data and database") from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()
        self.conn = None
        if not db.sqlite:
            self.conn = db.engine.connect()
            got = self.conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({ADVISORY_KEY})").scalar()
            self.conn.commit()
            if not got:
                self.release()
                raise UsageError(f"another grader serve is already grading from the database "
                                 f"{_safe_url(db.url)}; stop it first, or give this server its "
                                 "own database")

    def release(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if not self.file.closed:
            self.file.close()

"""A course's policy for one assignment: its deadline, late work, extensions, attempts and feedback.

The `[policy]` table of `assignment.toml` is declared once below (POLICY_KEYS), each key with its
type, default and meaning; an unknown or mistyped key is an AssignmentError.  Everything here is
pure: times are timezone-aware datetimes and the clock is passed in, so batch grading and a
submission service give the same answer for the same inputs.

    policy = parse({"due": "2026-10-05T23:59:00+09:00", "late": "per_day", "penalty": 0.1}, path)
    lateness(policy, submitted_at).sentence
    # 'submitted 26 h after the deadline: 2 days late × 10% = −20%'

Batch grading (`grader grade`) applies the deadline, late penalty, cutoff, extensions and
feedback; it grades one submission per student (the newest), so `attempts`, `counts` and `rate`
come into play where a student's several attempts are known, through `choose_attempt`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from grader.errors import AssignmentError, UsageError

LATE_MODES = ("none", "per_day", "per_hour")
COUNTS = ("last", "best")
FEEDBACK_BEFORE = ("full", "scores", "public")
FEEDBACK_AFTER = ("full", "scores")

POLICY_KEYS = {   # key: (types, default, meaning)
    "due": ((str, datetime), None, "The deadline, ISO 8601 with a zone offset "
                                   "(2026-10-05T23:59:00+09:00); without it nothing is late"),
    "late": (str, "none", "none (late work refused) | per_day | per_hour: how lateness is counted"),
    "penalty": ((int, float), 0.0, "Fraction of the score lost per day or hour started after the "
                                   "deadline, e.g. 0.1"),
    "grace": ((int, float), 0, "Minutes after the deadline still counted as on time"),
    "cutoff": ((str, datetime), None, "Time (with a zone offset) after which a submission scores 0 "
                                      "(the submission service refuses it)"),
    "attempts": (int, None, "Graded submissions a student may make (default: no limit)"),
    "counts": (str, "last", "last | best: which of a student's attempts counts"),
    "rate": ((int, float), None, "Attempts a student may make per hour (default: no limit)"),
    "feedback": (str, "full", "What a student sees of the hidden tests before the deadline: full "
                              "(messages) | scores (per question, no messages) | public (public "
                              "tests only)"),
    "feedback_after": (str, "full", "What a student sees of the hidden tests after the deadline: "
                                    "full | scores"),
}

# values shown in a new assignment.toml for the keys unset by default
POLICY_EXAMPLES = {"due": "2026-10-05T23:59:00+09:00", "cutoff": "2026-10-08T23:59:00+09:00",
                   "attempts": 10, "rate": 3}

PERIODS = {"per_day": (86400, "day"), "per_hour": (3600, "hour")}


@dataclass(frozen=True)
class Policy:
    """A validated `[policy]` table; the defaults (no deadline) make nothing late."""

    due: datetime | None = None
    late: str = "none"
    penalty: float = 0.0
    grace: float = 0.0                  # minutes
    cutoff: datetime | None = None
    attempts: int | None = None
    counts: str = "last"
    rate: float | None = None
    feedback: str = "full"
    feedback_after: str = "full"


@dataclass(frozen=True)
class Extension:
    """One student's extension: a new deadline, or hours added to the assignment's."""

    student: str
    due: datetime | None = None
    extra_hours: float = 0.0

    def deadline(self, due: datetime) -> datetime:
        """The student's deadline given the assignment's `due`."""
        return self.due if self.due is not None else due + timedelta(hours=self.extra_hours)

    def describe(self) -> str:
        return (f"extended to {format_time(self.due)}" if self.due is not None
                else f"extended by {self.extra_hours:g} h")


@dataclass(frozen=True)
class Lateness:
    """How late one submission was and what it costs; `sentence` says it to the student."""

    submitted_at: datetime | None
    due: datetime | None                # the deadline that applied (the extension's, if any)
    late_seconds: float = 0.0           # after `due`; 0 when on time or unknown
    periods: int = 0                    # days or hours started, counted once past the grace
    penalty: float = 0.0                # fraction of the raw score lost, 0..1
    extension: str = ""                 # how the deadline was moved, "" when it was not
    within_grace: bool = False
    refused: bool = False               # late work not accepted (late = "none")
    zeroed: bool = False                # past the cutoff
    sentence: str = ""

    @property
    def late_hours(self) -> float:
        return round(self.late_seconds / 3600, 4)

    def final(self, raw: float) -> float:
        """The score that counts for a raw score of `raw`."""
        return 0.0 if self.refused or self.zeroed else round(raw * (1 - self.penalty), 6)

    def to_dict(self) -> dict:
        """Plain JSON values (times as ISO 8601) for a result record."""
        data = asdict(self)
        data["submitted_at"] = self.submitted_at.isoformat() if self.submitted_at else None
        data["due"] = self.due.isoformat() if self.due else None
        data["late_hours"] = self.late_hours
        return data


def parse(raw: dict, path: Path) -> Policy:
    """The Policy of a `[policy]` table read from `path`; AssignmentError names the bad key."""
    for key, value in raw.items():
        if key not in POLICY_KEYS:
            raise AssignmentError(f"{path}: unknown setting policy.{key!r} "
                                  f"(known: {', '.join(POLICY_KEYS)})")
        kinds = POLICY_KEYS[key][0]
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise AssignmentError(f"{path}: policy.{key} has the wrong type "
                                  f"({type(value).__name__})")
    given = {k: raw.get(k, v[1]) for k, v in POLICY_KEYS.items()}
    for key in ("due", "cutoff"):
        if given[key] is not None:
            given[key] = _aware(given[key], f"{path}: policy.{key}", AssignmentError)
    policy = Policy(**given)
    _check(policy, path)
    return policy


def _check(p: Policy, path: Path) -> None:
    choices = {"late": LATE_MODES, "counts": COUNTS, "feedback": FEEDBACK_BEFORE,
               "feedback_after": FEEDBACK_AFTER}
    for key, allowed in choices.items():
        if getattr(p, key) not in allowed:
            raise AssignmentError(f"{path}: policy.{key} must be one of {', '.join(allowed)}, "
                                  f"not {getattr(p, key)!r}")
    problems = [
        (not 0 <= p.penalty <= 1, "policy.penalty must be a fraction between 0 and 1"),
        (p.grace < 0, "policy.grace must be zero or more minutes"),
        (p.attempts is not None and p.attempts < 1, "policy.attempts must be at least 1"),
        (p.rate is not None and p.rate <= 0, "policy.rate must be a positive number per hour"),
        (p.due is None and (p.late != "none" or p.cutoff is not None),
         "policy.late and policy.cutoff need policy.due"),
        (p.late in PERIODS and not p.penalty, f"policy.late = {p.late!r} needs a policy.penalty"),
        (p.cutoff is not None and p.due is not None and p.cutoff < p.due,
         "policy.cutoff is before policy.due"),
    ]
    for bad, message in problems:
        if bad:
            raise AssignmentError(f"{path}: {message}")


def parse_time(text: object, where: str, error=UsageError) -> datetime:
    """An ISO 8601 time with a zone offset; `error` (naming `where`) for anything else."""
    return _aware(text, where, error)


def _aware(value: object, where: str, error) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise error(f"{where}: {value[:60]!r} is not an ISO 8601 time such as "
                        "2026-10-05T23:59:00+09:00") from None
    if not isinstance(value, datetime):
        raise error(f"{where}: expected a time such as 2026-10-05T23:59:00+09:00")
    if value.utcoffset() is None:
        raise error(f"{where}: {value.isoformat()} has no zone offset; write it as "
                    f"{value.isoformat()}+09:00 (or your course's offset, or Z for UTC)")
    return value


def lateness(policy: Policy, submitted_at: datetime | None,
             extension: Extension | None = None) -> Lateness:
    """How late a submission made at `submitted_at` is under `policy` and the student's
    `extension`, and the fraction of its score it loses.

    Lateness is counted from the deadline (the extension's, if any); a submission within `grace`
    minutes of it is on time, and past it every day or hour started counts.  An extension moves
    the cutoff by as much as it moves the deadline, never earlier."""
    if policy.due is None:
        return Lateness(submitted_at, None, sentence="")
    due = extension.deadline(policy.due) if extension else policy.due
    moved = extension.describe() if extension else ""
    if submitted_at is None:
        return Lateness(None, due, extension=moved,
                        sentence="submission time unknown: no late penalty applied")
    late = (submitted_at - due).total_seconds()
    base = Lateness(submitted_at, due, max(late, 0.0), extension=moved)
    if late <= 0:
        return _with(base, sentence="submitted on time" + _moved(moved))
    if late <= policy.grace * 60:
        return _with(base, within_grace=True, sentence=(
            f"submitted {duration(late)} after the deadline{_moved(moved)}, within the "
            f"{policy.grace:g} min grace period: no penalty"))
    head = f"submitted {duration(late)} after the deadline{_moved(moved)}"
    cutoff = _cutoff(policy, due)
    if cutoff is not None and submitted_at > cutoff:
        return _with(base, penalty=1.0, zeroed=True,
                     sentence=f"{head}, after the cutoff ({format_time(cutoff)}): scored 0")
    if policy.late == "none":
        return _with(base, penalty=1.0, refused=True,
                     sentence=f"{head}; late work is not accepted: scored 0")
    seconds, unit = PERIODS[policy.late]
    periods = math.ceil(late / seconds)
    penalty = min(1.0, round(periods * policy.penalty, 9))
    capped = " (all of it)" if periods * policy.penalty > 1 else ""
    units = unit if periods == 1 else f"{unit}s"
    return _with(base, periods=periods, penalty=penalty, sentence=(
        f"{head}: {periods} {units} late × {percent(policy.penalty)} = "
        f"−{percent(penalty)}{capped}"))


def _with(base: Lateness, **changes) -> Lateness:
    return Lateness(**{**base.__dict__, **changes})


def _moved(moved: str) -> str:
    return f" ({moved})" if moved else ""


def _cutoff(policy: Policy, due: datetime) -> datetime | None:
    if policy.cutoff is None:
        return None
    return max(policy.cutoff, policy.cutoff + (due - policy.due))


def duration(seconds: float) -> str:
    """A length of time in words: "26 h", "24 h 1 s", "3 min 20 s", "1 s"."""
    total = max(1, round(seconds)) if seconds > 0 else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {u}" for n, u in ((hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return " ".join(parts) or "0 s"


def percent(fraction: float) -> str:
    return f"{round(fraction * 100, 6):g}%"


def format_time(t: datetime) -> str:
    """A time as the course wrote it: 2026-10-05 23:59 +09:00."""
    text = t.strftime("%Y-%m-%d %H:%M")
    if t.second:
        text += t.strftime(":%S")
    offset = t.strftime("%z")
    return f"{text} {offset[:3]}:{offset[3:5]}" if offset else text


def feedback_level(policy: Policy, now: datetime, due: datetime | None = None) -> str:
    """What a student sees of the hidden tests at `now`: "full", "scores" or "public".

    Before the deadline (the student's own `due` when given, e.g. an extension's) it is
    `policy.feedback`, after it `policy.feedback_after`; with no deadline, `policy.feedback`."""
    if now.utcoffset() is None:
        raise ValueError("feedback_level needs a timezone-aware time")
    deadline = due if due is not None else policy.due
    if deadline is None:
        return policy.feedback
    return policy.feedback if now < deadline else policy.feedback_after


@dataclass(frozen=True)
class AttemptChoice:
    """Which of a student's attempts counts, and which could not."""

    counted: int | None                          # index into the attempts given; None if none can
    over_limit: tuple[int, ...] = ()             # past `policy.attempts`
    too_soon: tuple[int, ...] = ()               # past `policy.rate` within an hour
    notes: tuple[str, ...] = field(default_factory=tuple)


def choose_attempt(policy: Policy, attempts: list[tuple[datetime, float]]) -> AttemptChoice:
    """The attempt that counts among `attempts` (time, score), under `policy.attempts`,
    `policy.rate` and `policy.counts`.

    Attempts are taken in time order.  One made when `rate` attempts were already accepted in the
    hour before it is too soon; one past the first `attempts` accepted is over the limit; neither
    counts.  `last` counts the latest accepted, `best` the highest score (the earliest of equal
    ones).  Indexes refer to the list as given.  Scores count as given: pass scores after their
    late penalty when lateness should weigh in `best`."""
    order = sorted(range(len(attempts)), key=lambda i: attempts[i][0])
    accepted: list[int] = []
    over, soon, notes = [], [], []
    for i in order:
        t = attempts[i][0]
        recent = [j for j in accepted if t - attempts[j][0] < timedelta(hours=1)]
        if policy.rate is not None and len(recent) >= policy.rate:
            soon.append(i)
            notes.append(f"attempt {i + 1} ({format_time(t)}) came within an hour of "
                         f"{len(recent)} others, over the {policy.rate:g} per hour allowed")
        elif policy.attempts is not None and len(accepted) >= policy.attempts:
            over.append(i)
            notes.append(f"attempt {i + 1} ({format_time(t)}) is over the limit of "
                         f"{policy.attempts}")
        else:
            accepted.append(i)
    if not accepted:
        counted = None
    elif policy.counts == "best":
        counted = max(accepted, key=lambda i: (attempts[i][1], -order.index(i)))
    else:
        counted = accepted[-1]
    return AttemptChoice(counted, tuple(over), tuple(soon), tuple(notes))


def load_extensions(path: Path) -> dict[str, Extension]:
    """Extensions from a CSV with the columns `student,due` (a new deadline with a zone offset)
    or `student,extra_hours`; UsageError naming the file and line for anything else."""
    rows = _read_csv(path, ("student",), "student,due or student,extra_hours")
    if rows and not ({"due", "extra_hours"} & set(rows[0][1])):
        raise UsageError(f"extensions file {path} needs a 'due' or an 'extra_hours' column")
    out: dict[str, Extension] = {}
    for line, row in rows:
        student = row["student"]
        due, extra = (row.get("due") or "").strip(), (row.get("extra_hours") or "").strip()
        where = f"{path}, line {line}"
        if bool(due) == bool(extra):
            raise UsageError(f"{where}: give either a due time or extra_hours for {student!r}")
        if due:
            out[student] = Extension(student, due=extension_due(due, where))
        else:
            out[student] = Extension(student, extra_hours=extension_hours(extra, where))
    return out


def load_times(path: Path) -> dict[str, datetime]:
    """Submission times from a CSV with the columns `student,submitted_at` (ISO 8601 with a zone
    offset); UsageError naming the file and line for anything else."""
    rows = _read_csv(path, ("student", "submitted_at"), "student,submitted_at")
    return {row["student"]: parse_time(row["submitted_at"], f"{path}, line {line}")
            for line, row in rows}


# bounds that keep every deadline, and a cutoff moved with it, a representable datetime
MAX_EXTRA_HOURS = 10 * 366 * 24          # ten years
EXTENSION_DUES = (datetime(1970, 1, 1, tzinfo=timezone.utc),
                  datetime(2200, 1, 1, tzinfo=timezone.utc))


def extension_hours(text: str, where: str) -> float:
    """The hours an extension adds, from `text`; UsageError (naming `where`) unless a number from
    0 to ten years."""
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or hours < 0:
        raise UsageError(f"{where}: extra_hours must be a number of hours, not {text[:40]!r}")
    if hours > MAX_EXTRA_HOURS:
        raise UsageError(f"{where}: extra_hours {text[:40]!r} is more than ten years "
                         f"({MAX_EXTRA_HOURS} h); give the hours the extension adds")
    return hours


def extension_due(text: str, where: str) -> datetime:
    """An extension's own deadline, from `text`; UsageError (naming `where`) unless a time with a
    zone between 1970 and 2199."""
    due = parse_time(text, where)
    first, last = EXTENSION_DUES
    if not first <= due < last:
        raise UsageError(f"{where}: the new deadline {text[:40]!r} is not between "
                         f"{first.year} and {last.year - 1}; check its year")
    return due


def _read_csv(path: Path, needed: tuple[str, ...], shape: str) -> list[tuple[int, dict]]:
    """(line number, row) for each row of the CSV at `path`, stripped, with `needed` columns;
    a student named twice is an error."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            rows = [(reader.line_num, {k.strip(): (v or "").strip() for k, v in r.items() if k})
                    for r in reader]
            header = [h.strip() for h in reader.fieldnames or []]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    missing = [c for c in needed if c not in header]
    if missing:
        raise UsageError(f"{path} needs a header with the columns {shape} (missing: "
                         f"{', '.join(missing)})")
    seen: set[str] = set()
    for line, row in rows:
        if not row["student"]:
            raise UsageError(f"{path}, line {line}: the student column is empty")
        if row["student"] in seen:
            raise UsageError(f"{path}, line {line}: {row['student']!r} is listed twice")
        seen.add(row["student"])
    return rows


def utc_now() -> datetime:
    """The real clock, for the edges of the program (the CLI and the API's default) only."""
    return datetime.now(timezone.utc)


def applied(policy: Policy, raw_score: float, submitted_at: datetime | None, *,
            time_source: str = "", extension: Extension | None = None) -> dict:
    """What a result record keeps of `policy` for a submission of `raw_score` made at
    `submitted_at`: the Lateness, the raw and final scores and where the time came from.
    Empty when the policy has no deadline (then the final score is the raw one)."""
    if policy.due is None:
        return {}
    late = lateness(policy, submitted_at, extension)
    return {**late.to_dict(), "raw_score": raw_score, "final_score": late.final(raw_score),
            "time_source": time_source if submitted_at is not None else "unknown"}


def due_of(lateness_record: dict, policy: Policy) -> datetime | None:
    """The deadline that applied to a record (its extension's, if any), else the policy's."""
    text = lateness_record.get("due") if isinstance(lateness_record, dict) else None
    try:
        due = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        due = None
    return due if due is not None and due.utcoffset() is not None else policy.due

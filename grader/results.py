"""The one typed record per submission, the single source of every report.

Plain dataclasses that turn into JSON (``to_dict``) and back (``from_dict``); the JSON Schema of the
record is `grader/schema/result.schema.json`.  No output format lives here: writers in
`grader.reports` read these records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

SCHEMA_VERSION = 1


class Status(StrEnum):
    """A submission's outcome (`Result.status`); anything but GRADED says why in `Result.reason`,
    and GRADED says there which cells were stopped at their time limit (the rest ran on)."""

    GRADED = "graded"       # the notebook ran and the hidden tests scored it
    INVALID = "invalid"     # the file cannot be graded (not a notebook, too large, ...)
    TIMEOUT = "timeout"     # the notebook or the hidden tests' use of it ran out of time
    MEMORY = "memory"       # it ran out of memory (the student process's, or the judge's on its answers)
    CRASHED = "crashed"     # the student process died or broke the protocol
    ERROR = "error"         # the grader failed on it (a sandbox that would not start, a dead worker)
    MISSING = "missing"     # on the roster, nothing handed in


class Outcome(StrEnum):
    """One hidden test's outcome."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"         # the test itself could not run
    SKIPPED = "skipped"     # not run here (a CUDA test on a CPU grader): counts toward nothing


STATUSES = tuple(Status)
OUTCOMES = tuple(Outcome)


@dataclass
class TestResult:
    """One hidden test: what it earned and the message the student sees."""

    name: str
    nodeid: str
    question: str
    outcome: str
    score: float
    max_score: float
    message: str = ""
    detail: str = ""          # instructor-only: traceback of a test that could not run
    duration: float = 0.0


MANUAL_STATES = ("pending", "graded", "changed", "no answer")
PENDING_TEXT = "to be graded by hand"


@dataclass
class QuestionResult:
    """One question's score.  A manual question (graded by hand, no tests) has `manual`:
    state (one of MANUAL_STATES: "pending" until graded, "changed" when the answer graded is not
    the one handed in, "no answer" without a notebook), items (the rubric items ticked:
    [{"n", "points", "text"}]), comment, grader, graded_at, answer_sha256; until it is graded its
    score counts toward nothing and reports show PENDING_TEXT."""

    id: str
    title: str
    score: float
    max_score: float
    tests: list[TestResult] = field(default_factory=list)
    manual: dict = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        """A manual question not (or no longer) graded."""
        return bool(self.manual) and self.manual.get("state") in ("pending", "changed")


@dataclass
class CellError:
    """A code cell that raised or ran out of time (the rest of the notebook still ran)."""

    index: int
    status: str
    ename: str
    evalue: str
    traceback: str = ""
    source: str = ""          # the cell's first lines, so the student can find it


@dataclass
class Trial:
    """The hidden tests run once more on the same process under another seed (`grader verify`):
    the questions they cover, scored as in `Result.questions`."""

    seed: int
    status: str
    reason: str = ""
    questions: list[QuestionResult] = field(default_factory=list)


def _questions(rows: list) -> list[QuestionResult]:
    return [QuestionResult(**{**q, "tests": [TestResult(**t) for t in q["tests"]]}) for q in rows]


@dataclass
class Result:
    """Everything known about grading one submission."""

    student: str
    assignment: str
    status: str
    score: float = 0.0
    max_score: float = 0.0
    reason: str = ""
    flags: list[str] = field(default_factory=list)      # for the instructor: duplicates, roster, integrity
    questions: list[QuestionResult] = field(default_factory=list)
    cell_errors: list[CellError] = field(default_factory=list)
    submission: dict = field(default_factory=dict)      # path, sha256, size, flags (from intake)
    suite_hash: str = ""
    config_hash: str = ""
    grader_version: str = ""
    environment: dict = field(default_factory=dict)     # torch, device, sandbox, python, host
    timing: dict = field(default_factory=dict)          # started, wall_s, notebook_s, probe_s, ...
    run_id: str = ""
    schema_version: int = SCHEMA_VERSION
    trials: list[Trial] = field(default_factory=list)   # verify's further seeds; empty when grading
    # the course policy applied (grader.policy): raw_score, submitted_at, time_source, due,
    # late_hours, periods, penalty, extension, refused, zeroed, final_score, sentence; `score` is
    # the final score.  Empty when the assignment has no deadline.
    lateness: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        data = dict(data)
        data["questions"] = _questions(data.get("questions", []))
        data["trials"] = [Trial(**{**t, "questions": _questions(t.get("questions", []))})
                          for t in data.get("trials", [])]
        data["cell_errors"] = [CellError(**c) for c in data.get("cell_errors", [])]
        return cls(**data)

    def all_flags(self) -> list[str]:
        """Grading flags (what the notebook did) and intake flags (duplicates, roster)."""
        return [*self.flags, *self.submission.get("flags", [])]

    def raw_score(self) -> float:
        """The score the hidden tests gave, before any late penalty."""
        raw = self.lateness.get("raw_score") if isinstance(self.lateness, dict) else None
        return float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else self.score

    def question_scores(self) -> dict[str, float]:
        return {q.id: q.score for q in self.questions}

    def pending(self) -> list[str]:
        """The manual questions still to be graded by hand."""
        return [q.id for q in self.questions if q.pending]

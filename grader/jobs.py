"""What the driver asks a worker slot: typed requests, one JSON line each on the worker's stdin.

The driver (grader.api) builds them, the scheduler or a Ray actor hands them over, and the worker
(grader.worker) reads them back with `parse`: the fields are named once, here.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field


@dataclass
class GradeRequest:
    """Grade one notebook file."""

    assignment: str                    # the assignment's directory
    course: str
    student: str
    path: str
    sha256: str
    run_id: str = ""
    work_root: str | None = None       # where the submission's work dir goes (None: a temporary one)
    options: dict = field(default_factory=dict)     # grader.judge.grade.GradeOptions' fields
    seeds: int = 1                     # grader verify: the hidden tests run again under seeds - 1 more
    questions: list[str] | None = None     # ... those of these questions only (None: all)
    gpu: str | None = None             # set by the slot that grades it
    attempt: int = 0                   # how many workers died grading it before

    op = "grade"


@dataclass
class InventoryRequest:
    """The hidden suite's tests and points, from a slot that has collected it."""

    assignment: str
    course: str
    warm: bool = True
    gpu: str | None = None

    op = "inventory"


REQUESTS = {r.op: r for r in (GradeRequest, InventoryRequest)}


def dumps(request: GradeRequest | InventoryRequest) -> str:
    """The request as one JSON line (without its newline)."""
    return json.dumps({"op": request.op, **dataclasses.asdict(request)})


def parse(line: str | bytes) -> GradeRequest | InventoryRequest:
    """A request read back from its JSON line; ValueError for anything else."""
    data = json.loads(line)
    kind = REQUESTS.get(data.pop("op", None)) if isinstance(data, dict) else None
    if kind is None:
        raise ValueError("not a worker request")
    try:
        return kind(**data)
    except TypeError as exc:          # a field this grader does not know, or one missing
        raise ValueError(f"a malformed {kind.op} request: {exc}") from None


@dataclass
class Job:
    """One request for a worker slot, with the time it may take."""

    request: GradeRequest | InventoryRequest
    deadline_s: float

"""Turning a directory of submitted notebooks into submissions, and bad files into reasons.

One `.ipynb` per student; the student id is the file stem.  A file that cannot be graded becomes
an `invalid` result with a message the student understands; it never stops the batch.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from grader.errors import SubmissionError, UsageError
from grader.notebook import parse_notebook

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


@dataclass(frozen=True)
class Submission:
    """One student's notebook, identified by content."""

    student: str
    path: Path
    sha256: str
    size: int

    def to_dict(self) -> dict:
        return {"path": str(self.path), "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class Rejected:
    """A submitted file that cannot be graded, and why (for the student)."""

    student: str
    path: Path
    reason: str
    sha256: str = ""
    size: int = 0


def student_id(stem: str) -> str:
    """A file-system-safe id from a file stem (the results file is named after it)."""
    cleaned = _UNSAFE.sub("_", stem).strip("._") or "unnamed"
    return cleaned[:120]


def collect(path: Path, *, max_bytes: int) -> tuple[list[Submission], list[Rejected]]:
    """All `.ipynb` files directly in `path` (or the single file `path`), checked and hashed."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"submissions path {path} does not exist")
    if path.is_file():
        candidates = [path]
    elif path.is_dir():
        candidates = sorted(p for p in path.iterdir() if p.suffix == ".ipynb" and not p.name.startswith("."))
    else:
        raise UsageError(f"submissions path {path} is neither a file nor a directory")
    subs, bad, seen = [], [], set()
    for p in candidates:
        sid = student_id(p.stem)
        if sid in seen:
            bad.append(Rejected(sid + "-duplicate", p, f"another file already has the student id {sid!r}"))
            continue
        seen.add(sid)
        item = check_file(p, sid, max_bytes)
        (subs if isinstance(item, Submission) else bad).append(item)
    return subs, bad


def check_file(p: Path, sid: str, max_bytes: int) -> Submission | Rejected:
    """A Submission for a gradable notebook file, else a Rejected with the reason."""
    if p.is_symlink():
        return Rejected(sid, p, "the submission is a symbolic link, not a notebook file")
    if p.is_dir():
        return Rejected(sid, p, "the submission is a folder named like a notebook, not a notebook file")
    size = p.stat().st_size
    if size > max_bytes:
        return Rejected(sid, p, f"the notebook is {size / 2**20:.1f} MiB, over the {max_bytes / 2**20:g} MiB "
                                "limit; clear large outputs (Kernel > Restart & Clear Output) and save again",
                        size=size)
    raw = p.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        parse_notebook(raw)
    except SubmissionError as exc:
        return Rejected(sid, p, str(exc), digest, size)
    return Submission(sid, p.resolve(), digest, size)

"""Turning a directory of submitted notebooks into submissions, and bad files into reasons.

One `.ipynb` per student; the student id is the file stem.  A file that cannot be graded becomes
an `invalid` result with a message the student understands; it never stops the batch.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
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
    flags: tuple[str, ...] = ()

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
    flags: tuple[str, ...] = ()


@dataclass
class Intake:
    """Everything found in the submissions path."""

    submissions: list[Submission] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)     # roster students who submitted nothing
    notes: list[str] = field(default_factory=list)       # duplicates and other things to look at


def student_id(stem: str) -> str:
    """A file-system-safe id from a file stem (the results file is named after it)."""
    cleaned = _UNSAFE.sub("_", stem).strip("._") or "unnamed"
    return cleaned[:120]


def collect(path: Path, *, max_bytes: int, roster: Path | None = None,
            extract_dir: Path | None = None) -> Intake:
    """The notebooks in `path`: a directory of `.ipynb` files, one file, or a zip (a plain one, a
    Canvas "Download Submissions" zip or a Gradescope export), checked, hashed and named.

    With a `roster`, platform ids are mapped to roster ids and enrolled students who submitted
    nothing are listed in `missing`.  A zip is extracted under `extract_dir` only.
    """
    from grader import lms

    path = Path(path)
    if not path.exists():
        raise UsageError(f"submissions path {path} does not exist")
    if path.is_file() and path.suffix.lower() == ".zip":
        if extract_dir is None:
            raise UsageError("a zip of submissions needs an output directory to extract into")
        lms.safe_extract(path, extract_dir)
        found = lms.entries(extract_dir)
    elif path.is_dir():
        found = [lms.Entry(p, p.stem, p.stem, (p.lstat().st_mtime,)) for p in sorted(path.iterdir())
                 if p.suffix == ".ipynb" and not p.name.startswith(".")]
    elif path.is_file():
        found = [lms.Entry(path, path.stem, path.stem, (0,))]
    else:
        raise UsageError(f"submissions path {path} is neither a file, a directory nor a zip")
    people = lms.Roster.load(roster) if roster else None
    pairs, notes = lms.assign_ids(found, people, student_id)
    out = Intake(notes=notes)
    for sid, entry in pairs:
        item = check_file(entry.path, sid, max_bytes)
        item = type(item)(**{**item.__dict__, "flags": tuple(entry.flags)})
        (out.submissions if isinstance(item, Submission) else out.rejected).append(item)
    if people:
        seen = {s.student for s in out.submissions} | {r.student for r in out.rejected}
        out.missing = [student_id(s) for s in people.ids() if student_id(s) not in seen]
    return out


def check_file(p: Path, sid: str, max_bytes: int) -> Submission | Rejected:
    """A Submission for a gradable notebook file, else a Rejected with the reason."""
    if not p.exists() and not p.is_symlink():
        return Rejected(sid, p, "the submission contains no notebook (.ipynb) file")
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

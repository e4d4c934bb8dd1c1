"""Turning a directory of submitted notebooks into submissions, and bad files into reasons.

One `.ipynb` per student; the student id is the file stem.  A file that cannot be graded becomes
an `invalid` result with a message the student understands; it never stops the batch.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.errors import SubmissionError, UsageError
from grader.notebook import parse_notebook
from grader.text import clean

MAX_ID_CHARS = 120
# a file name holds 255 bytes; the longest made from an id is the store's temporary file
# ".<id>.json.XXXXXXXX.tmp" (+15), and a collision adds "~" and 8 hex digits to an id
MAX_ID_BYTES = 200
_PUNCTUATION = frozenset("._@+-")


@dataclass(frozen=True)
class Submission:
    """One student's notebook, identified by content."""

    student: str
    path: Path
    sha256: str
    size: int
    flags: tuple[str, ...] = ()
    submitted_at: datetime | None = None     # when it was handed in, if anything says so
    time_source: str = ""                    # gradescope | submitted-at | mtime
    time_note: str = ""                      # why no time is known (e.g. Canvas's _LATE marker)

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
    extracted_from: Path | None = None                   # the zip they came out of, if any


def student_id(stem: str) -> str:
    """A file-system-safe id from a file stem (the results file is named after it).

    Unicode letters, digits and marks are kept (NFC), so `김민수` stays `김민수`; every other
    character becomes `_`; no leading or trailing dot.  A stem too long for an id is cut and
    given a hash of the whole stem, so two stems that share their first characters stay apart.
    """
    text = unicodedata.normalize("NFC", clean(stem))
    kept = "".join(c if c in _PUNCTUATION or unicodedata.category(c)[0] in "LNM" else "_"
                   for c in text)
    kept = kept.strip("._") or "unnamed"
    if len(kept) <= MAX_ID_CHARS and len(kept.encode()) <= MAX_ID_BYTES:
        return kept
    return with_suffix(kept[:MAX_ID_CHARS], digest(stem))


def digest(text: str) -> str:
    """A short, stable hash of any str (lone surrogates included)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def with_suffix(sid: str, suffix: str) -> str:
    """`sid` + "~" + `suffix`, `sid` cut so that the whole stays within MAX_ID_BYTES."""
    room = MAX_ID_BYTES - len(suffix.encode()) - 1
    while len(sid.encode()) > room:
        sid = sid[:-1]
    return f"{sid.rstrip('._') or 'unnamed'}~{suffix}"


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
    skipped_notes: list[str] = []
    is_zip = path.is_file() and path.suffix.lower() == ".zip"
    if is_zip:
        if extract_dir is None:
            raise UsageError("a zip of submissions needs an output directory to extract into")
        lms.safe_extract(path, extract_dir)
        found = lms.entries(extract_dir)
    elif path.is_dir():
        entries = sorted(path.iterdir())
        found = [lms.Entry(p, p.stem, p.stem, (lms.mtime(p),)) for p in entries
                 if p.suffix == ".ipynb" and not p.name.startswith(".")]
        skipped = [p.name for p in entries if p.suffix != ".ipynb" or p.name.startswith(".")]
        if not found and roster is None:
            raise UsageError(f"no notebooks (.ipynb files) found in {path}"
                             + (f"; it holds {_names(skipped)}" if skipped else ", which is empty"))
        if skipped:
            skipped_notes.append(f"not graded, as not notebooks (.ipynb) or hidden: {_names(skipped)}")
    elif path.is_file():
        found = [lms.Entry(path, path.stem, path.stem, (0,))]
    else:
        raise UsageError(f"submissions path {path} is neither a file, a directory nor a zip")
    people = lms.Roster.load(roster) if roster else None
    pairs, notes = lms.assign_ids(found, people, student_id)
    out = Intake(notes=[*notes, *skipped_notes], extracted_from=path if is_zip else None)
    for sid, entry in pairs:
        item = check_file(entry.path, sid, max_bytes)
        item = type(item)(**{**item.__dict__, "flags": tuple(entry.flags)})
        if isinstance(item, Submission):
            item = _with_time(item, entry)
        (out.submissions if isinstance(item, Submission) else out.rejected).append(item)
    if people:
        out.missing = _missing(people, pairs)
    return out


def _with_time(sub: Submission, entry) -> Submission:
    """`sub` with the time its platform gave (a Gradescope export's created_at), or why none."""
    if entry.submitted_at is not None:
        return dataclasses.replace(sub, submitted_at=entry.submitted_at, time_source="gradescope")
    note = entry.time_note or ("Canvas marks this submission late but gives no time; pass "
                               "--submitted-at with its exact time" if entry.marked_late else "")
    return dataclasses.replace(sub, time_note=note)


TIME_SOURCES = ("mtime",)
MTIME_WARNING = ("--times mtime: submission times are the notebook files' modification times, "
                 "which copying a file changes; check them before relying on them")


def apply_times(found: Intake, *, times: dict[str, datetime] | None = None,
                source: str | None = None, needed: bool = False) -> None:
    """Set the submission times of `found`'s submissions from `times` (student -> time, from a
    `--submitted-at` file; they override what an export says) and, with `source="mtime"`, from
    the files' modification times where nothing else gives one.  Students in `times` with no
    submission are noted, never dropped silently.  When times are `needed` (the assignment has a
    deadline), a submission left without one is flagged with the reason.  Modification times of
    files extracted from a zip are refused: extraction set them all to now."""
    if source is not None and source not in TIME_SOURCES:
        raise UsageError(f"unknown --times {source!r}; the only one is: {', '.join(TIME_SOURCES)}")
    if source == "mtime" and found.extracted_from is not None:
        raise UsageError(f"--times mtime cannot be used with a zip ({found.extracted_from}): "
                         "extracting it sets every file's modification time to now, which would "
                         "make every submission as late as the grading; pass --submitted-at with "
                         "a CSV student,submitted_at instead")
    times = times or {}
    for i, sub in enumerate(found.submissions):
        if sub.student in times:
            found.submissions[i] = dataclasses.replace(sub, submitted_at=times[sub.student],
                                                       time_source="submitted-at", time_note="")
        elif source == "mtime" and sub.submitted_at is None:
            when = datetime.fromtimestamp(os.lstat(sub.path).st_mtime, timezone.utc)
            found.submissions[i] = dataclasses.replace(sub, submitted_at=when, time_source="mtime",
                                                       time_note="")
    if needed:
        for i, sub in enumerate(found.submissions):
            if sub.submitted_at is None:
                why = sub.time_note or "no submission time known; pass --submitted-at"
                found.submissions[i] = dataclasses.replace(sub, flags=(*sub.flags, why))
    if source == "mtime":
        found.notes.append(MTIME_WARNING)
    unknown(found, times, "--submitted-at")


def unknown(found: Intake, table: dict, what: str, *, enrolled: bool = False) -> list[str]:
    """The students of `table` (a --submitted-at or --extensions file) who handed nothing in
    (with `enrolled`, who are neither in the batch nor on the roster), noted on `found`."""
    known = {s.student for s in [*found.submissions, *found.rejected]}
    known |= set(found.missing) if enrolled else set()
    strangers = sorted(s for s in table if s not in known)
    if strangers:
        found.notes.append(f"{what} lists {len(strangers)} student(s) "
                           f"{'unknown to this batch' if enrolled else 'with no submission'}: "
                           f"{_names(strangers)}")
    return strangers


def _names(names: list[str], keep: int = 10) -> str:
    """Some file names, shown safely, and how many more."""
    from grader.text import file_name

    shown = ", ".join(file_name(n) for n in names[:keep])
    return shown + (f" and {len(names) - keep} more" if len(names) > keep else "")


def _missing(people, pairs) -> list[str]:
    """Ids for the enrolled students none of whose entries came in, apart from the ids in use."""
    resolved = {e.student for _, e in pairs}
    taken = {sid.casefold() for sid, _ in pairs}
    out = []
    for s in people.ids():
        if s in resolved:
            continue
        sid = student_id(s)
        if sid.casefold() in taken:
            sid = with_suffix(sid, digest(s))
        taken.add(sid.casefold())
        out.append(sid)
    return out


def check_file(p: Path, sid: str, max_bytes: int) -> Submission | Rejected:
    """A Submission for a gradable notebook file, else a Rejected with the reason (see
    `read_regular`)."""
    try:
        raw = read_regular(p, max_bytes)
    except SubmissionError as exc:
        return Rejected(sid, p, str(exc), size=getattr(exc, "size", 0))
    digest_ = hashlib.sha256(raw).hexdigest()
    try:
        parse_notebook(raw)
    except SubmissionError as exc:
        return Rejected(sid, p, str(exc), digest_, len(raw))
    return Submission(sid, p.resolve(), digest_, len(raw))


def read_regular(p: Path, max_bytes: int) -> bytes:
    """The bytes of the notebook file `p`; SubmissionError (with the reason for the student) unless
    it is a regular file of at most `max_bytes`.  Opening never blocks nor follows a link: a FIFO,
    socket, device, folder or link named like a notebook is refused without being read."""
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise SubmissionError(_open_reason(p, exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(_kind_reason(info.st_mode))
        if info.st_size > max_bytes:
            raise _too_big(info.st_size, max_bytes)
        raw = _read(fd, max_bytes + 1)
    except OSError as exc:
        raise SubmissionError(f"the notebook file could not be read ({exc.strerror or exc}); "
                              "submit it again") from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:                     # it grew after it was measured
        raise _too_big(len(raw), max_bytes)
    return raw


def _read(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _too_big(size: int, max_bytes: int) -> SubmissionError:
    exc = SubmissionError(f"the notebook is {size / 2**20:.1f} MiB, over the {max_bytes / 2**20:g} MiB "
                          "limit; clear large outputs (Kernel > Restart & Clear Output) and save again")
    exc.size = size
    return exc


def _open_reason(p: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "the submission contains no notebook (.ipynb) file"
    if exc.errno == errno.ELOOP or p.is_symlink():
        return "the submission is a symbolic link, not a notebook file"
    if exc.errno == errno.ENXIO:
        return "the submission is a socket named like a notebook, not a notebook file"
    return f"the notebook file could not be opened ({exc.strerror or exc}); submit it again"


def _kind_reason(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "the submission is a folder named like a notebook, not a notebook file"
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device file" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a regular file")
    return f"the submission is {kind} named like a notebook, not a notebook file"

"""An assignment: `solutions/<name>/assignment.toml`, its hidden suite, its released files.

Every setting is declared once below with its meaning; an unknown or mistyped key is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader import policy as policy_mod
from grader.errors import AssignmentError

TOP_KEYS = {
    "title": (str, "Human-readable title"),
    "notebook": (str, "File name of the master notebook in the assignment directory"),
    "gpu": (str, "none | optional | required: whether grading needs a CUDA device"),
    "files": (list, "Data files (relative to assignments/<name>/) copied next to each submission"),
    "limits": (dict, "Time and memory limits, see LIMIT_KEYS"),
    "questions": (list, "One table per graded question, in notebook order"),
    "gradescope_visibility": (str, "Visibility of hidden tests' detail in Gradescope results: "
                                   "visible | hidden | after_due_date | after_published"),
    "policy": (dict, "Deadline, late work, attempts and feedback: the keys of grader/policy.py"),
}
LIMIT_KEYS = {    # key: (types, default, what it limits, the `grader grade` flag that overrides it)
    "cell_timeout": ((int, float), 60, "Seconds one code cell may run before it is stopped", "--cell-timeout"),
    "notebook_timeout": ((int, float), 300, "Seconds the whole notebook may run", "--timeout"),
    "probe_timeout": ((int, float), 10, "Seconds one probe of the hidden suite may run", None),
    "memory_mb": (int, 2048, "Memory the student process may allocate, MiB", "--memory"),
    "cpu_seconds": (int, None, "CPU seconds the student process may use (default: twice notebook_timeout + 120)",
                    "--cpu-time"),
    "processes": (int, 64, "Processes and threads the student's code may run at once", "--processes"),
    "disk_mb": (int, 256, "Size of the student's private /tmp and of the largest file it may write, MiB",
                "--disk"),
    "output_kb": (int, 64, "Output kept from each cell, KiB", "--output"),
    "max_notebook_mb": ((int, float), 20, "Largest accepted submission file, MiB", None),
    # a correct notebook's probes take seconds in all; past this a slow one is `timeout` with the
    # tests that finished scored, instead of holding a worker slot for every probe's full timeout
    "judge_timeout": ((int, float), 300, "Seconds all the hidden suite's probes of one submission may take", None),
    # four frames at the protocol's 64 MiB tensor cap: a real suite's answers are a few MiB in all
    "answer_mb": (int, 256, "Data the judge may rebuild from one submission's answers in all, MiB "
                            "(a tensor counts each time one is rebuilt)", None),
    "judge_memory_mb": (int, 4096, "Heap memory of each worker slot's judge process, MiB: beyond "
                                   "it the submission being graded is `memory`", None),
}
# the limits the student process runs under: `grader assign` writes them into the released notebook
# (metadata RELEASE_METADATA.limits) so that `grader check` runs it as grading will; the judge's own
# limits stay out, and grading reads assignment.toml, never a submission's metadata
RELEASED_LIMITS = ("cell_timeout", "notebook_timeout", "memory_mb", "cpu_seconds", "processes", "disk_mb",
                   "output_kb", "max_notebook_mb")
RELEASE_METADATA = "torchgrader"
QUESTION_KEYS = {
    "id": (str, "Question id used by @question and grader.check, e.g. q1"),
    "title": (str, "Short title shown in reports"),
    "points": ((int, float), "Points of the question; its tests' points must add up to this"),
    "manual": (bool, "A written answer graded by hand (otter's `manual: true`): no hidden tests"),
    "rubric": (list, "A manual question's rubric: [[questions.rubric]] tables, see RUBRIC_KEYS"),
}
RUBRIC_KEYS = {
    "points": ((int, float), "Points a ticked item adds (positive) or takes away (negative)"),
    "text": (str, "What the grader looks for, e.g. \"says gradients are reset automatically\""),
}
GPU_MODES = ("none", "optional", "required")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


@dataclass(frozen=True)
class RubricItem:
    """One rubric item of a manual question: ticking it adds `points` (negative: takes away)."""

    points: float
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    points: float
    manual: bool = False
    rubric: tuple[RubricItem, ...] = ()

    def rubric_score(self, ticked: list[int]) -> float:
        """The points of the rubric items numbered `ticked` (from 1): the ticked items added to
        0, or to the question's points when every item is negative, kept within 0..points."""
        start = self.points if self.rubric and all(i.points < 0 for i in self.rubric) else 0.0
        total = start + sum(self.rubric[k - 1].points for k in set(ticked))
        return round(min(max(total, 0.0), self.points), 6)


@dataclass(frozen=True)
class Assignment:
    """A loaded, validated assignment."""

    name: str
    directory: Path
    title: str
    notebook: str
    gpu: str
    questions: tuple[Question, ...]
    limits: dict = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    gradescope_visibility: str = "after_published"
    policy: policy_mod.Policy = field(default_factory=policy_mod.Policy)

    @property
    def tests_dir(self) -> Path:
        return self.directory / "tests"

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def autograded(self) -> tuple[Question, ...]:
        """The questions the hidden suite grades (every one not `manual`)."""
        return tuple(q for q in self.questions if not q.manual)

    @property
    def manual(self) -> tuple[Question, ...]:
        """The questions graded by hand, in notebook order."""
        return tuple(q for q in self.questions if q.manual)

    def suite_hash(self) -> str:
        """A digest of everything that decides a grade: config, hidden tests, data files.

        Computed once per version of the files: a worker asks before every submission, and an
        unchanged set of files (same inodes, sizes, modification and change times) is not read again.
        A file changed in the last two seconds is always read: a second write within the file
        system's clock tick would leave its times as they were."""
        paths = [self.directory / "assignment.toml", *_python_files(self.tests_dir), *self.files]
        stamp = tuple((str(p), *_stamp(p)) for p in paths)
        digest = _suite_hashes.get(stamp)
        if digest is None:
            h = hashlib.sha256()
            for p in paths:
                label = p.relative_to(self.directory) if p.is_relative_to(self.directory) else p.name
                h.update(str(label).encode())
                h.update(hashlib.sha256(_graded_bytes(p, self.directory)).digest())
            digest = h.hexdigest()
            settled = time.time_ns() - 2_000_000_000
            if all(st[-1] is not None and st[-1] < settled for st in stamp):
                _suite_hashes[stamp] = digest
            while len(_suite_hashes) > 64:
                _suite_hashes.pop(next(iter(_suite_hashes)))
        return digest


_suite_hashes: dict[tuple, str] = {}


def _graded_bytes(path: Path, directory: Path) -> bytes:
    """What of `path` decides a grade: assignment.toml without its [policy] table and its manual
    questions (a late penalty and the manual scores are applied to the stored raw score, so
    changing the policy or a rubric regrades nothing)."""
    raw = path.read_bytes()
    if path != directory / "assignment.toml":
        return raw
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return raw
    data.pop("policy", None)
    if isinstance(data.get("questions"), list):
        data["questions"] = [q for q in data["questions"]
                             if not (isinstance(q, dict) and q.get("manual") is True)]
    return json.dumps(data, sort_keys=True, default=str).encode()


def _stamp(path: Path) -> tuple:
    try:
        st = os.stat(path)
    except OSError:          # a missing file is read (and reported) by the digest itself
        return (None, None)
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _python_files(root: Path) -> list[Path]:
    """The .py files under `root`, sorted, without __pycache__."""
    found = []
    for parent, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found += [Path(parent, f) for f in files if f.endswith(".py")]
    return sorted(found)


def resolve(name_or_path: str, course: Path) -> Path:
    """The directory of an assignment given by name (under `course`/solutions) or by path."""
    candidates = [Path(name_or_path), course / "solutions" / name_or_path]
    for c in candidates:
        if (c / "assignment.toml").is_file():
            return c.resolve()
    known = ", ".join(list_names(course)) or "none found"
    raise AssignmentError(f"unknown assignment {name_or_path!r}: no assignment.toml at "
                          f"{candidates[1]} or {candidates[0]} (assignments under "
                          f"{course / 'solutions'}: {known})")


def list_names(course: Path) -> list[str]:
    root = course / "solutions"
    return sorted(p.parent.name for p in root.glob("*/assignment.toml")) if root.is_dir() else []


def load(name_or_path: str, course: Path | None = None) -> Assignment:
    """Load and validate an assignment; raises AssignmentError naming the file and key."""
    course = (course or Path.cwd()).resolve()
    directory = resolve(name_or_path, course)
    path = directory / "assignment.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AssignmentError(f"{path}: not valid TOML: {exc}") from None
    _check_keys(data, {k: v[0] for k, v in TOP_KEYS.items()}, path, "")
    limits = _limits(data.get("limits", {}), path)
    questions = _questions(data.get("questions"), path)
    gpu = data.get("gpu", "none")
    if gpu not in GPU_MODES:
        raise AssignmentError(f"{path}: gpu must be one of {', '.join(GPU_MODES)}, not {gpu!r}")
    visibility = data.get("gradescope_visibility", "after_published")
    if visibility not in VISIBILITIES:
        raise AssignmentError(f"{path}: gradescope_visibility must be one of {', '.join(VISIBILITIES)}")
    if not (directory / "tests").is_dir():
        raise AssignmentError(f"{directory}: the hidden suite directory tests/ is missing")
    released = course / "assignments" / directory.name
    files = tuple(_data_file(released, directory, f, path) for f in data.get("files", []))
    return Assignment(name=directory.name, directory=directory, title=data.get("title", directory.name),
                      notebook=data.get("notebook", f"{directory.name}.ipynb"), gpu=gpu,
                      questions=questions, limits=limits, files=files, gradescope_visibility=visibility,
                      policy=policy_mod.parse(data.get("policy", {}), path))


def _check_keys(data: dict, allowed: dict, path: Path, where: str) -> None:
    for key, value in data.items():
        if key not in allowed:
            raise AssignmentError(f"{path}: unknown setting {where}{key!r} (known: {', '.join(allowed)})")
        if not isinstance(value, allowed[key]) or isinstance(value, bool) and allowed[key] is not bool:
            raise AssignmentError(f"{path}: {where}{key} has the wrong type ({type(value).__name__})")


def resolve_limits(given: dict) -> dict:
    """Every limit of LIMIT_KEYS: those `given`, the defaults for the rest (cpu_seconds from
    notebook_timeout unless given)."""
    limits = {k: given.get(k, v[1]) for k, v in LIMIT_KEYS.items()}
    if limits["cpu_seconds"] is None:
        limits["cpu_seconds"] = int(limits["notebook_timeout"] * 2 + 120)
    return limits


def _limits(raw: dict, path: Path) -> dict:
    _check_keys(raw, {k: v[0] for k, v in LIMIT_KEYS.items()}, path, "limits.")
    limits = resolve_limits(raw)
    for k, v in limits.items():
        if v <= 0:
            raise AssignmentError(f"{path}: limits.{k} must be positive")
    return limits


def _questions(raw, path: Path) -> tuple[Question, ...]:
    if not raw:
        raise AssignmentError(f"{path}: no [[questions]] declared")
    out, seen = [], set()
    for i, q in enumerate(raw, 1):
        where = f"questions[{i}]."
        if not isinstance(q, dict):
            raise AssignmentError(f"{path}: questions[{i}] must be a table")
        _check_keys(q, {k: v[0] for k, v in QUESTION_KEYS.items()}, path, where)
        if "id" not in q or "points" not in q:
            raise AssignmentError(f"{path}: questions[{i}] needs an id and points")
        if q["id"] in seen:
            raise AssignmentError(f"{path}: question id {q['id']!r} is declared twice")
        seen.add(q["id"])
        rubric = _rubric(q, path, where)
        out.append(Question(q["id"], q.get("title", q["id"]), float(q["points"]),
                            manual=q.get("manual", False), rubric=rubric))
    return tuple(out)


def _rubric(q: dict, path: Path, where: str) -> tuple[RubricItem, ...]:
    """A manual question's rubric, checked: 1 to 9 items (keys 1-9 tick them on the grading
    page), each with points and text; none on an autograded question."""
    raw = q.get("rubric")
    if not q.get("manual"):
        if raw:
            raise AssignmentError(f"{path}: {where}rubric is given but the question is not "
                                  "manual: add `manual = true` or remove the rubric")
        return ()
    if not raw:
        raise AssignmentError(f"{path}: manual question {q['id']!r} needs a rubric: "
                              "[[questions.rubric]] tables with points and text")
    if len(raw) > 9:
        raise AssignmentError(f"{path}: manual question {q['id']!r} has {len(raw)} rubric items; "
                              "at most 9 (keys 1-9 tick them)")
    items = []
    for k, item in enumerate(raw, 1):
        at = f"{where}rubric[{k}]."
        if not isinstance(item, dict):
            raise AssignmentError(f"{path}: {where}rubric[{k}] must be a table")
        _check_keys(item, {key: v[0] for key, v in RUBRIC_KEYS.items()}, path, at)
        if "points" not in item or not str(item.get("text", "")).strip():
            raise AssignmentError(f"{path}: {where}rubric[{k}] needs points and text")
        items.append(RubricItem(float(item["points"]), item["text"].strip()))
    if not any(i.points > 0 for i in items) and not any(i.points < 0 for i in items):
        raise AssignmentError(f"{path}: the rubric of {q['id']!r} gives no points")
    return tuple(items)


def _data_file(released: Path, directory: Path, name: str, path: Path) -> Path:
    for base in (released, directory):
        candidate = (base / name).resolve()
        if candidate.is_file() and candidate.is_relative_to(base.resolve()):
            return candidate
    raise AssignmentError(f"{path}: data file {name!r} not found under {released} or {directory}")

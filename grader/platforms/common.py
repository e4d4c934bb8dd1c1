"""What both platforms' entry points share: grade one notebook in a root-only scratch directory."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from grader import policy as policy_mod
from grader.results import Result

BUNDLE_FILE = "torchgrader.json"     # what the bundle says: the assignment, the sandbox, visibility
STUDENT = "submission"               # the one student of a platform's container


def read_bundle(source: Path) -> dict:
    """The bundle's settings (assignment name, sandbox, ...) from `source`/torchgrader.json."""
    return json.loads((source / BUNDLE_FILE).read_text(encoding="utf-8"))


def lock_down(*paths: Path) -> None:
    """Make each path (recursively) owned by root and closed to every other user: the student
    process (uid 65534) can neither read nor list them."""
    for path in paths:
        if not path.exists():
            continue
        for root, dirs, files in os.walk(path):
            for name in [*dirs, *files]:
                p = os.path.join(root, name)
                if not os.path.islink(p):
                    os.chmod(p, os.stat(p).st_mode & 0o700)
        path.chmod(path.stat().st_mode & 0o700)


def pick_notebook(folder: Path, expected: str) -> Path | None:
    """The submitted notebook: the one named like the release, else the only one, else the first
    by name (None when there is none)."""
    found = sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and "/." not in str(p))
    named = [p for p in found if p.name == expected]
    return (named or found or [None])[0]


def grade_one(notebook: Path, *, course: Path, assignment: str,
              sandbox: str = "platform") -> Result:
    """Grade `notebook` as the student `submission`; the scratch space is root-only and removed."""
    from grader import api

    scratch = Path(tempfile.mkdtemp(prefix="torchgrader-judge-"))
    scratch.chmod(0o700)
    try:
        subs = scratch / "in"
        subs.mkdir()
        shutil.copyfile(notebook, subs / f"{STUDENT}.ipynb")
        batch = api.grade(subs, assignment=assignment, out=scratch / "out", course=course,
                          sandbox=sandbox, jobs=1)
        return batch.results[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def grade_bundle(bundle: Path, submitted: Path) -> tuple:
    """(assignment, its settings, the autograded result, "") for the notebook in `submitted`, graded
    with the bundle at `bundle` (its torchgrader.json and course/); the result is None, with the
    reason, where no notebook was submitted."""
    from grader import assignment as assignment_mod

    settings = read_bundle(bundle)
    course = bundle / "course"
    asg = assignment_mod.load(settings["assignment"], course)
    notebook = pick_notebook(submitted, asg.notebook)
    if notebook is None:
        return asg, settings, None, f"No notebook (.ipynb) was submitted; upload {asg.notebook}."
    result = autograded_only(grade_one(notebook, course=course, assignment=settings["assignment"],
                                       sandbox=settings.get("sandbox", "platform")), asg)
    return asg, settings, result, ""


def autograded_only(result: Result, asg) -> Result:
    """`result` without the assignment's manual questions: the platform grades those by hand,
    as questions of its own."""
    manual = {q.id for q in asg.manual}
    result.questions = [q for q in result.questions if q.id not in manual]
    return result


def apply_deadline(result: Result, policy: policy_mod.Policy, submitted_at: datetime | None,
                   due: datetime | None, source: str) -> None:
    """Score `result` under the course's policy with the platform's times: its submission time
    and its due date (the student's own, extensions included) in place of the policy's `due`.
    Without a `due` in the course's [policy], the platform's own late rules are left alone."""
    if policy.due is None:
        return
    if due is not None:
        policy = dataclasses.replace(policy, due=due)
    raw = result.raw_score()
    result.lateness = policy_mod.applied(policy, raw, submitted_at, time_source=source)
    result.score = result.lateness.get("final_score", raw)


def parse_time(text: object) -> datetime | None:
    """An ISO 8601 time with a zone offset, else None (a platform's field may be absent)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.utcoffset() is not None else None


def write_json(path: Path, data: dict) -> None:
    """Write `data` as strict JSON, atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, allow_nan=False), encoding="utf-8")
    os.replace(tmp, path)

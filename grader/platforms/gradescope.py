"""Gradescope's autograder: `run_autograder` runs `python -m grader.platforms.gradescope`.

Layout (Gradescope's): the bundle unzipped in <root>/source, the student's files in
<root>/submission, <root>/submission_metadata.json (its `created_at` and the assignment's
`due_date`, the student's own where Gradescope gave an extension), and the results written to
<root>/results/results.json.  <root> is $AUTOGRADER_ROOT, default /autograder.

Whatever happens, a results.json is written: a notebook that cannot be graded scores 0 with the
reason in its output.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from grader.platforms import common
from grader.reports.gradescope import results_json

DEFAULT_ROOT = "/autograder"


def root() -> Path:
    """The autograder's root: $AUTOGRADER_ROOT, default /autograder."""
    return Path(os.environ.get("AUTOGRADER_ROOT") or DEFAULT_ROOT)


def read_metadata(path: Path) -> dict:
    """submission_metadata.json, or {} when it is missing or not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def times(meta: dict) -> tuple:
    """(submitted_at, due) from Gradescope's metadata; either may be None."""
    assignment = meta.get("assignment") if isinstance(meta.get("assignment"), dict) else {}
    due = None
    for user in meta.get("users") or []:          # an extension on Gradescope: the user's own
        if isinstance(user, dict) and isinstance(user.get("assignment"), dict):
            due = due or common.parse_time(user["assignment"].get("due_date"))
    return common.parse_time(meta.get("created_at")), due or common.parse_time(
        assignment.get("due_date"))


def failure(message: str) -> dict:
    """A results.json for a submission that could not be graded: 0, with the reason."""
    return {"score": 0.0, "execution_time": 0.0, "output": message, "visibility": "visible",
            "stdout_visibility": "hidden", "tests": []}


def grade(base: Path) -> dict:
    """Grade the submission under `base` and return Gradescope's results object."""
    asg, settings, result, why = common.grade_bundle(base / "source", base / "submission")
    if result is None:
        return failure(why)
    submitted_at, due = times(read_metadata(base / "submission_metadata.json"))
    common.apply_deadline(result, asg.policy, submitted_at, due, "gradescope")
    data = results_json(result, visibility=settings.get("visibility", "visible"))
    sandbox = result.environment.get("sandbox", "?")
    data["output"] += f"\nGraded in the {sandbox} sandbox."
    isolation = (result.environment.get("limits") or {}).get("isolation")
    data["extra_data"] = {"sandbox": sandbox, **({"isolation": isolation} if isolation else {})}
    return data


def main() -> int:
    """Entry point: grade, then write results.json (always)."""
    base = root()
    common.lock_down(base / "source", base / "results")
    try:
        data = grade(base)
    except Exception as exc:        # noqa: BLE001 - every failure still becomes a results.json
        data = failure(f"The autograder could not grade this submission: "
                       f"{type(exc).__name__}: {exc}")
    common.write_json(base / "results" / "results.json", data)
    print(f"score {data['score']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

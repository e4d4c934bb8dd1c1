"""A scripted stand-in for `python -m grader.worker`: it speaks the slot's protocol (one JSON
request per line in, one answer per line out) and does what the student's name says, so the
scheduler's handling of workers that die, hang, babble or run out of memory is tested in
milliseconds, with no torch, judge or sandbox.

  ok...     answers {"ok": true, "result": {"student": ..., "pid": ...}}
  die       exits with status 3 before answering
  hang      never answers
  garbage   answers a line that is not JSON
  memory    answers the judge's out-of-memory reply and exits, as a real worker does
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from grader import jobs  # noqa: E402


def main() -> None:
    for line in sys.stdin:
        request = jobs.parse(line)
        student = getattr(request, "student", "")
        if student == "die":
            os._exit(3)
        if student == "hang":
            time.sleep(3600)
        if student == "garbage":
            print("this is not JSON", flush=True)
            continue
        if student == "memory":
            print(json.dumps({"ok": False, "status": "memory", "error": "out of memory",
                              "restart": True}), flush=True)
            os._exit(0)
        print(json.dumps({"ok": True, "result": {"student": student, "pid": os.getpid()}}), flush=True)


if __name__ == "__main__":
    main()

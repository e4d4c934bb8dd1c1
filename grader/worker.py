"""A trusted worker process: grades one submission at a time for the scheduler.

Requests and answers are JSON lines on stdin and on the original stdout; file descriptor 1 is then
pointed at /dev/null so that nothing printed while grading can corrupt the channel.

The judge's heap is limited (RLIMIT_DATA, soft, from GRADER_JUDGE_MEMORY_MB): an allocation past it
fails with MemoryError instead of growing the machine's memory.  A submission whose grading ran
out of it gets status `memory`, and the worker exits after answering, so its slot restarts with a
fresh judge.  RLIMIT_DATA counts the heap and anonymous mappings but not the shared libraries
torch maps, and the student process lifts it (its sandbox has limits of its own).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from grader import jobs


def _channel():
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = sys.stderr
    return out


def limit_memory(mb: int) -> None:
    """Limit this process's heap to `mb` MiB (the soft limit: children may lift it)."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
    limit = mb << 20 if hard == resource.RLIM_INFINITY else min(mb << 20, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def handle(request: jobs.GradeRequest | jobs.InventoryRequest, cache: dict) -> dict:
    if isinstance(request, jobs.InventoryRequest):
        return inventory(request, cache)
    from grader.judge.grade import GradeOptions, grade_one

    options = GradeOptions(**request.options)
    assignment = _assignment(cache, request.assignment, request.course)
    result = grade_one(assignment, request.student, Path(request.path), request.sha256, options,
                       run_id=request.run_id, work_root=Path(request.work_root) if request.work_root else None,
                       gpu=request.gpu, seeds=request.seeds,
                       questions=tuple(request.questions) if request.questions is not None else None)
    return {"ok": True, "result": result.to_dict()}


def inventory(request: jobs.InventoryRequest, cache: dict) -> dict:
    """The hidden suite's tests, for the driver to check their points before the batch: a warm
    slot has collected the suite already (so the driver never imports torch for it)."""
    from grader.errors import AssignmentError
    from grader.judge import plugin, warm

    try:
        asg = _assignment(cache, request.assignment, request.course)
        items = warm.warm_suite(asg.tests_dir, asg.suite_hash()).collected() if request.warm else None
        if items is None:
            items = plugin.collect(asg.tests_dir)
    except AssignmentError as exc:
        return {"ok": False, "assignment_error": str(exc)}
    return {"ok": True, "items": [[o.nodeid, o.name, o.question, o.points] for o in items]}


def _assignment(cache: dict, key: str, course: str):
    """The assignment `key` (a path or name under `course`), loaded once per worker."""
    from grader import assignment as assignment_mod

    if key not in cache:
        cache[key] = assignment_mod.load(key, Path(course))
    return cache[key]


def start_zygote(plan: dict, gpu: str | None) -> None:
    """The slot's zygote (bwrap, warm), started first: its interpreter and `import torch` then run
    on the other core while this process imports torch and pytest and collects the suite."""
    if not (plan.get("warm") and plan.get("zygote_work")):
        return
    from grader.sandbox import zygote

    if zygote.supported():
        work_root = Path(plan["zygote_work"]).resolve()
        work_root.mkdir(parents=True, exist_ok=True)
        zygote.prestart(work_root, gpu, bool(plan.get("unsafe_no_cgroups")),
                        lazy=plan.get("jobs_per_slot", 2) <= 1)


def collect_suite(plan: dict, cache: dict) -> None:
    """The hidden suite, collected while the driver checks the batch (warm slots only)."""
    from grader.judge import warm

    if plan.get("warm"):
        asg = _assignment(cache, plan["assignment"], plan["course"])
        warm.warm_suite(asg.tests_dir, asg.suite_hash())


def _head_start(step, *args) -> None:
    try:
        step(*args)
    except Exception:  # noqa: BLE001 - only a head start: the first submission starts them itself
        traceback.print_exc()


def main() -> None:
    out = _channel()
    plan = json.loads(os.environ.get("GRADER_PRESTART") or "{}")
    _head_start(start_zygote, plan, os.environ.get("GRADER_SLOT_GPU") or None)
    import grader.judge.grade  # noqa: F401 - torch and pytest, loaded while the driver prepares the batch
    cache: dict = {}
    _head_start(collect_suite, plan, cache)
    if os.environ.get("GRADER_JUDGE_MEMORY_MB"):
        limit_memory(int(os.environ["GRADER_JUDGE_MEMORY_MB"]))
    for line in sys.stdin:
        exhausted = False
        try:
            reply = handle(jobs.parse(line), cache)
            exhausted = _ran_out(reply)
        except MemoryError:
            from grader.judge.session import JUDGE_MEMORY_REASON

            reply, exhausted = {"ok": False, "status": "memory", "error": JUDGE_MEMORY_REASON}, True
        except Exception:  # noqa: BLE001 - reported to the scheduler as this submission's error
            reply = {"ok": False, "error": traceback.format_exc(limit=20)}
        if exhausted:
            reply["restart"] = True          # the slot waits for this process to exit
        out.write(json.dumps(reply) + "\n")
        if exhausted:        # a fresh judge for the next submission: this heap may be in pieces
            out.flush()
            os._exit(0)
    _exit_now(out)


def _exit_now(out) -> None:
    """The driver is done with this slot: stop the zygote (its jail and cgroups go with it) and
    exit without tearing down torch and pytest module by module, which the driver would wait for."""
    zygote = sys.modules.get("grader.sandbox.zygote")
    if zygote is not None:
        zygote.shutdown()
    out.flush()
    sys.stderr.flush()
    os._exit(0)


def _ran_out(reply: dict) -> bool:
    """Whether grading this submission hit the judge's memory limit (the session says so)."""
    from grader.judge.session import JUDGE_MEMORY_REASON

    result = reply.get("result") or {}
    return result.get("status") == "memory" and result.get("reason") == JUDGE_MEMORY_REASON


if __name__ == "__main__":
    main()

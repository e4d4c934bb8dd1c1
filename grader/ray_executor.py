"""Grading on a Ray cluster: each worker slot is a Ray actor holding a warm local worker process.

The driver (the `grade` call) alone writes the results store, exactly as with the local executor.
A submission travels to an actor with its notebook bytes, so submissions need not be on shared
storage; the course directory (solutions/, assignments/) and the sandbox backend must exist at the
same path on every node.  An actor (or its node) that dies mid-submission has that submission
retried on another actor, up to `retries` times, then recorded as an error.
"""

from __future__ import annotations

import base64
import dataclasses
import tempfile
from pathlib import Path
from typing import Callable

from grader.errors import UsageError, WorkerFailure
from grader.jobs import GradeRequest, Job
from grader.scheduler import WorkerSlot

ACTOR_PREFIX = "torchgrader-slot"


def _ray():
    try:
        import ray
    except ImportError:
        raise UsageError("--executor ray needs Ray: pip install 'torchgrader[ray]'") from None
    return ray


class SlotActor:
    """A worker slot living in a Ray actor: a local worker process, kept warm between submissions."""

    def __init__(self, index: int, log_dir: str, label: str = "", use_gpu: bool = False,
                 prestart: dict | None = None, memory_mb: int | None = None) -> None:
        import ray

        gpu = str(ray.get_gpu_ids()[0]) if use_gpu and ray.get_gpu_ids() else None
        self.scratch = Path(tempfile.mkdtemp(prefix="torchgrader-ray-"))
        # the submissions' work dirs live on this node, under one parent, so that the zygote
        # started ahead is the one they use
        self.work_root = str(self.scratch / "work") if prestart and prestart.get("zygote_work") else None
        plan = dict(prestart, zygote_work=self.work_root) if prestart else None
        self.slot = WorkerSlot(index, Path(log_dir), label, gpu, prestart=plan, memory_mb=memory_mb)
        self.slot.start()        # torch, the judge, the suite and the zygote load before the first job

    def grade(self, request: GradeRequest, notebook_b64: str, deadline_s: float) -> dict:
        path = self.scratch / f"{request.student}.ipynb"
        path.write_bytes(base64.b64decode(notebook_b64))
        try:
            request = dataclasses.replace(request, path=str(path), work_root=self.work_root)
            reply = self.slot.grade(Job(request, deadline_s))
        except WorkerFailure as exc:
            self.slot.kill()
            reply = {"ok": False, "error": str(exc), "died": "exited unexpectedly" in str(exc)}
        finally:
            path.unlink(missing_ok=True)
        return reply

    def node(self) -> str:
        import socket

        return socket.gethostname()


class RaySlot:
    """A worker slot on a Ray cluster, with WorkerSlot's interface (start, grade, kill, alive),
    for a driver that hands out one submission at a time (grader serve).  A dead actor is a
    WorkerFailure that says it "exited unexpectedly"; the next grade starts a new actor."""

    def __init__(self, index: int, log_dir: Path, label: str = "", prestart: dict | None = None,
                 memory_mb: int | None = None, address: str | None = None,
                 gpus: float = 0, cpus: int = 1) -> None:
        self.index, self.log_dir, self.label = index, log_dir, label
        self.prestart, self.memory_mb, self.address = prestart, memory_mb, address
        self.gpus, self.cpus = gpus, cpus
        self.actor = None
        self.generation = 0

    def start(self) -> None:
        ray = _ray()
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     **({} if self.address else {"num_cpus": max(self.cpus, 1)}))
        remote = ray.remote(num_cpus=1, num_gpus=self.gpus, max_restarts=0)(SlotActor)
        self.generation += 1
        self.actor = remote.options(
            name=f"{ACTOR_PREFIX}-{self.label}-{self.index}-{self.generation}").remote(
            self.index, str(self.log_dir), self.label, self.gpus > 0, self.prestart,
            self.memory_mb)

    def alive(self) -> bool:
        return self.actor is not None

    def grade(self, job: Job) -> dict:
        ray = _ray()
        if self.actor is None:
            self.start()
        ref = self.actor.grade.remote(job.request, _notebook(job), job.deadline_s + 30)
        try:
            return ray.get(ref, timeout=job.deadline_s + 60)
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
            self.actor = None
            raise WorkerFailure(f"the Ray actor grading it exited unexpectedly "
                                f"({type(exc).__name__})") from None
        except ray.exceptions.GetTimeoutError:
            self.kill()
            raise WorkerFailure("grading this submission took longer than its overall "
                                "deadline") from None

    def kill(self) -> None:
        if self.actor is not None:
            try:
                _ray().kill(self.actor)
            except Exception:  # noqa: BLE001 - already gone
                pass
            self.actor = None


def run_ray(jobs: list[Job], *, slots: int, log_dir: Path, on_done: Callable[[Job, dict], None],
            address: str | None = None, gpus_per_slot: float = 0, retries: int = 2, label: str = "",
            prestart: dict | None = None, memory_mb: int | None = None) -> None:
    """Grade `jobs` on `slots` Ray actors; `on_done(job, reply)` runs on the driver, once per job.

    Each actor's worker process gets the judge's memory limit `memory_mb` and starts what
    `prestart` names (see grader.worker) when the actor does.  Actors are named
    ``torchgrader-slot-<label>-<n>``."""
    ray = _ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 **({} if address else {"num_cpus": max(slots, 1)}))
    remote = ray.remote(num_cpus=1, num_gpus=gpus_per_slot, max_restarts=0)(SlotActor)
    n = max(1, min(slots, len(jobs)))
    use_gpu = gpus_per_slot > 0
    start = lambda i: _start(remote, label, i, log_dir, use_gpu, prestart, memory_mb)   # noqa: E731
    actors = {i: start(i) for i in range(n)}
    next_index = n
    queue = [(job, 0) for job in reversed(jobs)]
    running: dict = {}                      # ObjectRef -> (actor index, job, attempts)
    idle = list(actors)
    try:
        while queue or running:
            while queue and idle:
                i = idle.pop()
                job, attempts = queue.pop()
                ref = actors[i].grade.remote(job.request, _notebook(job), job.deadline_s + 30)
                running[ref] = (i, job, attempts)
            done, _ = ray.wait(list(running), num_returns=1)
            ref = done[0]
            i, job, attempts = running.pop(ref)
            try:
                reply = ray.get(ref)
                idle.append(i)
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                actors.pop(i, None)
                actors[next_index] = start(next_index)
                idle.append(next_index)
                next_index += 1
                if attempts < retries:
                    job.request.attempt = attempts + 1
                    queue.append((job, attempts + 1))
                    continue
                reply = {"ok": False, "error": f"the Ray actor grading it died {attempts + 1} times "
                                               f"(last: {type(exc).__name__})"}
            on_done(job, reply)
    finally:
        for actor in actors.values():
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001 - already gone
                pass


def _start(remote, label: str, index: int, log_dir: Path, use_gpu: bool, prestart: dict | None,
           memory_mb: int | None):
    return remote.options(name=f"{ACTOR_PREFIX}-{label}-{index}").remote(
        index, str(log_dir), label, use_gpu, prestart, memory_mb)


def _notebook(job: Job) -> str:
    return base64.b64encode(Path(job.request.path).read_bytes()).decode()

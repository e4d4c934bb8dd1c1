"""Worker slots and the queue that feeds them: local worker processes, one submission at a time each.

Each slot owns a trusted worker process (`python -m grader.worker`), its heap limited to
`judge_memory_mb` where given.  A worker that dies or runs past a submission's deadline is killed
(its sandbox dies with it) and restarted; that submission gets an `error` result with the reason,
and the batch goes on.  A worker that ran out of its memory answers `memory` for that submission
and exits; it is restarted for the next one.
"""

from __future__ import annotations

import ctypes
import json
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
import dataclasses
from pathlib import Path
from typing import Callable

from grader import jobs
from grader.errors import WorkerFailure
from grader.jobs import Job


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class WorkerSlot:
    """One worker process and the pipe protocol to it."""

    #: how a worker process is started (tests put a scripted worker here)
    command: tuple[str, ...] = (sys.executable, "-m", "grader.worker")

    def __init__(self, index: int, log_dir: Path, label: str = "", gpu: str | None = None,
                 prestart: dict | None = None, memory_mb: int | None = None) -> None:
        self.index, self.log_dir, self.label, self.gpu = index, log_dir, label, gpu
        self.memory_mb = memory_mb    # the judge process's heap limit (see grader.worker)
        self.prestart = prestart      # what the worker starts before its first job (see grader.worker)
        self.proc: subprocess.Popen | None = None
        self._buf = b""

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"worker-{self.index}.log", "ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1", GRADER_RUN=self.label)
        if self.prestart:
            env.update(GRADER_PRESTART=json.dumps(self.prestart), GRADER_SLOT_GPU=self.gpu or "")
        if self.memory_mb:
            env["GRADER_JUDGE_MEMORY_MB"] = str(int(self.memory_mb))
        # a session of its own: Ctrl-C at the terminal reaches the driver alone, which stops the
        # workers itself (and they die with it whatever happens)
        self.proc = subprocess.Popen(list(self.command), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log, env=env,
                                     preexec_fn=_die_with_parent, start_new_session=True)
        log.close()
        self._buf = b""

    def grade(self, job: Job) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        try:
            self.proc.stdin.write((jobs.dumps(dataclasses.replace(job.request, gpu=self.gpu)) + "\n").encode())
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:        # ValueError: its pipe was closed
            raise WorkerFailure(f"could not reach the worker process: {exc}") from None
        line = self._read_line(time.monotonic() + job.deadline_s)
        try:
            reply = json.loads(line)
        except ValueError:
            raise WorkerFailure("the worker process answered with malformed data") from None
        if reply.get("restart"):       # it ran out of memory and exits: the next job starts a fresh one
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        return reply

    def _read_line(self, deadline: float) -> bytes:
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while b"\n" not in self._buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WorkerFailure("grading this submission took longer than its overall deadline")
                if not sel.select(remaining):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                if not chunk:
                    code = self.proc.wait()
                    raise WorkerFailure(f"the worker process exited unexpectedly (status {code})")
                self._buf += chunk
        finally:
            sel.close()
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def finish(self) -> None:
        """Tell the worker no more jobs come (it stops its zygote and exits); do not wait."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                self.kill()

    def close(self) -> None:
        """Finish and wait for the worker to exit (killed if it takes more than 10 s)."""
        self.finish()
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_slots(count: int, *, log_dir: Path, label: str = "", gpus: list[str] = (),
                prestart: dict | None = None, memory_mb: int | None = None) -> list[WorkerSlot]:
    """`count` worker processes, started now so that they load torch and the judge (and, with
    `prestart`, their zygote and the hidden suite) while the caller prepares the batch.
    Slot i gets GPU ``gpus[i % len(gpus)]`` when GPUs are given."""
    workers = [WorkerSlot(i, log_dir, label, gpus[i % len(gpus)] if gpus else None, prestart, memory_mb)
               for i in range(max(1, count))]
    for w in workers:
        w.start()
    return workers


def run_local(jobs: list[Job], *, slots: int, log_dir: Path,
              on_done: Callable[[Job, dict], None], label: str = "", gpus: list[str] = (),
              workers: list[WorkerSlot] | None = None, memory_mb: int | None = None) -> None:
    """Grade `jobs` on `slots` worker processes (or on the already started `workers`, which are
    told to finish and left for the caller to close); `on_done(job, reply)` runs once per job,
    serially.

    A reply is the worker's ``{"ok": True, "result": ...}`` or ``{"ok": False, "error": reason}``
    (with ``"status": "memory"`` where the judge ran out of its memory on that submission).
    When the caller is interrupted (KeyboardInterrupt), an `on_done` under way finishes, the
    workers are killed, and the jobs they were grading get no `on_done` at all.

    An `on_done` that raises is called again for that job with ``{"ok": False, "error":
    "recording this result failed: ..."}`` and the batch goes on; if that call raises too, the
    workers are stopped and its exception is raised here.
    """
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    lock = threading.Lock()
    stopping = threading.Event()
    failed: list[BaseException] = []     # what a thread could not record, raised here
    owned = workers is None      # workers handed in are finished here and closed by their owner
    if workers is None:
        workers = [WorkerSlot(i, log_dir, label, gpus[i % len(gpus)] if gpus else None, memory_mb=memory_mb)
                   for i in range(max(1, min(slots, len(jobs))))]

    def drive(slot: WorkerSlot, idle: threading.Event) -> None:
        try:
            while not stopping.is_set():
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    reply = slot.grade(job)
                except (WorkerFailure, OSError, ValueError) as exc:
                    if stopping.is_set():     # its worker was killed by the stop: not its failure
                        return
                    slot.kill()
                    reply = {"ok": False, "error": str(exc)}
                with lock:
                    if stopping.is_set():
                        return
                    record(job, reply)
        except BaseException as exc:     # recording failed twice: the main thread stops the batch
            failed.append(exc)
            stopping.set()
        finally:
            idle.set()

    def record(job: Job, reply: dict) -> None:
        """`on_done(job, reply)`; where it raises, `on_done` again with an error reply saying
        why, so that the job keeps its row (an exception from that one ends the batch)."""
        try:
            on_done(job, reply)
        except Exception as exc:
            on_done(job, {"ok": False,
                          "error": f"recording this result failed: {type(exc).__name__}: {exc}"})

    # each thread says when it is done with an Event of its own: Thread.join interrupted by Ctrl-C
    # can leave a running thread marked as stopped (CPython 3.11)
    idle = [threading.Event() for _ in workers]
    threads = [threading.Thread(target=drive, args=(w, e), daemon=True)
               for w, e in zip(workers, idle)]
    try:
        for t in threads:
            t.start()
        for e in idle:
            while not e.wait(0.2) and not failed:
                pass
        if failed:
            raise failed[0]
    except BaseException:
        _stop(idle, workers, stopping, lock)
        raise
    finally:
        for w in workers:        # all of them exit at once
            w.finish()
        if owned:
            for w in workers:
                w.close()


def _stop(idle: list[threading.Event], workers: list[WorkerSlot], stopping: threading.Event,
          lock: threading.Lock) -> None:
    """Stop grading at once: let a result being recorded finish, kill the workers, and wait for
    their threads to see it (so that none of them writes anything afterwards)."""
    with lock:
        stopping.set()
    for w in workers:
        w.kill()
    for e in idle:
        e.wait(5)

"""The judge's side of one student process: start it, run the notebook, ask it probes.

Every read has a deadline; a late, missing or malformed answer stops the student process from the
outside and turns into a status with a reason.  Nothing read here is ever unpickled.  The judge
bounds what one submission costs it: each frame's fields are checked for their types before use,
the bytes rebuilt from all of a submission's answers are counted against one budget (a tensor
every time one is made, so a blob named many times costs its size per name), and all the probes
of a submission share one overall deadline.
"""

from __future__ import annotations

import itertools
import signal
import socket
import time
from dataclasses import dataclass, field

from grader import protocol
from grader.errors import (MissingNameError, ProbeTimeout, ProtocolError, SandboxError, SandboxStartError,
                           StudentCodeError, StudentUnavailable)
from grader.sandbox import LaunchSpec, Sandbox, SandboxProcess
from grader.sandbox.base import START_TIMEOUT, run_settings

_ERROR_KINDS, _CELL_STATUSES = frozenset(protocol.ErrorKind), frozenset(protocol.CellStatus)

GRACE = 5.0            # beyond the in-process alarm before the judge kills from outside
JUDGE_MEMORY_REASON = "the notebook's answers to the tests were too large for the grader's memory"


@dataclass
class CellRecord:
    """What happened in one code cell."""

    index: int
    status: str            # ok | error | timeout | not_run
    duration: float = 0.0
    ename: str = ""
    evalue: str = ""
    traceback: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class NotebookRun:
    """The outcome of executing the notebook: `status` is ok, timeout, crashed or memory."""

    status: str = "ok"
    reason: str = ""
    cells: list[CellRecord] = field(default_factory=list)
    environment: dict = field(default_factory=dict)
    duration: float = 0.0
    patched: list[str] = field(default_factory=list)   # torch/builtins names the notebook replaced


class _Deadline(Exception):
    pass


class StudentSession:
    """One sandboxed student process, driven step by step by the judge."""

    def __init__(self, backend: Sandbox, spec: LaunchSpec, *, cell_timeout: float,
                 notebook_timeout: float, probe_timeout: float, judge_timeout: float | None = None,
                 answer_bytes: int | None = None) -> None:
        self.backend, self.spec = backend, spec
        self.cell_timeout, self.notebook_timeout, self.probe_timeout = cell_timeout, notebook_timeout, probe_timeout
        self.judge_timeout = judge_timeout      # all the probes of this submission together, seconds
        self.answer_budget = answer_bytes       # bytes rebuilt from all of its answers together
        self.answer_used = 0
        self.answers = 0            # probes that returned a value (see plugin.student_message)
        self._judge_deadline: float | None = None
        self.proc: SandboxProcess | None = None
        self.dead_reason: str | None = None
        self.dead_status: str | None = None
        self.probe_time = 0.0       # round trips of the probes, as the judge waited for them
        self.probe_compute = 0.0    # of which the notebook's own code ran (as the runner measured)
        self.start_time = 0.0       # from launch to the runner's ready
        self.device = "cpu"
        self._ids = itertools.count(1)
        # probes the runner has, by key: sent this session, or defined ahead by a warm zygote
        # (assumed; a runner without one answers no_source and gets the source)
        self._defined = {protocol.probe_key(*p) for p in spec.probes}
        self._reader = protocol.BufferedReader(self._recv_some)
        self._deadline = 0.0

    # -- lifecycle ------------------------------------------------------------------------------
    def run_notebook(self, cells: list[dict]) -> NotebookRun:
        """Start the process and execute `cells` ([{index, source}]); never raises for student faults."""
        run = NotebookRun(cells=[CellRecord(c["index"], "not_run") for c in cells])
        frame = protocol.encode_frame({"op": protocol.Op.RUN, "cells": cells,
                                       "cell_timeout": self.cell_timeout, **run_settings(self.spec)})
        if len(frame) > protocol.MAX_HEADER_BYTES:      # the runner would refuse to read it
            run.status = self.dead_status = "invalid"
            run.reason = self.dead_reason = (
                f"the notebook's code cells hold {len(frame) / 2**20:.1f} MiB, more than the "
                f"{protocol.MAX_HEADER_BYTES >> 20} MiB of code a notebook may run: load large data "
                "from a file instead of writing it into a cell")
            return run
        started = time.monotonic()
        try:
            self.proc = self.backend.launch(self.spec)
            if not self.proc.warm:       # started afresh, not forked from a zygote: no probe ahead
                self._defined.clear()
        except SandboxError as exc:
            run.status, run.reason = "error", str(exc)
            self.dead_status, self.dead_reason = run.status, run.reason
            return run
        try:
            header = self._recv_start(started + START_TIMEOUT)
            self.start_time = time.monotonic() - started
            run.environment = {k: header.get(k) for k in ("torch", "device", "python")}
            self.device = str(run.environment.get("device") or "cpu")
            self.proc.sock.sendall(frame)
            self._collect_cells(run, time.monotonic() + self.notebook_timeout)
        except SandboxStartError as exc:
            self._fail(run, "error", str(exc))
        except _Deadline as exc:
            self._fail(run, "timeout", str(exc))
        except (EOFError, OSError, ProtocolError, ValueError) as exc:
            self._fail(run, *self._death_reason(run, exc))
        run.duration = time.monotonic() - started
        return run

    def _recv_start(self, deadline: float) -> dict:
        """The runner's `ready`; a sandbox that dies before it is the grader's problem, not the student's."""
        try:
            header = self._recv(deadline)
        except (EOFError, OSError, ProtocolError, ValueError, _Deadline) as exc:
            code = self.proc.wait(5)
            tail = self.proc.output().strip().splitlines()[-3:]
            raise SandboxStartError(f"the {self.backend.name} sandbox did not start ({type(exc).__name__}, "
                                    f"exit status {code}): " + " | ".join(tail)) from exc
        if header.get("op") != protocol.Op.READY:
            raise SandboxStartError("the student process did not start properly")
        return header

    def _collect_cells(self, run: NotebookRun, notebook_deadline: float) -> None:
        by_index = {c.index: c for c in run.cells}
        current: CellRecord | None = None
        while True:
            deadline = notebook_deadline
            if current is not None:
                deadline = min(deadline, self._cell_started + self.cell_timeout + GRACE)
            try:
                header = self._recv(deadline)
            except _Deadline:
                if current is not None and time.monotonic() < notebook_deadline:
                    current.status = "timeout"
                    raise _Deadline(f"cell {current.index} ran longer than {self.cell_timeout:g} s "
                                    "and could not be interrupted") from None
                raise _Deadline(f"the notebook ran longer than {self.notebook_timeout:g} s"
                                + (f" (stopped in cell {current.index})" if current else "")) from None
            op = header.get("op")
            if op == protocol.Op.NOTEBOOK_DONE:
                patched = header.get("patched")
                run.patched = [str(p)[:100] for p in patched[:50]] if isinstance(patched, list) else []
                return
            index = header.get("index")
            cell = by_index.get(index) if type(index) is int else None
            if cell is None:
                raise ProtocolError("the student process reported an unknown cell")
            if op == protocol.Op.CELL_START:
                current, self._cell_started = cell, time.monotonic()
                current.status = "running"
            elif op == protocol.Op.CELL_DONE:
                _fill_cell(cell, header)
                current = None
            else:
                raise ProtocolError(f"unexpected message {op!r} while the notebook ran")

    def _fail(self, run: NotebookRun, status: str, reason: str) -> None:
        for c in run.cells:
            if c.status == "running":
                c.status = "timeout" if status == "timeout" else "error"
        run.status, run.reason = status, reason
        self._stop(status, reason)

    def _death_reason(self, run: NotebookRun, exc: Exception) -> tuple[str, str]:
        running = next((c.index for c in run.cells if c.status == "running"), None)
        where = f" in cell {running}" if running is not None else ""
        if isinstance(exc, (ProtocolError, ValueError)):
            return "crashed", f"the notebook's process sent malformed data{where}: {exc}"
        code = self.proc.wait(5) if self.proc else None
        return describe_exit(code, where, self.proc.oom_killed() if self.proc else None)

    def _stop(self, status: str, reason: str) -> None:
        self.dead_status, self.dead_reason = status, reason
        if self.proc is not None:
            self.proc.kill()

    def close(self) -> None:
        """Ask the runner to exit, then make sure it and its children are gone."""
        if self.proc is None:
            return
        if self.dead_reason is None and not self.proc.warm:   # a warm child is simply killed
            try:
                self._send({"op": protocol.Op.EXIT})
            except OSError:
                pass
            self.proc.wait(1)
        self.proc.close()

    # -- probes ---------------------------------------------------------------------------------
    def probe(self, name: str, source: str, kwargs: dict, timeout: float | None = None):
        """Run probe `name` (its `source`) on the notebook's namespace; return its plain-data value."""
        if self.dead_reason is not None:
            raise StudentUnavailable(f"This test could not run: {self.dead_reason}.")
        timeout, overall = self._probe_limit(self.probe_timeout if timeout is None else timeout)
        key = protocol.probe_key(name, source)
        started = time.monotonic()
        try:
            header, payload = self._ask_probe(key, name, source, kwargs, timeout, started)
            if header["op"] == protocol.Op.RESULT:
                return self._value(header, payload, started)
            if overall and header.get("kind") == "timeout":
                raise _Deadline("the overall deadline")
        except _Deadline:
            if overall:
                self._stop("timeout", self._overall_reason())
                raise StudentUnavailable(f"This test could not finish: {self.dead_reason}.") from None
            self._stop("timeout", f"a test's probe of your code ran longer than {timeout:g} s")
            raise ProbeTimeout(f"Your code did not finish within {timeout:g} s when this test used it.") from None
        except MemoryError as exc:        # the judge's own limit (judge_memory_mb) held
            self._stop("memory", JUDGE_MEMORY_REASON)
            raise StudentUnavailable(f"This test could not finish: {self.dead_reason}.") from exc
        except protocol.AnswerTooLarge as exc:
            mib = (self.answer_budget or 0) / 2**20
            self._stop("crashed", f"the notebook's answers to the tests were too large (more than "
                                  f"{mib:g} MiB of data in all; the tests before were scored)")
            raise StudentUnavailable(f"This test could not finish: {self.dead_reason}.") from exc
        except (EOFError, OSError) as exc:
            code = self.proc.wait(5)
            status, reason = describe_exit(code, " while a test was using your code", self.proc.oom_killed())
            self._stop(status, reason)
            raise StudentUnavailable(f"This test could not finish: {reason}.") from exc
        except (ProtocolError, ValueError) as exc:
            self._stop("crashed", f"the notebook's process answered a test with malformed data ({exc})")
            raise StudentUnavailable(f"This test could not finish: {self.dead_reason}.") from exc
        finally:
            self.probe_time += time.monotonic() - started
        raise _probe_error(header, timeout)

    def restart_judge_clock(self) -> None:
        """Give the next run of the hidden tests (another seed, in `grader verify`) a full
        `judge_timeout` of its own, from its first probe."""
        self._judge_deadline = None

    def _probe_limit(self, timeout: float) -> tuple[float, bool]:
        """(seconds this probe may take, whether the overall judging deadline is what limits it);
        past that deadline the student process is stopped and no probe is asked."""
        if self.judge_timeout is None:
            return timeout, False
        if self._judge_deadline is None:      # from the first probe: collecting the suite is not counted
            self._judge_deadline = time.monotonic() + self.judge_timeout
        remaining = self._judge_deadline - time.monotonic()
        if remaining <= 0:
            self._stop("timeout", self._overall_reason())
            raise StudentUnavailable(f"This test could not run: {self.dead_reason}.")
        return (remaining, True) if remaining < timeout else (timeout, False)

    def _overall_reason(self) -> str:
        return (f"the hidden tests' use of your code took longer than {self.judge_timeout:g} s in all "
                "(the tests that finished before are scored)")

    def _value(self, header: dict, payload: protocol.Payload, started: float):
        """A result frame's value, charged to the submission's answer budget; ProtocolError when
        its data is not exactly one `value`."""
        budget = None if self.answer_budget is None else self.answer_budget - self.answer_used
        try:
            data = payload.decode(budget)
        finally:
            self.answer_used += payload.cost
        if list(data) != ["value"]:
            raise ProtocolError("a result without exactly one value")
        compute = header.get("compute", 0.0)
        if type(compute) not in (int, float):
            raise ProtocolError("a result whose compute time is not a number")
        if compute == compute:               # the student's word: a statistic, capped
            self.probe_compute += min(max(float(compute), 0.0), time.monotonic() - started)
        self.answers += 1
        return data["value"]

    def _ask_probe(self, key: str, name: str, source: str, kwargs: dict, timeout: float, started: float):
        """Send the probe (its source only if the runner may lack it) and read the answer; a runner
        that lacks it after all answers no_source, and is asked again with the source."""
        omit = key in self._defined
        header, payload = self._exchange(key, name, None if omit else source, kwargs, timeout, started)
        if omit and header["op"] == protocol.Op.ERROR and header.get("kind") == protocol.ErrorKind.NO_SOURCE:
            header, payload = self._exchange(key, name, source, kwargs, timeout, started)
        self._defined.add(key)
        return header, payload

    def _exchange(self, key: str, name: str, source: str | None, kwargs: dict, timeout: float, started: float):
        pid = next(self._ids)
        request = {"op": protocol.Op.PROBE, "id": pid, "key": key, "name": name, "timeout": timeout}
        if source is not None:
            request["source"] = source
        self._send(request, {"kwargs": kwargs})
        header, payload = self._recv_frame(started + timeout + GRACE)
        _check_answer(header, pid)
        return header, payload

    # -- wire -----------------------------------------------------------------------------------
    def _send(self, header: dict, data: dict | None = None) -> None:
        self.proc.sock.sendall(protocol.encode_frame(header, data))

    def _recv(self, deadline: float) -> dict:
        header, _ = self._recv_frame(deadline)
        return header

    def _recv_frame(self, deadline: float) -> tuple[dict, protocol.Payload]:
        self._deadline = deadline
        return protocol.read_frame(self._reader.read_exact)

    def _recv_some(self, n: int) -> bytes:
        """Whatever has arrived, up to `n` bytes, by the current deadline (_Deadline after it)."""
        sock = self.proc.sock
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _Deadline("deadline")
        sock.settimeout(remaining)
        try:
            return sock.recv(n)
        except socket.timeout:
            raise _Deadline("deadline") from None


def _check_answer(header: dict, pid: int) -> None:
    """ProtocolError unless `header` answers probe `pid` with fields of the types the judge reads."""
    op = header.get("op")
    if type(header.get("id")) is not int or header["id"] != pid or type(op) is not str \
            or op not in ("result", "error"):
        raise ProtocolError("an answer arrived that does not match the question asked")
    if op == protocol.Op.ERROR:
        kind, message, where = header.get("kind"), header.get("message"), header.get("where")
        if type(kind) is not str or kind not in _ERROR_KINDS or type(message) is not str \
                or where is not None and type(where) is not str:
            raise ProtocolError("an error answer with malformed fields")


def _fill_cell(cell: CellRecord, header: dict) -> None:
    """The cell's record from its cell_done frame; ProtocolError for a field of the wrong type."""
    error, status, duration = header.get("error"), header.get("status"), header.get("duration")
    if error is not None and type(error) is not dict or type(status) is not str \
            or type(duration) not in (int, float):
        raise ProtocolError("a cell's report has malformed fields")
    error = error or {}
    texts = [error.get(k, "") for k in ("ename", "evalue", "traceback")]
    if any(type(t) is not str for t in texts):
        raise ProtocolError("a cell's error report has malformed fields")
    cell.status = status if status in _CELL_STATUSES else protocol.CellStatus.ERROR
    cell.duration = min(max(float(duration), 0.0), 1e9) if duration == duration else 0.0
    cell.ename, cell.evalue, cell.traceback = texts[0][:200], texts[1][:2000], texts[2][:8000]


def _probe_error(header: dict, timeout: float) -> Exception:
    kind, message = header.get("kind"), str(header.get("message") or "")
    where = header.get("where")
    if kind == protocol.ErrorKind.MISSING_NAME:
        return MissingNameError(f"The notebook does not define `{message}`. Check the name and that "
                                "the cell defining it runs without errors.")
    if kind == protocol.ErrorKind.TIMEOUT:
        return ProbeTimeout(f"Your code did not finish within {timeout:g} s when this test used it.")
    if kind == protocol.ErrorKind.ENCODE:
        return StudentCodeError(f"Your code returned something this test cannot read: {message}")
    suffix = f" ({where})" if where else ""
    return StudentCodeError(f"Your code raised {message}{suffix} when this test used it.")


def describe_exit(code: int | None, where: str = "", oom: bool | None = None) -> tuple[str, str]:
    """(status, reason) for a student process that ended on its own with exit status `code`;
    `oom` says whether the kernel's OOM killer struck (None: unknown)."""
    if oom:
        return "memory", f"the notebook used more memory than allowed and was stopped{where}"
    if code is None:
        return "crashed", f"the notebook's process stopped answering{where}"
    sig = -code if code < 0 else (code - 128 if code > 128 else 0)
    if sig == signal.SIGKILL and oom is None:
        return "memory", f"the notebook's process was killed{where}, most likely for using too much memory"
    if sig == signal.SIGXCPU:
        return "timeout", f"the notebook used more CPU time than allowed{where}"
    if sig == signal.SIGXFSZ:
        return "crashed", f"the notebook wrote a file larger than allowed{where}"
    if sig:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        return "crashed", f"the notebook's process crashed with {name}{where}"
    return "crashed", (f"the notebook ended its own Python process (exit status {code}){where}, "
                       "for example with os._exit() or by closing the grader's connection; "
                       "remove that call")

"""The student process: runs inside the sandbox, executes the notebook, then serves probes.

It imports only the standard library, torch and :mod:`grader.protocol`.  The judge talks to it over
one socket (file descriptor given on the command line):

    -> ready {torch, device, python}
    <- run {cells: [{index, source}], cell_timeout}
    -> cell_start {index}   -> cell_done {index, status, error, duration}   (per cell)
    -> notebook_done {}
    <- probe {id, key, name, [source], kwargs, timeout}
                                    -> result {id, value} | error {id, kind, message}
    <- exit {}

Each cell's source is prepared here (otter's scaffolding removed, IPython syntax rewritten: see
grader.student.cells), so parsing student code costs the sandbox, never the judge.  What a cell
prints stays here (the judge has no use for it); the error details of the first ERROR_CELLS failing
cells are sent, only the status and exception type of later ones.

Torch, builtins and the core tensor/module classes are restored to a snapshot taken before the
first student cell runs, after each cell and around each probe (grader.student.snapshot).  That
snapshot is a convenience, not a boundary: a cell can replace the runner's own methods, so the
judge trusts nothing it is told but plain values it checks itself.
"""

from __future__ import annotations

import builtins
import io
import math
import os
import random
import signal
import socket
import sys
import time
import traceback

from grader import protocol
from grader.student import cells as cell_source
from grader.student.snapshot import Snapshot

OUTPUT_CAP = 64 * 1024
ERROR_CAP = 2000
ERROR_CELLS = 100      # failing cells whose message and traceback the judge receives


class CellTimeout(BaseException):
    """Raised by SIGALRM inside a cell or probe that ran past its limit."""


class MissingName(Exception):
    """A probe asked for a name the notebook does not define."""


class CappedText(io.TextIOBase):
    """A text sink that keeps the first `cap` characters and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap, self.parts, self.kept, self.dropped = cap, [], 0, 0

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        s = str(s)
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        out = "".join(self.parts)
        return out + (f"\n[... {self.dropped} more characters not kept]" if self.dropped else "")


class NotebookNamespace:
    """What a probe sees as `ns`: the notebook's global names, read-only by convention."""

    def __init__(self, names: dict) -> None:
        object.__setattr__(self, "_names", names)

    def __getattr__(self, name: str):
        try:
            return self._names[name]
        except KeyError:
            raise MissingName(name) from None

    __getitem__ = __getattr__

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def get(self, name: str, default=None):
        return self._names.get(name, default)


class _IPythonStub:
    """Answers the calls IPython syntax is rewritten into: magics and shell commands do nothing."""

    def __init__(self, user_ns: dict) -> None:
        self.user_ns = user_ns

    def run_line_magic(self, name, line, *_a, **_k):
        if name == "time":                   # `%time x = f()` defines x, as in Jupyter
            exec(compile(line, "<line magic>", "exec"), self.user_ns)
        return None

    def run_cell_magic(self, name, line, body, *_a, **_k):
        if name in ("time", "capture", "timeit", "prun"):
            exec(compile(body, "<cell magic>", "exec"), self.user_ns)
        return None

    def system(self, *_a, **_k):
        return None

    def getoutput(self, *_a, **_k):
        return []

    def __getattr__(self, name):
        return lambda *a, **k: None


def _no_input(prompt=""):
    raise EOFError("input() is not available while grading: the notebook must not ask for input")


def _display(*objs, **_k):
    for o in objs:
        print(repr(o))


class Runner:
    """Executes cells and serves probes over one socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = protocol.BufferedReader(sock.recv)
        self.pid = os.getpid()
        self.user_ns: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.probes: dict = {}
        self.real_stdout, self.real_stderr = sys.stdout, sys.stderr

    # -- wire -------------------------------------------------------------------------------
    def send(self, header: dict) -> None:
        self.sock.sendall(protocol.encode_frame(header))

    def recv(self) -> tuple[dict, protocol.Payload]:
        return protocol.read_frame(self.reader.read_exact)

    # -- notebook -----------------------------------------------------------------------------
    def run_cells(self, cells: list, cell_timeout: float, snapshot: Snapshot,
                  output_cap: int = OUTPUT_CAP) -> None:
        self.user_ns["get_ipython"] = lambda ip=_IPythonStub(self.user_ns): ip
        self.user_ns["display"] = _display
        patched: list[str] = []
        failed = 0
        done = b""   # a cell's cell_done goes out with the next one's cell_start: one wake-up
        for cell in cells:
            self.sock.sendall(done + protocol.encode_frame({"op": protocol.Op.CELL_START,
                                                            "index": cell["index"]}))
            out = CappedText(output_cap)
            started = time.perf_counter()
            error = self.exec_cell(cell, out, cell_timeout)
            patched += [name for name in snapshot.restore() if name not in patched]
            if error is not None:
                failed += 1
                if failed > ERROR_CELLS:
                    error = {"status": error["status"], "ename": error["ename"]}
            status = error and error["status"] or protocol.CellStatus.OK
            done = protocol.encode_frame({"op": protocol.Op.CELL_DONE, "index": cell["index"],
                                          "status": status, "error": error,
                                          "duration": time.perf_counter() - started})
        self.sock.sendall(done + protocol.encode_frame({"op": protocol.Op.NOTEBOOK_DONE,
                                                        "patched": patched[:50]}))

    def exec_cell(self, cell: dict, out: CappedText, timeout: float):
        name = f"<cell {cell['index']}>"
        sys.stdout = sys.stderr = out
        try:
            _alarm(timeout)
            try:
                code = compile(cell_source.prepare(cell["source"]), name, "exec")
                exec(code, self.user_ns)
            finally:
                _alarm(0)
            return None
        except CellTimeout:
            return {"status": protocol.CellStatus.TIMEOUT, "ename": "TimeoutError",
                    "evalue": f"this cell ran longer than {timeout:g} s and was stopped",
                    "traceback": ""}
        except BaseException as exc:  # noqa: BLE001 - a failing cell is recorded, the rest run
            return _describe(exc, "error")
        finally:
            self.exit_if_forked()
            sys.stdout, sys.stderr = self.real_stdout, self.real_stderr

    def exit_if_forked(self) -> None:
        """A process the notebook forked must not go on to speak for the runner."""
        if os.getpid() != self.pid:
            os._exit(0)

    # -- probes -------------------------------------------------------------------------------
    def serve(self, snapshot: Snapshot) -> None:
        while True:
            header, payload = self.recv()
            op = header.get("op")
            if op == protocol.Op.EXIT:
                return
            if op == protocol.Op.PROBE:
                self.answer_probe(header, payload, snapshot)

    def answer_probe(self, header: dict, payload: protocol.Payload, snapshot: Snapshot) -> None:
        pid = header.get("id")
        sink = CappedText(0)
        try:
            snapshot.restore()
            fn = self.probe_function(header, snapshot)
            if fn is None:
                self.sock.sendall(_error_frame(pid, protocol.ErrorKind.NO_SOURCE, ""))
                return
            kwargs = payload.decode().get("kwargs") or {}
            sys.stdout = sys.stderr = sink
            _alarm(float(header.get("timeout", 10)))
            started = time.perf_counter()
            try:
                value = fn(NotebookNamespace(self.user_ns), **kwargs)
            finally:
                compute = time.perf_counter() - started      # the notebook's own time in this probe
                self.exit_if_forked()
                _alarm(0)
                sys.stdout, sys.stderr = self.real_stdout, self.real_stderr
            snapshot.restore(builtins_only=True)  # for the encoder; the rest before the next probe
            frame = protocol.encode_frame({"op": protocol.Op.RESULT, "id": pid, "compute": compute},
                                          {"value": value})
        except MissingName as exc:
            frame = _error_frame(pid, protocol.ErrorKind.MISSING_NAME, str(exc.args[0]))
        except CellTimeout:
            frame = _error_frame(pid, protocol.ErrorKind.TIMEOUT, "")
        except protocol.EncodeError as exc:
            frame = _error_frame(pid, protocol.ErrorKind.ENCODE, str(exc))
        except BaseException as exc:  # noqa: BLE001 - the student's exception is the answer
            d = _describe(exc, "error")
            frame = _error_frame(pid, protocol.ErrorKind.STUDENT, f"{d['ename']}: {d['evalue']}",
                                 where=d.get("where"))
        self.sock.sendall(frame)

    def probe_function(self, header: dict, snapshot: Snapshot):
        """The probe the judge asks for, by its key; None when it is not defined here and the judge
        sent no source (the judge then asks again with it)."""
        key = str(header.get("key"))
        fn = self.probes.get(key) or _defined_probes.get(key)
        if fn is None:
            name, source = header.get("name"), header.get("source")
            if not isinstance(source, str):
                return None
            fn = _define_probe(str(name), source, snapshot.builtins_dict())
        self.probes[key] = fn
        return fn


def _define_probe(name: str, source: str, builtins_dict: dict):
    """The probe function from its source (the hidden test's code), with pristine globals."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    g = {"__name__": f"probe_{name}", "__builtins__": builtins_dict,
         "torch": torch, "nn": nn, "F": F, "math": math, "random": random}
    exec(compile(source, f"<probe {name}>", "exec"), g)
    return g[name]


_defined_probes: dict = {}


def define_probes(probes: list) -> None:
    """Define the hidden suite's probes ahead, in a warm slot's zygote, before any student code
    runs: the students forked later find them ready (a definition only, no probe is called)."""
    for name, source in probes:
        name, source = str(name), str(source)
        key = protocol.probe_key(name, source)
        if key not in _defined_probes:
            try:
                _defined_probes[key] = _define_probe(name, source,
                                                     {**vars(builtins), "input": _no_input})
            except Exception:  # noqa: BLE001 - the student process defines it itself, and reports
                pass


def _error_frame(pid, kind: str, message: str, where: str | None = None) -> bytes:
    return protocol.encode_frame({"op": protocol.Op.ERROR, "id": pid, "kind": kind,
                                  "message": message[:ERROR_CAP], "where": where})


def _describe(exc: BaseException, status: str) -> dict:
    """Type, message and the student's own frames of an exception (never grader frames)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    where = f"{frames[-1].filename.strip('<>')}, line {frames[-1].lineno}" if frames else None
    try:
        evalue = str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        evalue = "(the exception's message could not be shown)"
    tb = "".join(traceback.format_list(frames)) if frames else ""
    return {"status": status, "ename": type(exc).__name__[:200], "evalue": evalue[:ERROR_CAP],
            "traceback": tb[-4 * ERROR_CAP:], "where": where}


def _alarm(seconds: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, max(0.0, seconds))


def _on_alarm(_signum, _frame):
    raise CellTimeout()


def _device() -> str:
    import torch

    if os.environ.get("CUDA_VISIBLE_DEVICES", "") in ("", "-1"):
        return "cpu"
    try:
        if torch.cuda.is_available():
            return f"cuda:0 ({torch.cuda.get_device_name(0)})"
    except Exception as exc:  # noqa: BLE001 - the notebook runs on the CPU, and the result says why
        return f"cpu (CUDA failed: {str(exc)[:200]})"
    return "cpu"


_prepared: Snapshot | None = None


def _settle_torch() -> None:
    """Make now the one change torch makes to itself later, when `torch._dynamo` is first imported
    (an optimizer's first step imports it): it wraps `torch.manual_seed` with
    `torch._disable_dynamo` (torch/_dynamo/__init__.py).  Made before the pristine snapshot, it is
    never taken for the notebook's patch; importing torch._dynamo itself here would cost seconds."""
    import torch

    if torch.manual_seed is torch.random.manual_seed and hasattr(torch, "_disable_dynamo"):
        import torch.jit._builtins

        torch.manual_seed = torch._disable_dynamo(torch.manual_seed)
        torch.jit._builtins._register_builtin(torch.manual_seed, "aten::manual_seed")


def prepare() -> Snapshot:
    """What main() sets up that no submission changes.  A warm slot's zygote calls it once before
    it forks any student: each child inherits the snapshot and its dict version tags, so the first
    restore skips every untouched dict instead of reading (and copying) the pages they live on."""
    global _prepared
    if _prepared is None:
        builtins.input = _no_input
        protocol.capture_torch()
        _settle_torch()
        _prepared = Snapshot()
        _prepared.restore()
    return _prepared


def _apply_settings(header: dict) -> int:
    """The judge's run settings (sandbox.base.run_settings), applied before the first cell runs;
    returns the output kept per cell, in bytes."""
    import resource

    import torch

    limit_mb = header.get("address_space_mb")
    if limit_mb:       # beyond what the interpreter with torch loaded maps already
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * resource.getpagesize()
        limit = mapped + (int(limit_mb) << 20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    torch.set_num_threads(max(1, int(header.get("threads") or 1)))
    return int(header.get("output_kb") or 0) * 1024 or OUTPUT_CAP


def main(fd: int) -> None:
    """Entry point inside the sandbox: `fd` is the socket connected to the judge."""
    import resource

    import torch

    # the judge's memory limit (RLIMIT_DATA, soft) reaches this process by inheritance: the
    # sandbox's own limits hold the student, so it is lifted back to the hard limit
    resource.setrlimit(resource.RLIMIT_DATA, (resource.getrlimit(resource.RLIMIT_DATA)[1],) * 2)
    sock = socket.socket(fileno=fd)
    snapshot = prepare()
    signal.signal(signal.SIGALRM, _on_alarm)
    runner = Runner(sock)
    try:
        runner.send({"op": protocol.Op.READY, "torch": torch.__version__, "device": _device(),
                     "python": sys.version.split()[0]})
        header, _ = runner.recv()
        if header.get("op") == protocol.Op.RUN:
            output_cap = _apply_settings(header)
            runner.run_cells(header.get("cells", []), float(header.get("cell_timeout", 60)),
                             snapshot, output_cap)
            runner.serve(snapshot)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass
    except BaseException:  # noqa: BLE001 - the runner itself failed: say how on the kept output
        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(0)

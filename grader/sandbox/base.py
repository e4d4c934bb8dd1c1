"""The one interface every sandbox backend implements, and the pieces they share."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import SandboxError
from grader.sandbox import cgroup, gpu, staging
from grader.student import limits as rlimits
from grader.student import seccomp
from grader.student.boot import CHANNEL_FD

OUTPUT_KEEP = 256 * 1024
# from launch to the runner's (or a zygote's) ready: the interpreter, `import torch`
START_TIMEOUT = 120.0

BOOT = ("import sys; sys.path.insert(0, sys.argv[2]); "
        "from grader.student.runner import main; main(int(sys.argv[1]))")
# a cold sandbox: data files into the sized /workspace, the seccomp filter, then the runner
COLD_BOOT = ("import sys; sys.path.insert(0, sys.argv[2]); "
             "from grader.student.boot import cold; cold(int(sys.argv[1]))")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one student process (seconds, MiB, counts)."""

    cpu_s: int = 300
    memory_mb: int = 2048
    nproc: int = 64
    fsize_mb: int = 64
    nofile: int = 256
    tmp_mb: int = 256


@dataclass
class LaunchSpec:
    """What a backend needs to start the student runner for one submission."""

    workdir: Path
    limits: Limits = field(default_factory=Limits)
    torch_threads: int = 1
    output_kb: int = 64        # output kept per cell, in the student process
    env: dict = field(default_factory=dict)
    run_id: str = ""           # marks the batch's processes (GRADER_RUN) and cgroups
    gpu: str | None = None     # index of the NVIDIA GPU this submission may use
    probes: tuple = ()         # (name, source) of the suite's probes, for a zygote to define ahead
    stage: Path | None = None  # a cold sandbox's data files, staged at a neutral path (see staging)
    stage_mb: int = 0          # their total size: /workspace holds them and tmp_mb more
    unsafe_no_cgroups: bool = False   # start even where no pids and memory cgroup can be set

    @property
    def workspace_mb(self) -> int:
        """The size of the sandbox's /workspace: the data files and `tmp_mb` of writes."""
        return self.limits.tmp_mb + self.stage_mb


def package_dir() -> Path:
    """The directory holding the `grader` package (bound read-only into sandboxes)."""
    return Path(__file__).resolve().parent.parent


def python_paths() -> tuple[str, str, str]:
    """(interpreter as invoked, real install prefix, environment prefix) of this Python."""
    exe = sys.executable
    home = str(Path(os.path.realpath(exe)).parent.parent)
    return exe, home, sys.prefix


def base_env(spec: LaunchSpec, home: str) -> dict:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": home,
        "USER": "student",         # getpass.getuser() (torch's caches) without an /etc/passwd entry
        "LOGNAME": "student",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": str(spec.torch_threads),
        "MKL_NUM_THREADS": str(spec.torch_threads),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "CUDA_VISIBLE_DEVICES": spec.gpu if spec.gpu is not None else "",
        "GRADER_RUN": spec.run_id,
    }
    if spec.gpu is not None and gpu.library_dirs():
        env["LD_LIBRARY_PATH"] = ":".join(gpu.library_dirs())
    env.update(spec.env)
    return env


def run_settings(spec: LaunchSpec) -> dict:
    """What the runner applies before the notebook's first cell, sent in the `run` message (never in
    the environment, which the notebook can change): torch's threads, the output kept per cell, and
    the address space beyond the interpreter with torch loaded (none with CUDA, whose build maps
    GiBs)."""
    return {"threads": max(1, int(spec.torch_threads)), "output_kb": int(spec.output_kb),
            "address_space_mb": int(spec.limits.memory_mb) if spec.gpu is None else None}




def _cold_limits(limits: Limits, group) -> dict:
    """What a cold sandbox was started with, for the result's environment."""
    applied = {"cpu_s": limits.cpu_s, "fsize_mb": limits.fsize_mb, "nofile": limits.nofile,
               "nproc": limits.nproc, "tmp_mb": limits.tmp_mb, "seccomp": seccomp.supported()}
    if group is not None:
        applied.update(pids_max=limits.nproc, memory_mb=limits.memory_mb)
    return applied


def rlimit_setter(limits: Limits, group: "cgroup.Cgroup | None" = None, channel: int = -1,
                  gpu: bool = False):
    """A preexec function: join the cgroup, apply the rlimits and put the judge's socket at
    CHANNEL_FD in the child before it execs."""
    values = rlimits.rlimit_values(cpu_s=limits.cpu_s, fsize_mb=limits.fsize_mb,
                                   nofile=limits.nofile, nproc=limits.nproc)

    def apply() -> None:
        seccomp.fresh_session_keyring()       # the sandbox never holds the grader's session keys
        if channel >= 0 and channel != CHANNEL_FD:
            os.dup2(channel, CHANNEL_FD)
        elif channel == CHANNEL_FD:
            os.set_inheritable(CHANNEL_FD, True)
        if group is not None:
            group.join()
        rlimits.set_rlimits(values)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    return apply


class SandboxProcess:
    """A started student runner: its socket, its captured output, and how to stop it."""

    def __init__(self, proc: subprocess.Popen, sock: socket.socket, backend: str,
                 group: "cgroup.Cgroup | None" = None, stop=None, warm: bool = False) -> None:
        self.proc, self.sock, self.backend, self.group = proc, sock, backend, group
        self._stop = stop
        self.warm = warm           # forked from a zygote rather than started afresh
        self.host_rss_mb = 0.0     # resident memory of the zygote the process was forked from
        self.peak_mb: float | None = None   # the student's peak memory (its cgroup's), once closed
        self.defer = None          # where close() hands the wait for the exit (see close)
        self.cleanups: list = []   # called once the process is gone (staged copies to remove)
        self.limits: dict = {}     # the limits the sandbox applied, as it reported them
        self._out = bytearray()
        self._dropped = 0
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        try:
            while chunk := self.proc.stdout.read1(65536):
                room = OUTPUT_KEEP - len(self._out)
                self._out += chunk[: max(room, 0)]
                self._dropped += max(0, len(chunk) - max(room, 0))
        except (OSError, ValueError):
            pass
        finally:
            self.proc.stdout.close()     # at the end of the output: when the last writer has exited

    def output(self) -> str:
        """What the process wrote to its own stdout/stderr (outside captured cells), capped."""
        text = self._out.decode("utf-8", "replace")
        return text + (f"\n[... {self._dropped} more bytes not kept]" if self._dropped else "")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def oom_killed(self) -> bool | None:
        """True/False when a memory cgroup can tell whether the kernel's OOM killer struck, else
        None."""
        return self.group.oom_killed() if self.group is not None else None

    def kill(self, sweep: bool = True) -> None:
        """Stop the student process and everything it started (`sweep`: and wait until its cgroup
        is empty)."""
        if self._stop is not None and self.proc.poll() is None:
            self._stop()
        if self.proc.poll() is None:
            try:
                if self.proc.pid is None:        # forked by a zygote: it kills the namespace
                    raise ProcessLookupError
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        if sweep and self.group is not None:
            self.group.kill_all()

    def wait(self, timeout: float | None = None) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        """Stop the process and free what it held.  With `defer` set (a warm slot), only the kill
        happens now; `defer(self)` hands the rest (the exit, the cgroup) to the slot, which does it
        before its next launch.  The output pipe closes itself once its last writer is gone."""
        if self.group is not None:
            self.peak_mb = self.group.peak_memory_mb()   # a high-water mark: as before the kill
        self.kill(sweep=self.defer is None)      # deferred: the slot removes the cgroup later
        self.sock.close()
        if self.defer is not None:
            self.defer(self)
        else:
            self._release()

    def _release(self) -> None:
        self.wait(10)
        self._reader.join(timeout=2)
        if self.group is not None:
            self.group.remove()
        for cleanup in self.cleanups:
            cleanup()


class Sandbox:
    """A way to run the student runner in isolation.  Subclasses build the command line."""

    name = "base"
    isolated = True
    stages_data = False        # copies the work dir's files to a neutral path for the sandbox
    needs_cgroups = False      # its pids and memory limits are the grader's cgroups (no runtime's)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when this backend works on this machine, else why not (actionable)."""
        return None

    def check_limits(self, *, unsafe_no_cgroups: bool = False) -> None:
        """SandboxError, before anything is graded, where this backend's pids and memory limits
        cannot be set here (unless `unsafe_no_cgroups`)."""
        if self.needs_cgroups and not unsafe_no_cgroups and not cgroup.usable():
            raise SandboxError(cgroup.refusal())

    def command(self, spec: LaunchSpec, fd: int) -> tuple[list[str], dict | None]:
        """(argv, env) that starts the runner with the judge's socket on `fd`."""
        raise NotImplementedError

    def preexec(self, spec: LaunchSpec, group, channel: int):
        """The function the child runs before it execs: the cgroup, the rlimits, the socket."""
        return rlimit_setter(spec.limits, group, channel, gpu=spec.gpu is not None)

    def stopper(self, argv: list[str]):
        """A callable that stops what `argv` started when killing its process is not enough."""
        return None

    def launch(self, spec: LaunchSpec) -> SandboxProcess:
        if self.stages_data:
            try:
                stage, stage_mb = staging.data(spec.workdir)
            except OSError as exc:
                raise SandboxError(f"the {self.name} sandbox could not start: its work dir could "
                                   f"not be staged ({exc.strerror}: {exc.filename})") from exc
            spec = dataclasses.replace(spec, stage=stage, stage_mb=stage_mb)
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        group = cgroup.create(pids_max=spec.limits.nproc, memory_mb=spec.limits.memory_mb,
                              label=spec.run_id)
        if group is None and self.needs_cgroups and not spec.unsafe_no_cgroups:
            parent.close()
            child.close()
            if spec.stage is not None:
                staging.remove(spec.stage)
            raise SandboxError(cgroup.refusal())
        try:
            argv, env = self.command(spec, CHANNEL_FD)
            # close_fds=False: Python's descriptors are not inheritable, so the child gets 0-2 and
            # the socket that preexec places at CHANNEL_FD, nothing else.
            proc = subprocess.Popen(
                argv, env=env, cwd=spec.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, close_fds=False, start_new_session=True,
                preexec_fn=self.preexec(spec, group, child.fileno()))
        except (OSError, subprocess.SubprocessError) as exc:
            parent.close()
            if group is not None:
                group.remove()
            if spec.stage is not None:
                staging.remove(spec.stage)
            raise SandboxError(f"could not start the {self.name} sandbox: {exc}") from exc
        finally:
            child.close()
        proc = SandboxProcess(proc, parent, self.name, group, self.stopper(argv))
        proc.limits = _cold_limits(spec.limits, group)
        if spec.stage is not None:
            proc.cleanups.append(lambda: staging.remove(spec.stage))
        return proc

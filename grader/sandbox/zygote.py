"""The host side of a worker slot's warm zygote (the fork server is grader/student/zygote.py).

One zygote per worker process: it starts inside a bubblewrap jail the first time a submission is
launched, pays for the interpreter and `import torch` once, and then forks every submission of the
slot into namespaces of its own.  Each submission still gets its own cgroups (created here, joined
by the child before it unshares), its own /tmp, work dir, PID, network and IPC namespaces, and the
same limits and identity as a cold sandbox.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from grader.errors import SandboxError
from grader.sandbox import cgroup, gpu, staging
from grader.sandbox.base import (CHANNEL_FD, START_TIMEOUT, LaunchSpec, SandboxProcess, base_env,
                                 python_paths)
from grader.sandbox.binds import CLEAN_ENV, system_binds
from grader.student import seccomp
from grader.student.boot import PKG_ROOT as SANDBOX_PKG_ROOT, RUN_DIR, WARM_ENV
from grader.student.boot import WORKSPACE as SANDBOX_WORKDIR

# CHROOT: setns into a mount namespace; CHOWN: hand the copied data files of /workspace to the
# student
CAPS = ("CAP_SYS_ADMIN", "CAP_SYS_CHROOT", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN")
BOOT = ("import sys; sys.path.insert(0, sys.argv[2]); "
        "from grader.student.zygote import serve; serve(int(sys.argv[1]))")


def supported() -> bool:
    """Whether a zygote can run here: it needs root (namespaces and mounts without a user
    namespace)."""
    return os.geteuid() == 0 and hasattr(os, "pidfd_open") and shutil.which("bwrap") is not None


class ZygoteChild:
    """One forked submission, seen through the zygote's control channel (a Popen look-alike)."""

    pid = None

    def __init__(self, zygote: "Zygote", stdout) -> None:
        self.zygote, self.stdout = zygote, stdout
        self.returncode: int | None = None

    def _take(self, timeout: float | None) -> None:
        msg = self.zygote.receive(timeout)
        if msg is None:
            return
        if msg.get("op") in ("exited", "lost"):
            self.returncode = int(msg.get("status", -9))

    def poll(self) -> int | None:
        if self.returncode is None:
            self._take(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired("zygote child", timeout)
            self._take(left)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            self.zygote.send({"op": "kill"})


class Zygote:
    """A warm fork server in a bubblewrap jail, for submissions whose work dirs share one parent."""

    def __init__(self, work_parent: Path, gpu: str | None, unsafe_no_cgroups: bool = False,
                 lazy: bool = False) -> None:
        self.work_parent, self.gpu, self.unsafe = work_parent, gpu, unsafe_no_cgroups
        self.lazy = lazy     # ready after `import torch`, without the warm-up (see student.zygote)
        self.key = (str(work_parent), gpu, unsafe_no_cgroups)
        # the batch's run id in its name
        self.group = cgroup.create_parent(os.environ.get("GRADER_RUN", ""))
        if self.group is None and not unsafe_no_cgroups:
            raise SandboxError(cgroup.refusal())
        self.ctrl, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.child: ZygoteChild | None = None
        self._pending: list = []             # the last submission's exit, still to be waited for
        self._stale: list = []               # cgroups of finished submissions, still to be removed
        self.probes: set = set()             # (name, source) the zygote has defined already
        self._largest: int | str | None = None   # pid of its largest process (for resident_mb)
        self._log = bytearray()
        try:
            self.proc = subprocess.Popen(
                self._argv(), env=_clean_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, close_fds=False, start_new_session=True,
                preexec_fn=lambda: _zygote_preexec(child.fileno()))
        except OSError as exc:
            self.ctrl.close()
            raise SandboxError(f"could not start the bwrap zygote: {exc}") from exc
        finally:
            child.close()
        threading.Thread(target=self._drain, daemon=True).start()
        ready = self.receive(START_TIMEOUT)
        if not ready or ready.get("op") != "ready":
            self.close()
            raise SandboxError("the bwrap zygote did not start: " + self.log_tail())
        self.huge_mb = int(ready.get("huge_mb") or 0)     # of its heap, backed by 2 MiB pages

    def _argv(self) -> list[str]:
        exe, _, _ = python_paths()
        argv = [shutil.which("bwrap") or "bwrap",
                "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--die-with-parent", "--new-session", "--hostname", "sandbox", "--cap-drop", "ALL"]
        for cap in CAPS:
            argv += ["--cap-add", cap]
        argv += ["--size", str(16 << 20), "--tmpfs", "/tmp",   # first: Python may live under /tmp
                 *system_binds(self.gpu), "--bind", str(self.work_parent), f"{RUN_DIR}/work",
                 "--dir", f"{RUN_DIR}/oldtmp"]
        if self.group is not None:
            for name, d in sorted(self.group.dirs.items()):
                if name != "memory" or "unified" not in self.group.dirs:
                    argv += ["--bind", str(d), f"{RUN_DIR}/cgroup/{name}"]
        argv += ["--dir", SANDBOX_WORKDIR, "--remount-ro", "/", "--chdir", "/", "--clearenv"]
        for key, value in {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp",
                           "USER": "sandbox", "LOGNAME": "sandbox",
                           "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
                           "MKL_NUM_THREADS": "1",
                           "MPLBACKEND": "Agg", "CUDA_VISIBLE_DEVICES": self.gpu or "",
                           **({WARM_ENV: "lazy"} if self.lazy else {}),
                           # read by the dynamic loader at start only: the zygote's is its
                           # children's
                           **({"LD_LIBRARY_PATH": ":".join(gpu.library_dirs())}
                              if self.gpu is not None and gpu.library_dirs() else {})}.items():
            argv += ["--setenv", key, value]
        return argv + ["--", exe, "-I", "-c", BOOT, str(CHANNEL_FD), SANDBOX_PKG_ROOT]

    def _drain(self) -> None:
        while chunk := self.proc.stdout.read1(65536):
            self._log = (self._log + chunk)[-8192:]

    def log_tail(self) -> str:
        lines = self._log.decode("utf-8", "replace").strip().splitlines()
        return " | ".join(lines[-4:]) or "(no output)"

    # -- control channel ------------------------------------------------------------------------
    def send(self, msg: dict, fds: list[int] = ()) -> None:
        try:
            socket.send_fds(self.ctrl, [json.dumps(msg).encode()], list(fds))
        except OSError:
            pass          # a dead zygote shows up as EOF on the next receive

    def receive(self, timeout: float | None) -> dict | None:
        """The next message, None when none came in `timeout`, {"op": "lost"} when the zygote is
        gone."""
        if self.ctrl.fileno() < 0:
            return {"op": "lost", "status": -9}
        ready, _, _ = select.select([self.ctrl], [], [], timeout)
        if not ready:
            return None
        try:
            data = self.ctrl.recv(1 << 16)
            return json.loads(data) if data else {"op": "lost", "status": -9}
        except (OSError, ValueError):
            return {"op": "lost", "status": -9}

    def alive(self) -> bool:
        self.settle()
        return self.proc.poll() is None and (self.child is None or self.child.poll() is not None)

    def settle(self, wait: bool = False) -> None:
        """Take the last submission's exit report and remove the cgroups of finished submissions;
        a group whose processes are still exiting is left for later, unless `wait`."""
        while self._pending:
            proc = self._pending.pop(0)
            proc.wait(10)
            if proc.group is not None:
                self._stale.append(proc.group)
        self._stale = [g for g in self._stale if not g.try_remove()]
        if wait:
            for group in self._stale:
                group.remove()
            self._stale = []

    # -- one submission -------------------------------------------------------------------------
    def spawn(self, spec: LaunchSpec) -> SandboxProcess:
        self.settle()
        limits = spec.limits
        # The zygote makes each submission's cgroup under the slot's group and moves the student
        # process in ahead of time (a migration waits for an RCU grace period: ~10 ms); it sets the
        # limits below before the student is let go, and names the group in its reply.
        new_probes = [list(p) for p in spec.probes if tuple(p) not in self.probes]
        self.probes.update(tuple(p) for p in new_probes)
        request = {"op": "spawn", "work": spec.workdir.name,
                   "env": base_env(spec, home=SANDBOX_WORKDIR),
                   "probes": new_probes,
                   "cgroup": {"pids_max": limits.nproc, "memory_mb": limits.memory_mb,
                              "required": not self.unsafe},
                   "limits": {"cpu_s": limits.cpu_s, "fsize_mb": limits.fsize_mb,
                              "nofile": limits.nofile,
                              "tmp_mb": limits.tmp_mb,
                              "work_mb": limits.tmp_mb + staging.data_size_mb(spec.workdir),
                              # a pids cgroup holds each submission; RLIMIT_NPROC counts all of uid
                              # 65534 on the host, so it is only the fallback
                              "nproc": 4096 if self.group is not None else limits.nproc}}
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        try:
            self.send(request, [child.fileno(), out_w])
        finally:
            child.close()
            os.close(out_w)
        reply = self.receive(10.0)
        if not reply or reply.get("op") != "started":
            parent.close()
            os.close(out_r)
            self.close()
            raise SandboxError("the bwrap zygote did not fork the submission: " + self.log_tail())
        group = None
        name = str(reply.get("cgroup") or "")
        if self.group is not None and name.startswith("sub-") and "/" not in name:
            group = cgroup.Cgroup({c: d / name for c, d in self.group.dirs.items()})
        self.child = ZygoteChild(self, os.fdopen(out_r, "rb"))
        proc = SandboxProcess(self.child, parent, "bwrap", group, warm=True)
        proc.limits = reply.get("limits") if isinstance(reply.get("limits"), dict) else {}
        proc.host_rss_mb = self.resident_mb()
        proc.defer = self._pending.append
        return proc

    def resident_mb(self) -> float:
        """Peak resident memory of the zygote (the largest process under the bwrap jail), MiB.
        The process tree is walked once; later calls read that process's own counter."""
        if self._largest is not None:
            peak = _peak_kb(self._largest)
            if peak is not None:
                return peak / 1024
        best, best_pid, todo = 0, None, [self.proc.pid]
        for _ in range(4):
            children = []
            for pid in todo:
                try:
                    for task in Path(f"/proc/{pid}/task").iterdir():
                        children += (task / "children").read_text().split()
                except OSError:
                    continue
                peak = _peak_kb(pid)
                if peak is not None and peak > best:
                    best, best_pid = peak, pid
            todo = children
        self._largest = best_pid
        return best / 1024

    def close(self) -> None:
        try:
            self.settle(wait=True)
        finally:
            self.ctrl.close()
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        if self.group is not None:
            for d in set(self.group.dirs.values()):   # a spare's group, made ahead and never used
                for sub in d.glob("sub-*"):
                    cgroup.Cgroup({"x": sub}).remove()
            self.group.remove()


def _zygote_preexec(channel: int) -> None:
    """In the zygote's bwrap before it execs: a fresh session keyring, the control socket."""
    seccomp.fresh_session_keyring()
    os.dup2(channel, CHANNEL_FD)


def _clean_env() -> dict:
    return dict(CLEAN_ENV)


_slot: Zygote | None = None
_slot_lock = threading.Lock()


def for_slot(spec: LaunchSpec) -> Zygote:
    """This process's zygote for `spec`, started (or restarted) when needed."""
    return _for_key(spec.workdir.parent, spec.gpu, spec.unsafe_no_cgroups)


def _for_key(work_parent: Path, gpu_index: str | None, unsafe: bool = False,
             lazy: bool = False) -> Zygote:
    global _slot
    with _slot_lock:       # a zygote started ahead (prestart) is waited for, not started twice
        key = (str(work_parent), gpu_index, unsafe)
        if _slot is not None and (_slot.key != key or not _slot.alive()):
            _slot.close()
            _slot = None
        if _slot is None:
            _slot = Zygote(work_parent, gpu_index, unsafe, lazy=lazy)
        return _slot


def prestart(work_parent: Path, gpu_index: str | None, unsafe: bool = False,
             lazy: bool = False) -> threading.Thread:
    """Start this process's zygote in the background, before the first submission asks for it
    (its interpreter, `import torch` and warm-up then overlap the judge's own start).  A zygote that
    fails to start here is started again, and its failure reported, by that first submission.
    `unsafe` is the batch's --unsafe-no-cgroups, so that the zygote started is the one it uses;
    `lazy` (a slot with one submission to grade) skips the warm-up, which only later forks repay."""
    def start() -> None:
        try:
            _for_key(work_parent, gpu_index, unsafe, lazy)
        except SandboxError:
            return
        threading.Event().wait()     # bwrap --die-with-parent is tied to the thread that started it

    thread = threading.Thread(target=start, name="zygote prestart", daemon=True)
    thread.start()
    return thread


@atexit.register
def shutdown() -> None:
    """Stop this process's zygote (its jail dies with it)."""
    global _slot
    if _slot is not None:
        _slot.close()
        _slot = None


__all__ = ["supported", "for_slot", "prestart", "shutdown", "Zygote", "ZygoteChild"]


def _peak_kb(pid) -> int | None:
    """VmHWM of process `pid`, KiB (None when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None

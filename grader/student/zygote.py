"""The warm fork server of one worker slot: imports torch once, then forks one sandboxed student
process per submission.

It runs inside a bubblewrap jail (no network, read-only system and Python, its own PID namespace)
as root with only CAP_SYS_ADMIN, CAP_SETUID and CAP_SETGID, and never runs student code or a
multi-threaded torch region itself (libgomp is not fork-safe once a parallel region has run).  For
each submission:

    zygote --fork--> A: joins the submission's cgroups, unshares mount/PID/net/IPC/UTS namespaces,
                        binds its own work dir at /workspace, mounts a fresh /tmp and /dev/shm and
                        unmounts every other work dir and the cgroup trees
           --fork--> B: PID 1 of the new namespace; mounts its /proc; reaps; when the student exits
                        it exits too, which kills everything left in the namespace
           --fork--> C: the student: own session, rlimits, uid/gid 65534 with no groups and no
                        capabilities, no_new_privs, a seccomp filter refusing new user namespaces,
                        a clean environment; then the student runner in this warm interpreter.

Control channel (a SOCK_SEQPACKET socket on the descriptor given on the command line), one JSON
object per packet:

    -> ready {pid}
    <- spawn {work, cgroups, env, limits, cwd}  + descriptors [judge socket, output pipe]
    -> started {}             -> exited {status}   (status as subprocess.Popen.returncode)
    <- kill {}
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import select
import signal
import socket
import struct
import sys

RUN_DIR = "/run/torchgrader"
WORK_MOUNT = RUN_DIR + "/work"
CGROUP_MOUNT = RUN_DIR + "/cgroup"
WORKSPACE = "/workspace"
NOBODY = 65534
CHANNEL_FD = 3

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = (
    0x00020000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 38, 22

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), f"mount {source or ''} on {target}")


# -- seccomp: no new user namespaces ---------------------------------------------------------------
class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def _no_user_namespaces() -> None:
    """Refuse clone/unshare with CLONE_NEWUSER (EPERM) and clone3 (ENOSYS, so libc falls back to
    clone).  x86-64 only; elsewhere the other layers stand alone."""
    if platform.machine() != "x86_64":
        return
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
    prog = [
        (ld, 0, 0, 4),                      # 0 arch
        (jeq, 1, 0, 0xC000003E),            # 1 x86-64 -> 3
        (ret, 0, 0, enosys),                # 2 any other ABI
        (ld, 0, 0, 0),                      # 3 syscall number
        (jge, 8, 0, 0x40000000),            # 4 x32 ABI -> 13
        (jeq, 7, 0, 435),                   # 5 clone3 -> 13
        (jeq, 2, 0, 272),                   # 6 unshare -> 9
        (jeq, 1, 0, 56),                    # 7 clone -> 9
        (ret, 0, 0, allow),                 # 8
        (ld, 0, 0, 16),                     # 9 flags (first argument, low word)
        (jset, 1, 0, CLONE_NEWUSER),        # 10 -> 12
        (ret, 0, 0, allow),                 # 11
        (ret, 0, 0, eperm),                 # 12
        (ret, 0, 0, enosys),                # 13
    ]
    arr = (_SockFilter * len(prog))(*[_SockFilter(*i) for i in prog])
    fprog = _SockFprog(len(prog), arr)
    _check(_libc.prctl(PR_SET_SECCOMP, 2, ctypes.byref(fprog), 0, 0), "seccomp")


# -- the three processes of one submission ---------------------------------------------------------
def _under_tmp() -> list[str]:
    """Read-only paths of the jail that live under /tmp (a venv in a checkout there, say)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
             *os.environ.get("LD_LIBRARY_PATH", "").split(":")}
    return sorted(p for p in paths if p.startswith("/tmp/") and os.path.isdir(p))


def _fresh_tmp(size_mb: int) -> None:
    """An empty /tmp of `size_mb` for this submission, with the jail's read-only paths under /tmp
    bound back in."""
    keep = _under_tmp()
    if keep:
        _mount("/tmp", f"{RUN_DIR}/oldtmp", None, MS_BIND | MS_REC)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size_mb}m")
    for path in keep:
        os.makedirs(path, mode=0o755, exist_ok=True)
        os.chmod(path, 0o755)
        _mount(f"{RUN_DIR}/oldtmp{path[len('/tmp'):]}", path, None, MS_BIND | MS_REC)
        _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _enter_namespaces(req: dict) -> None:
    """A: cgroups, namespaces and the submission's own view of the file system."""
    for procs in req.get("cgroups", []):
        with open(procs, "w") as f:
            f.write("0")
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    work = os.path.join(WORK_MOUNT, os.path.basename(req["work"]))
    _mount(work, WORKSPACE, None, MS_BIND)
    _mount(None, WORKSPACE, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV)
    tmp_mb = int(req["limits"]["tmp_mb"])
    _fresh_tmp(tmp_mb)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={tmp_mb}m")
    with open("/proc/self/mountinfo") as f:
        targets = [line.split()[4] for line in f]
    for target in sorted((t for t in targets if t.startswith(RUN_DIR + "/")), key=len, reverse=True):
        _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")
    _libc.sethostname(b"sandbox", 7)


def _become_student(req: dict, channel: int, out: int) -> None:
    """C: limits, identity and filters of the student process; returns ready to run the notebook."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.dup2(channel, CHANNEL_FD)
    os.set_inheritable(CHANNEL_FD, True)
    os.closerange(CHANNEL_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)
    os.chdir(req.get("cwd", WORKSPACE))
    os.environ.clear()
    os.environ.update(req["env"])
    limits = req["limits"]       # RLIMIT_AS: set by the runner (GRADER_RLIMIT_AS_MB), as in a cold sandbox
    values = {
        resource.RLIMIT_CPU: int(limits["cpu_s"]),
        resource.RLIMIT_FSIZE: int(limits["fsize_mb"]) << 20,
        resource.RLIMIT_NOFILE: int(limits["nofile"]),
        resource.RLIMIT_NPROC: int(limits["nproc"]),
        resource.RLIMIT_CORE: 0,
    }
    for res, val in values.items():
        resource.setrlimit(res, (val, val))
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)       # from uid 0: permitted and effective capabilities go
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)       # _LINUX_CAPABILITY_VERSION_3, this process
    _check(_libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")   # inheritable ones too
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _no_user_namespaces()
    sys.argv = ["student"]


def _child(req: dict, channel: int, out: int, status_w: int, zygote: int) -> None:
    """A (this process), then B and C: never returns."""
    try:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != zygote:
            os._exit(1)
        _enter_namespaces(req)
        init = os.fork()
        if init == 0:                                   # B: PID 1 of the namespace
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            student = os.fork()
            if student == 0:                            # C: the student
                os.close(status_w)
                _become_student(req, channel, out)
                from grader.student import runner
                runner.main(CHANNEL_FD)
                os._exit(0)
            os.close(channel)
            os.close(out)
            while True:
                pid, status = os.wait()
                if pid == student:
                    os.write(status_w, struct.pack("i", status))
                    os._exit(0)
        os.close(channel)
        os.close(out)
        os.close(status_w)
        os.waitpid(init, 0)
        os._exit(0)
    except BaseException as exc:   # noqa: BLE001 - reported on the output the judge keeps
        try:
            os.write(out, f"torchgrader: the sandbox could not be set up: {exc}\n".encode())
        finally:
            os._exit(127)


# -- the server ------------------------------------------------------------------------------------
def _warm_up(compute: bool) -> None:
    """Import torch and what notebooks and the first optimizer step import lazily, single-threaded.

    `compute` also runs a backward pass, two optimizer steps and a DataLoader: never in a GPU slot,
    where the autograd engine's first backward initialises the CUDA driver, after which no forked
    child can use the GPU (seen on an H100: "CUDA error: initialization error")."""
    import torch

    torch.set_num_threads(1)
    from grader.student import runner  # noqa: F401

    try:      # only a head start: a failure here costs the student process the import later
        import torch._dynamo  # noqa: F401 - what the first optimizer step imports
        import torch.nn.functional  # noqa: F401
        import torch.optim  # noqa: F401
        import torch.utils.data

        if not compute:
            return
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
        for opt in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), torch.optim.Adam(model.parameters())):
            loss = torch.nn.functional.mse_loss(model(torch.ones(2, 4)), torch.zeros(2, 1))
            opt.zero_grad()
            loss.backward()
            opt.step()
        data = torch.utils.data.TensorDataset(torch.arange(8.0))
        list(torch.utils.data.DataLoader(data, batch_size=4, shuffle=True))
    except Exception as exc:  # noqa: BLE001
        print(f"torchgrader zygote: warm-up incomplete: {exc!r}", file=sys.stderr)


def _send(ctrl: socket.socket, msg: dict) -> None:
    ctrl.send(json.dumps(msg).encode())


def _supervise(ctrl: socket.socket, pid: int, status_r: int) -> None:
    """Wait for child A while answering `kill`; report how the student process ended."""
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([ctrl, pidfd], [], [])
            if ctrl in ready:
                data = ctrl.recv(1 << 16)
                if not data:                  # the worker is gone: so is everything of ours
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    sys.exit(0)
                if json.loads(data).get("op") == "kill":
                    os.kill(pid, signal.SIGKILL)
            if pidfd in ready:
                break
    finally:
        os.close(pidfd)
    _, a_status = os.waitpid(pid, 0)
    os.set_blocking(status_r, False)
    try:
        raw = os.read(status_r, 4)
    except BlockingIOError:
        raw = b""
    if len(raw) == 4:
        status = os.waitstatus_to_exitcode(struct.unpack("i", raw)[0])
    elif os.WIFEXITED(a_status) and os.WEXITSTATUS(a_status) == 127:
        status = 127
    else:
        status = -signal.SIGKILL
    _send(ctrl, {"op": "exited", "status": status})


def serve(fd: int) -> None:
    ctrl = socket.socket(fileno=fd)
    _warm_up(compute=os.environ.get("CUDA_VISIBLE_DEVICES", "") in ("", "-1"))
    _send(ctrl, {"op": "ready", "pid": os.getpid()})
    me = os.getpid()
    while True:
        msg, fds, _flags, _addr = socket.recv_fds(ctrl, 1 << 20, 4)
        if not msg:
            return
        req = json.loads(msg)
        if req.get("op") != "spawn":
            for f in fds:
                os.close(f)
            continue
        channel, out = fds
        status_r, status_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            ctrl.close()
            os.close(status_r)
            _child(req, channel, out, status_w, me)
        for f in (channel, out, status_w):
            os.close(f)
        _send(ctrl, {"op": "started"})
        try:
            _supervise(ctrl, pid, status_r)
        finally:
            os.close(status_r)


if __name__ == "__main__":
    serve(int(sys.argv[1]))

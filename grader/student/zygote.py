"""The warm fork server of one worker slot: imports torch once, then forks one sandboxed student
process per submission.

It runs inside a bubblewrap jail (no network, read-only system and Python, its own PID namespace)
as root with only CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_SETUID, CAP_SETGID and CAP_CHOWN, and never
runs student code or a multi-threaded torch region itself (libgomp is not fork-safe once a parallel
region has run).  Before it imports torch it forks a small nursery, which keeps one jail ready ahead of time:

    nursery --fork--> A: unshares mount/PID/net/IPC/UTS namespaces, mounts a fresh /tmp and
                         /dev/shm; holds the jail open
            A --fork--> B: PID 1 of the new PID namespace; mounts its /proc; reaps orphans; when it
                         is killed, so is everything in the namespace

Ahead of each submission (at the first request, then while the previous student runs) the zygote
takes the ready jail, enters its PID namespace, forks the student C and steps back out, so the one
large process forked per submission is the student itself:

    zygote --fork--> C: enters the jail's mount/net/IPC/UTS namespaces; the zygote moves it into a
                        cgroup of its own; it waits for its submission.  Then the zygote sets the
                        group's limits (limits.py, failing closed) and C attaches its own
                        /workspace (a sized tmpfs the zygote made detached and filled with the
                        work dir's files: the jail has no other work dir, nor the cgroup trees); its own session, rlimits, uid/gid 65534 with no groups and no
                        capabilities, a fresh session keyring, no_new_privs, the seccomp filter of
                        grader/student/seccomp.py, a clean environment; then the student runner in this warm interpreter.
                        When C ends or is killed, the zygote kills B and the namespace goes with it.

Control channel (a SOCK_SEQPACKET socket on the descriptor given on the command line), one JSON
object per packet:

    -> ready {pid, huge_mb}
    <- spawn {work, cgroup, env, limits, cwd, probes}  + descriptors [judge socket, output pipe]
    -> started {cgroup, limits}   -> exited {status}   (status as subprocess.Popen.returncode)
    <- kill {}                -> exited {status: -9} at once; the zygote reaps the student later
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import resource
import select
import signal
import socket
import struct
import sys

from grader.student import limits as limits_mod
from grader.student import seccomp
from grader.student.boot import CHANNEL_FD, NOBODY, RUN_DIR, WORKSPACE

WORK_MOUNT = RUN_DIR + "/work"
CGROUP_MOUNT = RUN_DIR + "/cgroup"

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = (
    0x00020000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
MNT_DETACH = 2
SYS_MOVE_MOUNT, SYS_FSOPEN, SYS_FSCONFIG, SYS_FSMOUNT = 429, 430, 431, 432   # on every architecture
AT_FDCWD, MOVE_MOUNT_F_EMPTY_PATH = -100, 0x4
FSOPEN_CLOEXEC, FSMOUNT_CLOEXEC, FSCONFIG_SET_STRING, FSCONFIG_CMD_CREATE = 1, 1, 1, 6
MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 0x2, 0x4
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 38, 22

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), f"mount {source or ''} on {target}")


def _hide_keys() -> None:
    """/proc/keys and /proc/key-users empty: they list the descriptions of every key uid 65534 may
    view, including keys left in its user keyring by processes outside the grader's control."""
    for path in ("/proc/keys", "/proc/key-users"):
        if os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND)
            _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


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


def _make_jail(tmp_mb: int, report: int) -> None:
    """A, in a fork of the nursery: the namespaces and mounts shared by every process of one
    submission, then B.  Writes B's PID (as the nursery sees it) to `report`; never returns."""
    try:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        _fresh_tmp(tmp_mb)
        if os.path.isdir("/dev/shm"):
            _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={tmp_mb}m")
        _libc.sethostname(b"sandbox", 7)
        _unmount_run_dir()      # work dirs and cgroup trees: C gets its own work dir as a detached mount
        mounted_r, mounted_w = os.pipe()
        init = os.fork()
        if init == 0:                                   # B: PID 1 of the namespace
            try:
                _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                os.close(report)
                _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
                _hide_keys()
                os.write(mounted_w, b"1")
                _reap_forever()
            except BaseException:  # noqa: BLE001 - A reports that B never said it was ready
                os._exit(1)
        os.close(mounted_w)
        ok = os.read(mounted_r, 1)
        os.write(report, struct.pack("i", init if ok == b"1" else -1))
        os.close(report)
        os.waitpid(init, 0)
        os._exit(0)
    except BaseException as exc:   # noqa: BLE001 - the nursery passes it on to the judge
        try:
            os.write(report, struct.pack("i", -1) + f"{exc}".encode()[:500])
        finally:
            os._exit(127)


def _reap_forever() -> None:
    """B's life: reap whatever is orphaned into the namespace until it is killed."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        signal.sigwait({signal.SIGCHLD})


def _nursery(sock: socket.socket) -> None:
    """Keeps one jail ready: answers `jail {tmp_mb}` with {init} (or {error}) and makes the next."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)       # the As are reaped by the kernel
    ready: tuple[int, dict] | None = None

    def make(tmp_mb: int) -> dict:
        r, w = os.pipe()
        if os.fork() == 0:
            sock.close()
            os.close(r)
            _make_jail(tmp_mb, w)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            raw = f.read()
        init = struct.unpack("i", raw[:4])[0] if len(raw) >= 4 else -1
        if init > 0:
            return {"init": init}
        return {"error": raw[4:].decode("utf-8", "replace") or "the jail's PID 1 did not start"}

    while True:
        msg = sock.recv(1 << 12)
        if not msg:
            os._exit(0)
        tmp_mb = int(json.loads(msg)["tmp_mb"])
        if ready is None or ready[0] != tmp_mb:
            if ready is not None and "init" in ready[1]:
                _kill(ready[1]["init"])
            ready = (tmp_mb, make(tmp_mb))
        sock.send(json.dumps(ready[1]).encode())
        ready = (tmp_mb, make(tmp_mb))                  # while the student runs


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _setns(path: str, nstype: int) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(_libc.setns(fd, nstype), f"setns {path}")
    finally:
        os.close(fd)


def _join_jail(init: int) -> None:
    """C, before its submission is known: the jail's mount, network, IPC and UTS namespaces."""
    for ns, flag in (("net", CLONE_NEWNET), ("ipc", CLONE_NEWIPC), ("uts", CLONE_NEWUTS),
                     ("mnt", CLONE_NEWNS)):           # mount last: until then /proc is still the zygote's
        _setns(f"/proc/{init}/ns/{ns}", flag)


def _unmount_run_dir() -> None:
    with open("/proc/self/mountinfo") as f:
        targets = [line.split()[4] for line in f]
    for target in sorted((t for t in targets if t.startswith(RUN_DIR + "/")), key=len, reverse=True):
        _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def _sys(ret: int, what: str) -> int:
    if ret < 0:
        _check(-1, what)
    return ret


def _workspace_mount(size_mb: int) -> int:
    """A detached tmpfs of `size_mb` (fsopen/fsmount), owned by the zygote until its files are
    copied in (it has no CAP_DAC_OVERRIDE): a mount of its own caps the work dir's total, and its
    mountinfo entry names no host path."""
    fs = _sys(_libc.syscall(SYS_FSOPEN, b"tmpfs", FSOPEN_CLOEXEC), "fsopen tmpfs")
    try:
        for key, value in (("size", f"{size_mb}m"), ("mode", "0755")):
            _sys(_libc.syscall(SYS_FSCONFIG, fs, FSCONFIG_SET_STRING, key.encode(), value.encode(), 0),
                 f"tmpfs {key}")
        _sys(_libc.syscall(SYS_FSCONFIG, fs, FSCONFIG_CMD_CREATE, None, None, 0), "tmpfs create")
        return _sys(_libc.syscall(SYS_FSMOUNT, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV),
                    "fsmount")
    finally:
        os.close(fs)


def _copy_into(src: str, dst_fd: int) -> None:
    """Copy the files and folders of `src` into the directory `dst_fd`, owned by the student."""
    for entry in os.scandir(src):
        if entry.is_dir(follow_symlinks=False):
            os.mkdir(entry.name, 0o755, dir_fd=dst_fd)
            sub = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dst_fd)
            try:
                os.fchown(sub, NOBODY, NOBODY)
                _copy_into(entry.path, sub)
            finally:
                os.close(sub)
        elif entry.is_file(follow_symlinks=False):
            with open(entry.path, "rb") as r:
                w = os.open(entry.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644,
                            dir_fd=dst_fd)
                try:
                    os.fchown(w, NOBODY, NOBODY)
                    while chunk := r.read(1 << 20):
                        os.write(w, chunk)
                finally:
                    os.close(w)


def _detached_work_dir(name: str, size_mb: int) -> int:
    """The zygote's side: the submission's /workspace, a detached tmpfs holding a copy of its work
    dir's files (the data files), for C to attach."""
    fd = _workspace_mount(size_mb)
    try:
        _copy_into(os.path.join(WORK_MOUNT, os.path.basename(name)), fd)
        os.chown(".", NOBODY, NOBODY, dir_fd=fd)     # then the student's, as its files are
    except BaseException:
        os.close(fd)
        raise
    return fd


def _cgroup_dirs(name: str) -> list[str]:
    try:
        return [os.path.join(CGROUP_MOUNT, c, name) for c in sorted(os.listdir(CGROUP_MOUNT))]
    except FileNotFoundError:           # no cgroups here: rlimits stand alone
        return []


def _new_cgroup(pid: int) -> str | None:
    """A group of its own under the slot's group for student `pid`, which it joins now."""
    name = "sub-" + os.urandom(6).hex()
    dirs = _cgroup_dirs(name)
    if not dirs:
        return None
    for d in dirs:
        os.mkdir(d)
    for d in dirs:
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(str(pid))
    return name


def _limit_cgroup(name: str | None, spec: dict) -> dict:
    """The submission's limits on its group, as applied; LimitError when they cannot be set and
    the host did not allow grading without them."""
    if name is None and spec.get("required", True) is False:
        return {}
    return limits_mod.set_cgroup(_cgroup_dirs(name) if name else [], int(spec["pids_max"]),
                                 int(spec["memory_mb"]))


def _remove_cgroup(name: str | None) -> None:
    for d in _cgroup_dirs(name) if name else []:
        try:
            os.rmdir(d)
        except OSError:
            pass


def _claim_jail(work_fd: int) -> None:
    """C, once its submission is known: its own work dir at /workspace (cgroups: joined by the zygote)."""
    _check(_libc.syscall(SYS_MOVE_MOUNT, work_fd, b"", AT_FDCWD, WORKSPACE.encode(), MOVE_MOUNT_F_EMPTY_PATH),
           "move_mount of the work dir")
    os.close(work_fd)
    _mount(None, WORKSPACE, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV)


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
    limits = req["limits"]       # RLIMIT_AS: set by the runner (its run message), as in a cold sandbox
    limits_mod.set_rlimits(limits_mod.rlimit_values(
        cpu_s=limits["cpu_s"], fsize_mb=limits["fsize_mb"], nofile=limits["nofile"], nproc=limits["nproc"]))
    seccomp.fresh_session_keyring()            # before the drop: no key of the zygote's session
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)       # from uid 0: permitted and effective capabilities go
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)       # _LINUX_CAPABILITY_VERSION_3, this process
    _check(_libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")   # inheritable ones too
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    seccomp.install_filter()
    sys.argv = ["student"]


def _student(init: int, waiting: socket.socket) -> None:
    """C: forked ahead into a ready jail, it waits for its submission; never returns."""
    try:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _join_jail(init)
        from grader.student import runner
        runner.prepare()
        msg, fds, _flags, _addr = socket.recv_fds(waiting, 1 << 20, 3)
        waiting.close()
        if not msg or len(fds) != 3:
            os._exit(0)
    except BaseException:  # noqa: BLE001 - no output to report on yet: the judge sees exit status 127
        os._exit(127)
    req, (channel, out, work_fd) = json.loads(msg), fds
    try:
        _claim_jail(work_fd)
        _become_student(req, channel, out)
    except BaseException as exc:   # noqa: BLE001 - reported on the output the judge keeps
        try:
            os.write(out, f"torchgrader: the sandbox could not be set up: {exc}\n".encode())
        finally:
            os._exit(127)
    runner.main(CHANNEL_FD)
    os._exit(0)


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


MADV_COLLAPSE = 25
_HUGE = 2 << 20


def _collapse_heap() -> int:
    """Back the zygote's private anonymous memory (the Python heap, torch's state) with 2 MiB pages
    where the kernel can (MADV_COLLAPSE, Linux 6.1+; best effort, whatever the THP setting says).
    A fork then copies one page-table entry per 2 MiB instead of 512, and a student's exit frees as
    few; a student's first write into such a page still copies only 4 KiB of it.  The regions'
    own THP setting is left alone, so nothing faults in 2 MiB pages later.  Returns the MiB
    collapsed."""
    madvise = _libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    done = 0
    try:
        with open("/proc/self/maps") as f:
            maps = f.read().splitlines()
    except OSError:
        return 0
    for line in maps:
        fields = line.split()
        path = fields[5] if len(fields) > 5 else ""
        if "w" not in fields[1] or "p" not in fields[1] or path not in ("", "[heap]"):
            continue
        lo, hi = (int(x, 16) for x in fields[0].split("-"))
        start, end = (lo + _HUGE - 1) & ~(_HUGE - 1), hi & ~(_HUGE - 1)
        if end - start >= _HUGE and madvise(start, end - start, MADV_COLLAPSE) == 0:
            done += (end - start) >> 20
    return done


def _applied_rlimits(limits: dict) -> dict:
    """The rlimits a student gets from `limits` (set by the student itself, after the fork)."""
    return {"cpu_s": int(limits["cpu_s"]), "fsize_mb": int(limits["fsize_mb"]),
            "nofile": int(limits["nofile"]), "nproc": int(limits["nproc"]),
            "workspace_mb": int(limits["work_mb"]), "tmp_mb": int(limits["tmp_mb"])}


def _send(ctrl: socket.socket, msg: dict) -> None:
    ctrl.send(json.dumps(msg).encode())


def _supervise(ctrl: socket.socket, pid: int, init: int, dying: list[int]) -> None:
    """Wait for the student C while answering `kill`; then kill its jail and report how C ended.
    A killed C is reported at once and reaped later (`dying`): its exit takes a while."""
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([ctrl, pidfd], [], [])
            if ctrl in ready:
                data = ctrl.recv(1 << 16)
                if not data:                  # the worker is gone: so is everything of ours
                    _kill(init)
                    sys.exit(0)
                if json.loads(data).get("op") == "kill":
                    _kill(init)               # C (uid 65534: no CAP_KILL here) dies with its PID 1
                    if not select.select([pidfd], [], [], 0)[0]:
                        dying.append(pid)
                        _send(ctrl, {"op": "exited", "status": -signal.SIGKILL})
                        return
            if pidfd in ready:
                break
    finally:
        os.close(pidfd)
    _kill(init)                               # whatever the student left behind goes with PID 1
    _, status = os.waitpid(pid, 0)
    _send(ctrl, {"op": "exited", "status": os.waitstatus_to_exitcode(status)})


def _reap(dying: list[int]) -> None:
    for pid in list(dying):
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                continue
        except ChildProcessError:
            pass
        dying.remove(pid)


class _Spare:
    """A student process forked ahead into a ready jail, waiting on `sock` for its submission."""

    def __init__(self, pid: int, sock: socket.socket, init: int, tmp_mb: int) -> None:
        self.pid, self.sock, self.init, self.tmp_mb = pid, sock, init, tmp_mb
        self.cgroup: str | None = None

    def discard(self) -> None:
        _kill(self.init)
        self.sock.close()
        os.waitpid(self.pid, 0)
        _remove_cgroup(self.cgroup)


def serve(fd: int) -> None:
    ctrl = socket.socket(fileno=fd)
    nursery_sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    if os.fork() == 0:                        # before torch: the nursery stays small
        ctrl.close()
        nursery_sock.close()
        _nursery(theirs)
    theirs.close()
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    _warm_up(compute=os.environ.get("CUDA_VISIBLE_DEVICES", "") in ("", "-1"))
    from grader.student import runner

    runner.prepare()      # the pristine snapshot, taken once: a child that reads it copies nothing
    gc.collect()
    gc.freeze()       # the children's collections skip the warm heap: no copy-on-write of every page
    huge_mb = _collapse_heap()

    def fork_student(tmp_mb: int) -> _Spare | str:
        """A student process in a fresh jail, waiting for its submission; or why there is none."""
        try:
            nursery_sock.send(json.dumps({"tmp_mb": tmp_mb}).encode())
            jail = json.loads(nursery_sock.recv(1 << 12) or b"{}")
        except OSError:
            jail = {}
        init = int(jail.get("init") or 0)
        if init <= 0:
            return jail.get("error") or "the nursery is gone"
        try:
            _setns(f"/proc/{init}/ns/pid", CLONE_NEWPID)       # where the next child is born
        except OSError as exc:
            _kill(init)
            return str(exc)
        mine, waiting = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            ctrl.close()
            nursery_sock.close()
            mine.close()
            _student(init, waiting)
        _check(_libc.setns(own_pid_ns, CLONE_NEWPID), "setns back")
        waiting.close()
        spare = _Spare(pid, mine, init, tmp_mb)
        try:
            spare.cgroup = _new_cgroup(pid)
        except OSError as exc:
            spare.discard()
            return f"its cgroup could not be made: {exc}"
        return spare

    _send(ctrl, {"op": "ready", "pid": os.getpid(), "huge_mb": huge_mb})
    spare: _Spare | str | None = None
    dying: list[int] = []
    while True:
        msg, fds, _flags, _addr = socket.recv_fds(ctrl, 1 << 20, 4)
        _reap(dying)
        if not msg:
            return
        req = json.loads(msg)
        if req.get("op") != "spawn":
            for f in fds:
                os.close(f)
            continue
        channel, out = fds
        if req.get("probes"):                 # defined here once, inherited by every later student
            from grader.student import runner
            runner.define_probes(req["probes"])
        tmp_mb = int(req["limits"]["tmp_mb"])
        if isinstance(spare, _Spare) and spare.tmp_mb != tmp_mb:
            spare.discard()
        if not isinstance(spare, _Spare) or spare.tmp_mb != tmp_mb:
            spare = fork_student(tmp_mb)
        student, spare = spare, None
        applied: dict = {}
        if isinstance(student, _Spare):
            try:                                            # before it runs a line of the notebook
                applied = _limit_cgroup(student.cgroup, req["cgroup"])
                work_fd = _detached_work_dir(req["work"], int(req["limits"]["work_mb"]))
                try:
                    socket.send_fds(student.sock, [json.dumps(req).encode()], [channel, out, work_fd])
                finally:
                    os.close(work_fd)
            except OSError as exc:
                os.write(out, f"torchgrader: the sandbox could not be set up: {exc}\n".encode())
                _kill(student.init)
            student.sock.close()
        else:
            os.write(out, f"torchgrader: the sandbox could not be set up: {student}\n".encode())
        for f in (channel, out):
            os.close(f)
        applied.update(_applied_rlimits(req["limits"]), seccomp=seccomp.supported())
        _send(ctrl, {"op": "started", "cgroup": getattr(student, "cgroup", None), "limits": applied})
        if not isinstance(student, _Spare):
            _send(ctrl, {"op": "exited", "status": 127})
            continue
        spare = fork_student(tmp_mb)          # the next one, while this one runs
        _supervise(ctrl, student.pid, student.init, dying)


if __name__ == "__main__":
    serve(int(sys.argv[1]))

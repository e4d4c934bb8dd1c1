"""The warm fork server of one worker slot: imports torch once, then forks one sandboxed student
process per submission.

It runs inside a bubblewrap jail (no network, read-only system and Python, its own PID namespace)
as root with only CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_SETUID, CAP_SETGID and CAP_CHOWN, and never
runs student code or a multi-threaded torch region itself (libgomp is not fork-safe once a parallel
region has run).  Before it imports torch it forks a small nursery, which keeps one jail ready
ahead of time:

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
                        work dir's files: the jail has no other work dir, nor the cgroup trees);
                        its own session, rlimits, uid/gid 65534 with no groups and no
                        capabilities, a fresh session keyring, no_new_privs, the seccomp filter of
                        grader/student/seccomp.py, a clean environment; then the student runner
                        in this warm interpreter.  When C ends or is killed, the zygote kills B
                        and the namespace goes with it.

Control channel (a SOCK_SEQPACKET socket on the descriptor given on the command line), one JSON
object per packet:

    -> ready {pid, huge_mb}
    <- spawn {work, cgroup, env, limits, cwd, probes}  + descriptors [judge socket, output pipe]
    -> started {cgroup, limits}   -> exited {status}   (status as subprocess.Popen.returncode)
    <- kill {}                -> exited {status: -9} at once; the zygote reaps the student later

The libc calls themselves are plain wrappers in grader/student/syscalls.py.
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
from grader.student.boot import CHANNEL_FD, NOBODY, RUN_DIR, WARM_ENV, WORKSPACE
from grader.student.syscalls import (CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID,
                                     CLONE_NEWUTS, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID,
                                     MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, attach,
                                     detached_tmpfs, die_with_parent, drop_capabilities, kill,
                                     libc, mount, no_new_privs, sethostname, setns, setns_fd,
                                     unmount_under, unshare)

WORK_MOUNT = RUN_DIR + "/work"
CGROUP_MOUNT = RUN_DIR + "/cgroup"
SETUP_FAILED = "torchgrader: the sandbox could not be set up: {}\n"


def _hide_keys() -> None:
    """/proc/keys and /proc/key-users empty: they list the descriptions of every key uid 65534 may
    view, including keys left in its user keyring by processes outside the grader's control."""
    for path in ("/proc/keys", "/proc/key-users"):
        if os.path.exists(path):
            mount("/dev/null", path, None, MS_BIND)
            mount(None, path, None,
                  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


# -- the three processes of one submission ---------------------------------------------------------
def _under_tmp() -> list[str]:
    """Read-only paths of the jail that live under /tmp (a venv in a checkout there, say)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)),
             *os.environ.get("LD_LIBRARY_PATH", "").split(":")}
    return sorted(p for p in paths if p.startswith("/tmp/") and os.path.isdir(p))


def _fresh_tmp(size_mb: int) -> None:
    """An empty /tmp of `size_mb` for this submission, with the jail's read-only paths under /tmp
    bound back in."""
    keep = _under_tmp()
    if keep:
        mount("/tmp", f"{RUN_DIR}/oldtmp", None, MS_BIND | MS_REC)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size_mb}m")
    for path in keep:
        os.makedirs(path, mode=0o755, exist_ok=True)
        os.chmod(path, 0o755)
        mount(f"{RUN_DIR}/oldtmp{path[len('/tmp'):]}", path, None, MS_BIND | MS_REC)
        mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _make_jail(tmp_mb: int, report: int) -> None:
    """A, in a fork of the nursery: the namespaces and mounts shared by every process of one
    submission, then B.  Writes B's PID (as the nursery sees it) to `report`; never returns."""
    try:
        die_with_parent()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        _fresh_tmp(tmp_mb)
        if os.path.isdir("/dev/shm"):
            mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={tmp_mb}m")
        sethostname(b"sandbox")
        unmount_under(RUN_DIR)  # work dirs and cgroup trees: C gets its own work dir, detached
        mounted_r, mounted_w = os.pipe()
        init = os.fork()
        if init == 0:                                   # B: PID 1 of the namespace
            try:
                die_with_parent()
                os.close(report)
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
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


def _new_jail(sock: socket.socket, tmp_mb: int) -> dict:
    """The nursery's side: a jail from a fresh A, as {init} (B's PID) or {error}."""
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


def _nursery(sock: socket.socket) -> None:
    """Keeps one jail ready: answers `jail {tmp_mb}` with {init} (or {error}) and makes the next."""
    die_with_parent()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)       # the As are reaped by the kernel
    ready: tuple[int, dict] | None = None
    while True:
        msg = sock.recv(1 << 12)
        if not msg:
            os._exit(0)
        tmp_mb = int(json.loads(msg)["tmp_mb"])
        if ready is None or ready[0] != tmp_mb:
            if ready is not None and "init" in ready[1]:
                kill(ready[1]["init"])
            ready = (tmp_mb, _new_jail(sock, tmp_mb))
        sock.send(json.dumps(ready[1]).encode())
        ready = (tmp_mb, _new_jail(sock, tmp_mb))        # while the student runs


def _join_jail(init: int) -> None:
    """C, before its submission is known: the jail's mount, network, IPC and UTS namespaces."""
    for ns, flag in (("net", CLONE_NEWNET), ("ipc", CLONE_NEWIPC), ("uts", CLONE_NEWUTS),
                     ("mnt", CLONE_NEWNS)):   # mount last: until then /proc is still the zygote's
        setns(f"/proc/{init}/ns/{ns}", flag)


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
    dir's files (the data files), for C to attach.  The tmpfs is the zygote's until the files are
    copied in (it has no CAP_DAC_OVERRIDE): a mount of its own caps the work dir's total, and its
    mountinfo entry names no host path."""
    fd = detached_tmpfs(size_mb, "0755")
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
    """C, once its submission is known: its own work dir at /workspace (its cgroups were joined
    by the zygote)."""
    attach(work_fd, WORKSPACE, "move_mount of the work dir")
    os.close(work_fd)
    mount(None, WORKSPACE, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV)


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
    limits = req["limits"]   # RLIMIT_AS: set by the runner (its run message), as in a cold sandbox
    limits_mod.set_rlimits(limits_mod.rlimit_values(
        cpu_s=limits["cpu_s"], fsize_mb=limits["fsize_mb"], nofile=limits["nofile"],
        nproc=limits["nproc"]))
    seccomp.fresh_session_keyring()            # before the drop: no key of the zygote's session
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)       # from uid 0: permitted and effective capabilities go
    drop_capabilities()                        # inheritable ones too
    no_new_privs()
    seccomp.install_filter()
    sys.argv = ["student"]


def _student(init: int, waiting: socket.socket) -> None:
    """C: forked ahead into a ready jail, it waits for its submission; never returns."""
    try:
        die_with_parent()
        _join_jail(init)
        from grader.student import runner
        runner.prepare()
        msg, fds, _flags, _addr = socket.recv_fds(waiting, 1 << 20, 3)
        waiting.close()
        if not msg or len(fds) != 3:
            os._exit(0)
    except BaseException:  # noqa: BLE001 - nothing to report on yet: the judge sees status 127
        os._exit(127)
    req, (channel, out, work_fd) = json.loads(msg), fds
    try:
        _claim_jail(work_fd)
        _become_student(req, channel, out)
    except BaseException as exc:   # noqa: BLE001 - reported on the output the judge keeps
        try:
            os.write(out, SETUP_FAILED.format(exc).encode())
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
        for opt in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                    torch.optim.Adam(model.parameters())):
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
    madvise = libc.madvise
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


class _Spare:
    """A student process forked ahead into a ready jail, waiting on `sock` for its submission."""

    def __init__(self, pid: int, sock: socket.socket, init: int, tmp_mb: int) -> None:
        self.pid, self.sock, self.init, self.tmp_mb = pid, sock, init, tmp_mb
        self.cgroup: str | None = None

    def discard(self) -> None:
        kill(self.init)
        self.sock.close()
        os.waitpid(self.pid, 0)
        _remove_cgroup(self.cgroup)


class Server:
    """The zygote's loop: takes one `spawn` at a time, hands it to a student process forked ahead
    (`spare`), supervises that student, and forks the next one while it runs."""

    def __init__(self, ctrl: socket.socket, nursery: socket.socket, own_pid_ns: int) -> None:
        self.ctrl, self.nursery, self.own_pid_ns = ctrl, nursery, own_pid_ns
        self.spare: _Spare | str | None = None    # or why the last fork failed
        self.dying: list[int] = []                # killed students, reaped later

    @classmethod
    def start(cls, fd: int) -> Server:
        """Fork the nursery, warm up, take the pristine snapshot; then tell the host `ready`.

        A lazy zygote (its slot has one submission to grade) only imports torch and the runner:
        the warm-up's imports, its first backward pass and the collapse into huge pages make later
        forks cheaper, which one fork does not repay."""
        lazy = os.environ.get(WARM_ENV) == "lazy"
        ctrl = socket.socket(fileno=fd)
        nursery, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.fork() == 0:                        # before torch: the nursery stays small
            ctrl.close()
            nursery.close()
            _nursery(theirs)
        theirs.close()
        own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        if lazy:
            import torch

            torch.set_num_threads(1)
        else:
            _warm_up(compute=os.environ.get("CUDA_VISIBLE_DEVICES", "") in ("", "-1"))
        from grader.student import runner

        runner.prepare()  # the pristine snapshot, taken once: a child that reads it copies nothing
        gc.collect()
        gc.freeze()       # the children's collections skip the warm heap: no copy-on-write of it
        huge_mb = 0 if lazy else _collapse_heap()
        server = cls(ctrl, nursery, own_pid_ns)
        server.send({"op": "ready", "pid": os.getpid(), "huge_mb": huge_mb})
        return server

    def send(self, msg: dict) -> None:
        self.ctrl.send(json.dumps(msg).encode())

    def run(self) -> None:
        """Answer requests until the host closes the control channel."""
        while True:
            msg, fds, _flags, _addr = socket.recv_fds(self.ctrl, 1 << 20, 4)
            self.reap()
            if not msg:
                self.shutdown()
            req = json.loads(msg)
            if req.get("op") != "spawn":
                for f in fds:
                    os.close(f)
                continue
            channel, out = fds
            self.accept(req, channel, out)

    def accept(self, req: dict, channel: int, out: int) -> None:
        """One `spawn`: the submission to a student process, `started`, then its supervision (or
        at once `exited` 127 where no student process could be made)."""
        if req.get("probes"):                 # defined here once, inherited by every later student
            from grader.student import runner
            runner.define_probes(req["probes"])
        tmp_mb = int(req["limits"]["tmp_mb"])
        student = self.take_spare(tmp_mb)
        applied = self.hand_over(student, req, channel, out)
        applied.update(_applied_rlimits(req["limits"]), seccomp=seccomp.supported())
        self.send({"op": "started", "cgroup": getattr(student, "cgroup", None), "limits": applied})
        if not isinstance(student, _Spare):
            self.send({"op": "exited", "status": 127})
            return
        self.spare = self.fork_spare(tmp_mb)  # the next one, while this one runs
        self.supervise(student)

    def take_spare(self, tmp_mb: int) -> _Spare | str:
        """The spare student if its jail has a /tmp of `tmp_mb`, else a new one (or why not)."""
        spare, self.spare = self.spare, None
        if isinstance(spare, _Spare) and spare.tmp_mb != tmp_mb:
            spare.discard()
        if not isinstance(spare, _Spare) or spare.tmp_mb != tmp_mb:
            spare = self.fork_spare(tmp_mb)
        return spare

    def hand_over(self, student: _Spare | str, req: dict, channel: int, out: int) -> dict:
        """Limit the student's group and send it the submission with its work dir, before it runs
        a line of the notebook; a failure is written to `out` and kills its jail.  Closes
        `channel` and `out` (the student holds its own copies); returns the limits applied."""
        applied: dict = {}
        if isinstance(student, _Spare):
            try:
                applied = _limit_cgroup(student.cgroup, req["cgroup"])
                work_fd = _detached_work_dir(req["work"], int(req["limits"]["work_mb"]))
                try:
                    socket.send_fds(student.sock, [json.dumps(req).encode()],
                                    [channel, out, work_fd])
                finally:
                    os.close(work_fd)
            except OSError as exc:
                os.write(out, SETUP_FAILED.format(exc).encode())
                kill(student.init)
            student.sock.close()
        else:
            os.write(out, SETUP_FAILED.format(student).encode())
        for f in (channel, out):
            os.close(f)
        return applied

    def fork_spare(self, tmp_mb: int) -> _Spare | str:
        """A student process in a fresh jail, waiting for its submission; or why there is none."""
        init = self._ready_jail(tmp_mb)
        if isinstance(init, str):
            return init
        try:
            setns(f"/proc/{init}/ns/pid", CLONE_NEWPID)       # where the next child is born
        except OSError as exc:
            kill(init)
            return str(exc)
        mine, waiting = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            self.ctrl.close()
            self.nursery.close()
            mine.close()
            _student(init, waiting)
        setns_fd(self.own_pid_ns, CLONE_NEWPID, "setns back")
        waiting.close()
        spare = _Spare(pid, mine, init, tmp_mb)
        try:
            spare.cgroup = _new_cgroup(pid)
        except OSError as exc:
            spare.discard()
            return f"its cgroup could not be made: {exc}"
        return spare

    def _ready_jail(self, tmp_mb: int) -> int | str:
        """The PID of a ready jail's B, from the nursery; or why there is none."""
        try:
            self.nursery.send(json.dumps({"tmp_mb": tmp_mb}).encode())
            jail = json.loads(self.nursery.recv(1 << 12) or b"{}")
        except OSError:
            jail = {}
        init = int(jail.get("init") or 0)
        if init <= 0:
            return jail.get("error") or "the nursery is gone"
        return init

    def supervise(self, student: _Spare) -> None:
        """Wait for the student C while answering `kill`; then kill its jail and report how C
        ended.  A killed C is reported at once and reaped later (`dying`): its exit takes a
        while."""
        pidfd = os.pidfd_open(student.pid)
        try:
            while True:
                ready, _, _ = select.select([self.ctrl, pidfd], [], [])
                if self.ctrl in ready:
                    data = self.ctrl.recv(1 << 16)
                    if not data:
                        self.shutdown(student.init)
                    if json.loads(data).get("op") == "kill":
                        kill(student.init)    # C (uid 65534: no CAP_KILL here) dies with its PID 1
                        if not select.select([pidfd], [], [], 0)[0]:
                            self.dying.append(student.pid)
                            self.send({"op": "exited", "status": -signal.SIGKILL})
                            return
                if pidfd in ready:
                    break
        finally:
            os.close(pidfd)
        kill(student.init)                     # whatever the student left behind goes with PID 1
        _, status = os.waitpid(student.pid, 0)
        self.send({"op": "exited", "status": os.waitstatus_to_exitcode(status)})

    def reap(self) -> None:
        """Reap the killed students that have exited since."""
        for pid in list(self.dying):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    continue
            except ChildProcessError:
                pass
            self.dying.remove(pid)

    @staticmethod
    def shutdown(jail: int | None = None) -> None:
        """The host is gone, and so is everything of ours: kill the running student's `jail`,
        then exit (the nursery, the spare and their jails die with this process)."""
        if jail is not None:
            kill(jail)
        sys.exit(0)


def serve(fd: int) -> None:
    """The zygote's life: `fd` is its control channel to the host."""
    Server.start(fd).run()


if __name__ == "__main__":
    serve(int(sys.argv[1]))

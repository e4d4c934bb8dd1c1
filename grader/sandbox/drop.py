"""The `drop` backend: for a platform's container, where no namespaces can be made.

Gradescope and PrairieLearn start one container per submission and run the grader in it as root,
under the runtime's default seccomp profile and without user namespaces, so bubblewrap cannot
start.  There the student process is a child of the grader that, before it execs:

- joins a pids and memory cgroup where the container lets one be made, and takes the rlimits
  (processes, CPU, file size, open files; the runner adds the address space);
- enters a new network namespace (no interfaces but a down loopback) where the container allows
  `unshare(CLONE_NEWNET)`, else keeps the container's network (the result says which);
- drops every capability from its bounding set, leaves its supplementary groups, becomes uid and
  gid 65534 (which clears its capabilities) and sets no_new_privs;
- then installs the same seccomp filter as every cold sandbox and runs the cells in a private copy
  of the work dir that it owns, mode 0700.

What it cannot do: hide the container's filesystem.  The hidden tests, the results and the
grader's own files are kept from it by permissions only (root-owned, mode 0700), so everything the
container leaves world-readable, it can read.  See docs/security.md.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.errors import SandboxError
from grader.sandbox.base import (COLD_BOOT, LaunchSpec, Sandbox, SandboxProcess, base_env,
                                 package_dir, rlimit_setter)
from grader.student.boot import NOBODY

CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
CAP_LAST = 63          # PR_CAPBSET_DROP beyond the kernel's last capability fails with EINVAL
# a private work dir per submission goes here (world-traversable, sticky: /tmp in a container)
PRIVATE_ROOT = Path(os.environ.get("TORCHGRADER_DROP_DIR", tempfile.gettempdir()))

_NET_PROBE = ("import ctypes, os, sys; libc = ctypes.CDLL(None, use_errno=True); "
              f"sys.exit(0 if libc.unshare({CLONE_NEWNET}) == 0 else 1)")


@functools.lru_cache(maxsize=1)
def network_namespace() -> bool:
    """Whether this process's children may enter a network namespace of their own here."""
    try:
        r = subprocess.run([sys.executable, "-I", "-c", _NET_PROBE], capture_output=True,
                           timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def _closed_to_others(path: str) -> str | None:
    """The first directory on the way to `path` that other users cannot enter, or `path` itself
    when they cannot read it; None when it is open to them."""
    parts = Path(path).parts
    for i in range(1, len(parts)):
        d = Path(*parts[:i])
        if not os.stat(d).st_mode & 0o001:
            return str(d)
    return None if os.stat(path).st_mode & 0o004 else path


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def drop_privileges(uid: int = NOBODY, *, new_net: bool = False) -> None:
    """In a child about to exec, as root: a network namespace (`new_net`), no capabilities in the
    bounding set, no supplementary groups, uid and gid `uid`, no_new_privs.  OSError when a
    step that isolation relies on fails (the launch then fails: nothing runs half-dropped)."""
    libc = _libc()
    if new_net and libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) failed")
    for cap in range(CAP_LAST + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)     # needs CAP_SETPCAP; the uid change suffices
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)       # from root to non-root: permitted and effective sets cleared
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != uid:
        raise OSError("the uid did not change")


def private_copy(workdir: Path, uid: int = NOBODY) -> Path:
    """A copy of `workdir` in a new directory owned by `uid`, mode 0700."""
    private = Path(tempfile.mkdtemp(prefix="torchgrader-student-", dir=PRIVATE_ROOT))
    shutil.copytree(workdir, private, symlinks=True, dirs_exist_ok=True)
    for root, dirs, files in os.walk(private):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), uid, uid)
    os.chown(private, uid, uid)
    private.chmod(0o700)
    return private


class DropSandbox(Sandbox):
    """The student process as uid 65534 with no capabilities, no_new_privs, rlimits, a cgroup
    where one can be made and a network namespace where one can be made; no mount namespace."""

    name = "drop"
    isolated = True

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if os.geteuid() != 0:
            return "it changes the student's uid, which needs root"
        for path in (os.path.realpath(sys.executable), str(package_dir() / "student")):
            closed = _closed_to_others(path)
            if closed:
                return (f"uid {NOBODY} cannot reach {path} ({closed} is not open to other users); "
                        f"install the grader's Python where every user can run it")
        return None

    def command(self, spec: LaunchSpec, fd: int):
        env = base_env(spec, home=str(spec.workdir))
        return [sys.executable, "-I", "-c", COLD_BOOT, str(fd), str(package_dir().parent)], env

    def preexec(self, spec: LaunchSpec, group, channel: int):
        limits = rlimit_setter(spec.limits, group, channel, gpu=spec.gpu is not None)
        new_net = network_namespace()

        def apply() -> None:
            limits()
            drop_privileges(NOBODY, new_net=new_net)

        return apply

    def launch(self, spec: LaunchSpec) -> SandboxProcess:
        """The runner in a private copy of the work dir, with privileges dropped."""
        try:
            private = private_copy(spec.workdir)
        except OSError as exc:
            raise SandboxError(f"the drop sandbox could not copy the work dir to a private one "
                               f"under {PRIVATE_ROOT} ({exc})") from exc
        try:
            proc = super().launch(dataclasses.replace(spec, workdir=private))
        except BaseException:
            shutil.rmtree(private, ignore_errors=True)
            raise
        proc.cleanups.append(lambda: shutil.rmtree(private, ignore_errors=True))
        proc.limits.update(isolation=describe())
        return proc


def describe() -> dict:
    """Which isolation the drop backend applies here, for the result's environment."""
    return {"uid": NOBODY, "capabilities": "none", "no_new_privs": True,
            "network": "own namespace" if network_namespace() else "the container's (shared)",
            "filesystem": "the container's, by permissions only"}

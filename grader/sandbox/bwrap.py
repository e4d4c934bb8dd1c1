"""The `bwrap` backend: bubblewrap namespaces, read-only system, one writable work dir."""

from __future__ import annotations

import functools
import shutil
import subprocess

from grader.sandbox import zygote
from grader.sandbox.base import (COLD_BOOT, LaunchSpec, Sandbox, SandboxProcess, base_env,
                                 python_paths)
from grader.sandbox.binds import CLEAN_ENV, system_binds
from grader.student.boot import DATA_DIR, NOBODY, PKG_ROOT as SANDBOX_PKG_ROOT
from grader.student.boot import WORKSPACE as SANDBOX_WORKDIR


@functools.lru_cache(maxsize=1)
def _probe_bwrap() -> str | None:
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        r = subprocess.run([exe, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
                            "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if r.returncode != 0:
        return ("bubblewrap cannot create namespaces here: "
                + r.stderr.decode(errors="replace").strip())
    return None


class BwrapSandbox(Sandbox):
    """No network, own PID/IPC/UTS/mount namespaces, read-only /usr and Python, non-root.

    Run as root, each worker slot keeps one warm zygote inside a bubblewrap jail that forks every
    submission into namespaces of its own (grader/student/zygote.py); otherwise each submission
    gets a fresh bubblewrap with its own user namespace and pays for a new interpreter."""

    name = "bwrap"
    stages_data = True
    needs_cgroups = True

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return _probe_bwrap()

    def __init__(self, warm: bool = True) -> None:
        self.warm = warm

    def command(self, spec: LaunchSpec, fd: int):
        exe, _, _ = python_paths()
        argv = [
            shutil.which("bwrap") or "bwrap",
            "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "sandbox",
            # first: Python may live under /tmp
            "--size", str(spec.limits.tmp_mb << 20), "--tmpfs", "/tmp",
            *system_binds(spec.gpu),
            # a sized tmpfs: the work dir's total is capped, and nothing written reaches the host
            "--perms", "0777", "--size", str(spec.workspace_mb << 20),
            "--tmpfs", SANDBOX_WORKDIR,
            *(["--ro-bind", str(spec.stage), DATA_DIR] if spec.stage is not None else []),
            "--perms", "1777", "--size", str(spec.limits.tmp_mb << 20), "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev",
            # its uid is the host's root in this user namespace: /proc/keys would list the
            # descriptions of every key root owns (keyctl itself is refused by the filter)
            "--ro-bind", "/dev/null", "/proc/keys", "--ro-bind", "/dev/null", "/proc/key-users",
            "--remount-ro", "/",
            "--chdir", SANDBOX_WORKDIR,
            "--clearenv",
        ]
        for key, value in base_env(spec, home=SANDBOX_WORKDIR).items():
            argv += ["--setenv", key, value]
        argv += ["--", exe, "-I", "-c", COLD_BOOT, str(fd), SANDBOX_PKG_ROOT]
        return argv, CLEAN_ENV

    def launch(self, spec: LaunchSpec) -> SandboxProcess:
        """From the slot's warm zygote where one can run here (root), else a fresh bubblewrap."""
        if self.warm and zygote.supported():
            return zygote.for_slot(spec).spawn(spec)
        return super().launch(spec)

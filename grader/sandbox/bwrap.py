"""The `bwrap` backend: bubblewrap namespaces, read-only system, one writable work dir."""

from __future__ import annotations

import functools
import shutil
import subprocess

from grader.sandbox import gpu
from grader.sandbox.base import (BOOT, SANDBOX_PKG_ROOT, SANDBOX_WORKDIR, LaunchSpec, Sandbox,
                                 base_env, package_dir, python_paths)

NOBODY = 65534


@functools.lru_cache(maxsize=1)
def _probe_bwrap() -> str | None:
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        r = subprocess.run([exe, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                           capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if r.returncode != 0:
        return "bubblewrap cannot create namespaces here: " + r.stderr.decode(errors="replace").strip()
    return None


class BwrapSandbox(Sandbox):
    """No network, own PID/IPC/UTS/mount/user namespaces, read-only /usr and Python, non-root."""

    name = "bwrap"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return _probe_bwrap()

    def command(self, spec: LaunchSpec, fd: int):
        exe, home, prefix = python_paths()
        argv = [
            shutil.which("bwrap") or "bwrap",
            "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
            "--ro-bind-try", "/etc/localtime", "/etc/localtime",
            "--proc", "/proc", "--dev", "/dev", *(gpu.bwrap_args(spec.gpu) if spec.gpu is not None else []),
            "--size", str(spec.limits.tmp_mb << 20), "--tmpfs", "/tmp",
            "--ro-bind", home, home,
            "--ro-bind", prefix, prefix,
            "--ro-bind", str(package_dir()), f"{SANDBOX_PKG_ROOT}/grader",
            "--bind", str(spec.workdir), SANDBOX_WORKDIR,
            "--remount-ro", "/",
            "--chdir", SANDBOX_WORKDIR,
            "--clearenv",
        ]
        for key, value in base_env(spec, home=SANDBOX_WORKDIR).items():
            argv += ["--setenv", key, value]
        argv += ["--", exe, "-I", "-c", BOOT, str(fd), SANDBOX_PKG_ROOT]
        # bwrap's own process stays pid 1 of the namespace and its environment is readable there
        # (/proc/1/environ): start it with nothing of the grader's environment.
        return argv, {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}

"""What every bubblewrap jail is started with, cold (`bwrap.BwrapSandbox`) or a warm slot's zygote
(`zygote.Zygote`): the read-only system it sees and the environment of bwrap itself."""

from __future__ import annotations

from pathlib import Path

from grader.sandbox import gpu, staging
from grader.sandbox.base import python_paths
from grader.student.boot import PKG_ROOT as SANDBOX_PKG_ROOT

# bwrap's own process stays pid 1 of the namespace and its environment is readable there
# (/proc/1/environ): start it with nothing of the grader's environment.
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def system_binds(gpu_index: str | None) -> list[str]:
    """The read-only system every bwrap sandbox sees: /usr, the Python install, the grader
    package."""
    _, home, prefix = python_paths()
    seen: list[str] = []   # made traversable: bwrap makes them mode 0700, closed to a non-root uid
    for target in (home, prefix):
        for parent in map(str, reversed(Path(target).parents)):
            if parent in ("/", "/usr") or parent.startswith("/usr/") or parent in seen:
                continue
            seen.append(parent)
    return [*(arg for d in seen for arg in ("--perms", "0755", "--dir", d)),
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
            "--ro-bind-try", "/etc/localtime", "/etc/localtime",
            "--proc", "/proc", "--dev", "/dev",
            *(gpu.bwrap_args(gpu_index) if gpu_index is not None else []),
            "--ro-bind", home, home,
            "--ro-bind", prefix, prefix,
            "--ro-bind", str(staging.package()), f"{SANDBOX_PKG_ROOT}/grader"]

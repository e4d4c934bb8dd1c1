"""Plain wrappers over the libc calls that build a student's jail: mounts, namespaces, prctl,
capabilities.  Each raises OSError naming the call when the kernel refuses it.

Stdlib only: the warm zygote imports it inside the sandbox, and grader.student.seccomp (which the
host side imports too) shares its `libc` and `check`.
"""

from __future__ import annotations

import ctypes
import os
import signal

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
LINUX_CAPABILITY_VERSION_3 = 0x20080522

libc = ctypes.CDLL(None, use_errno=True)


def check(ret: int, what: str) -> None:
    """Raise OSError (errno and message) unless a libc call that returns 0 on success did so."""
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def check_fd(ret: int, what: str) -> int:
    """`ret` of a call that returns a descriptor (or another count) on success, else OSError."""
    if ret < 0:
        check(-1, what)
    return ret


def die_with_parent() -> None:
    """SIGKILL this process when the one that forked it exits."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def no_new_privs() -> None:
    """No exec of this process or its children gains privileges (setuid bits, file capabilities)."""
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def drop_capabilities() -> None:
    """Clear this process's permitted, effective and inheritable capabilities (capset)."""
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)       # 0: this process
    check(libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")


def unshare(flags: int) -> None:
    check(libc.unshare(flags), "unshare")


def sethostname(name: bytes) -> None:
    """Best effort, as the jail's hostname is cosmetic."""
    libc.sethostname(name, len(name))


def setns(path: str, nstype: int) -> None:
    """Enter the namespace of type `nstype` that `path` (/proc/PID/ns/...) names."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns_fd(fd, nstype, f"setns {path}")
    finally:
        os.close(fd)


def setns_fd(fd: int, nstype: int, what: str) -> None:
    check(libc.setns(fd, nstype), what)


def kill(pid: int) -> None:
    """SIGKILL `pid`; one already gone is no error."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    check(libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                     ctypes.c_ulong(flags), data and data.encode()),
          f"mount {source or ''} on {target}")


def unmount_under(prefix: str) -> None:
    """Detach every mount below `prefix` (deepest first), as /proc/self/mountinfo lists them."""
    with open("/proc/self/mountinfo") as f:
        targets = [line.split()[4] for line in f]
    for target in sorted((t for t in targets if t.startswith(prefix + "/")), key=len, reverse=True):
        check(libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def detached_tmpfs(size_mb: int, mode: str) -> int:
    """A tmpfs of `size_mb` not attached anywhere yet (fsopen/fsconfig/fsmount), nosuid and nodev;
    returns its mount descriptor."""
    fs = check_fd(libc.syscall(SYS_FSOPEN, b"tmpfs", FSOPEN_CLOEXEC), "fsopen tmpfs")
    try:
        for key, value in (("size", f"{size_mb}m"), ("mode", mode)):
            check_fd(libc.syscall(SYS_FSCONFIG, fs, FSCONFIG_SET_STRING, key.encode(),
                                  value.encode(), 0), f"tmpfs {key}")
        check_fd(libc.syscall(SYS_FSCONFIG, fs, FSCONFIG_CMD_CREATE, None, None, 0),
                 "tmpfs create")
        return check_fd(libc.syscall(SYS_FSMOUNT, fs, FSMOUNT_CLOEXEC,
                                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV), "fsmount")
    finally:
        os.close(fs)


def attach(mount_fd: int, target: str, what: str) -> None:
    """Attach the detached mount `mount_fd` at `target` (move_mount)."""
    check(libc.syscall(SYS_MOVE_MOUNT, mount_fd, b"", AT_FDCWD, target.encode(),
                       MOVE_MOUNT_F_EMPTY_PATH), what)

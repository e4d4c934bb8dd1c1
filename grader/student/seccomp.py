"""The system calls a student process may not make, and the kernel keyring it starts with.

One policy for every sandbox (the warm zygote's children, a cold bubblewrap, a podman container):
`confine()` gives the calling process a fresh anonymous session keyring, sets no_new_privs and
installs a seccomp filter built from the tables below.  It is called before any student code runs;
a filter cannot be removed once installed, and every child inherits it.

The refused list starts from what Docker's default profile refuses a container without
capabilities, narrowed to what a notebook never needs.  Everything not named is allowed: the
sandbox's namespaces, read-only mounts, uid and limits remain the boundary, the filter removes
kernel surface that no notebook uses.  x86-64 only: on other architectures no filter is installed
(`supported()` is False and the sandbox records so); the other layers stand alone.

Stdlib only: imported by the host side (to describe the policy) and by the student side.
"""

from __future__ import annotations

import ctypes
import errno
import platform

from grader.student.syscalls import PR_SET_SECCOMP, check, check_fd, libc, no_new_privs

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

# name -> x86-64 number: refused outright (EPERM)
REFUSED = {
    # asynchronous I/O rings and page-fault handling in user space: large, often-exploited surface
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "userfaultfd": 323,
    # kernel programs, tracing and modules
    "bpf": 321, "perf_event_open": 298, "kexec_load": 246, "kexec_file_load": 320,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "create_module": 174,
    "get_kernel_syms": 177, "query_module": 178,
    # the jail is built before the filter: nothing may remount, re-root or re-namespace it
    "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "unshare": 272, "setns": 308,
    # kernel keyrings: keys are shared by uid across sandboxes and outlive the process
    "add_key": 248, "request_key": 249, "keyctl": 250,
    # other processes' memory
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
    "pidfd_getfd": 438,
    # the machine's state
    "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163, "settimeofday": 164,
    "clock_settime": 227, "clock_adjtime": 305, "adjtimex": 159, "sethostname": 170,
    "setdomainname": 171, "iopl": 172, "ioperm": 173, "syslog": 103, "vhangup": 153,
    "quotactl": 179, "quotactl_fd": 443, "nfsservctl": 180, "uselib": 134, "_sysctl": 156,
    "lookup_dcookie": 212, "open_by_handle_at": 304, "fanotify_init": 300,
}
# clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to clone
NO_SUCH_CALL = {"clone3": 435}
SYS_CLONE, SYS_SOCKET, SYS_PERSONALITY, SYS_MEMFD_CREATE, SYS_KEYCTL = 56, 41, 135, 319, 250

CLONE_NAMESPACES = 0x7E020000    # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
# socket() families refused (EAFNOSUPPORT): kernel interfaces, raw frames, host-guest sockets
SOCKET_FAMILIES = {"AF_NETLINK": 16, "AF_PACKET": 17, "AF_VSOCK": 40}
# personality() values allowed (Docker's list): Linux, 32-bit Linux, UNAME26 and the query
PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
# memfd_create must seal the file non-executable: seccomp cannot see the path execve is given
# (/proc/self/fd/N), so refusing execveat alone would not hold
MFD_NOEXEC_SEAL, MFD_EXEC = 0x8, 0x10

KEYCTL_JOIN_SESSION_KEYRING = 1
SECCOMP_MODE_FILTER = 2

_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW = 0x7FFF0000


def _errno(code: int) -> int:
    return 0x00050000 | code


def supported() -> bool:
    """Whether this machine's architecture has the filter (x86-64)."""
    return platform.machine() == "x86_64"


def _arg(index: int) -> tuple:
    return (_LD, 0, 0, 16 + 8 * index)        # the low 32 bits of argument `index`


def _rule(nr: int, body: list[tuple]) -> list[tuple]:
    """`body` (which ends in a return) for system call `nr`; other calls skip over it."""
    return [(_JEQ, 0, len(body), nr), *body]


def _one_of(values: tuple, then: int, otherwise: int) -> list[tuple]:
    """Return `then` when the loaded word is one of `values`, else `otherwise`."""
    n = len(values)
    return [*((_JEQ, n - i, 0, v) for i, v in enumerate(values)), (_RET, 0, 0, otherwise),
            (_RET, 0, 0, then)]


def program() -> list[tuple[int, int, int, int]]:
    """The filter, as (code, jt, jf, k) instructions."""
    eperm, enosys = _errno(errno.EPERM), _errno(errno.ENOSYS)
    prog = [(_LD, 0, 0, 4), (_JEQ, 1, 0, AUDIT_ARCH_X86_64),
            (_RET, 0, 0, enosys),                           # i386 (int 0x80) and any other ABI
            (_LD, 0, 0, 0), (_JGE, 0, 1, X32_SYSCALL_BIT), (_RET, 0, 0, enosys)]
    for nr in REFUSED.values():
        prog += _rule(nr, [(_RET, 0, 0, eperm)])
    for nr in NO_SUCH_CALL.values():
        prog += _rule(nr, [(_RET, 0, 0, enosys)])
    prog += _rule(SYS_CLONE, [_arg(0), (_JSET, 0, 1, CLONE_NAMESPACES), (_RET, 0, 0, eperm),
                              (_RET, 0, 0, _ALLOW)])
    prog += _rule(SYS_SOCKET, [_arg(0), *_one_of(tuple(SOCKET_FAMILIES.values()),
                                                 _errno(errno.EAFNOSUPPORT), _ALLOW)])
    prog += _rule(SYS_PERSONALITY, [_arg(0), *_one_of(PERSONALITIES, _ALLOW, eperm)])
    prog += _rule(SYS_MEMFD_CREATE, [_arg(1), (_JSET, 0, 1, MFD_EXEC), (_RET, 0, 0, eperm),
                                     (_JSET, 1, 0, MFD_NOEXEC_SEAL), (_RET, 0, 0, eperm),
                                     (_RET, 0, 0, _ALLOW)])
    return prog + [(_RET, 0, 0, _ALLOW)]


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def fresh_session_keyring() -> None:
    """Join a new anonymous session keyring: the caller's children no longer reach the keys of the
    session they were started from (an instructor's login keys), nor keys an earlier submission
    left.  Call it before privileges drop (then before the filter, which refuses keyctl)."""
    if supported():
        check_fd(libc.syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, None), "keyring")


def install_filter() -> None:
    """no_new_privs and the seccomp filter, for this process and all it starts (x86-64 only)."""
    if not supported():
        return
    no_new_privs()
    prog = program()
    arr = (_SockFilter * len(prog))(*[_SockFilter(*i) for i in prog])
    fprog = _SockFprog(len(prog), arr)
    check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


def confine() -> None:
    """A fresh session keyring, then the filter: what every student process starts with."""
    fresh_session_keyring()
    install_filter()


def describe() -> dict:
    """The policy as plain data (for the security docs and the result's environment)."""
    return {"architecture": "x86_64", "installed_here": supported(), "refused": sorted(REFUSED),
            "enosys": sorted(NO_SUCH_CALL), "clone_namespace_flags": hex(CLONE_NAMESPACES),
            "socket_families_refused": sorted(SOCKET_FAMILIES),
            "personalities_allowed": [hex(p) for p in PERSONALITIES],
            "memfd_create": "only with MFD_NOEXEC_SEAL, never MFD_EXEC"}

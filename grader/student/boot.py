"""How a cold sandbox (a fresh bubblewrap or container) starts the student runner.

Before any student code: the assignment's data files are copied from their read-only staging
mount into /workspace (a sized tmpfs: the work dir's total is capped there, and nothing written
to it reaches the host's disk), then the seccomp filter is installed.
"""

from __future__ import annotations

import os
import shutil

# The sandbox's layout, which the host side (grader.sandbox) and the student side share: defined here only.
PKG_ROOT = "/opt/torchgrader"          # the grader package, bound read-only
DATA_DIR = PKG_ROOT + "/data"          # a cold sandbox's staged data files
WORKSPACE = "/workspace"               # the student's work dir (a sized tmpfs)
RUN_DIR = "/run/torchgrader"           # a warm zygote's private mounts
NOBODY = 65534                         # the uid and gid student code runs as
CHANNEL_FD = 3                         # the judge's socket, at this descriptor in every sandboxed process
WARM_ENV = "GRADER_ZYGOTE_WARM"        # "lazy": a zygote skips the warm-up (one submission to fork)


def populate(src: str = DATA_DIR, dst: str = WORKSPACE) -> None:
    """Copy the staged data files (and folders) into the work dir."""
    if not os.path.isdir(src):
        return
    for name in os.listdir(src):
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if os.path.isdir(s) and not os.path.islink(s):
            shutil.copytree(s, d, symlinks=True)
        elif os.path.isfile(s):
            shutil.copyfile(s, d)


def cold(fd: int) -> None:
    """Entry point of a cold sandbox: `fd` is the judge's socket."""
    from grader.student import seccomp

    populate()
    seccomp.install_filter()
    from grader.student.runner import main

    main(fd)

"""How a cold sandbox (a fresh bubblewrap or container) starts the student runner.

Before any student code: the assignment's data files are copied from their read-only staging
mount into /workspace (a sized tmpfs: the work dir's total is capped there, and nothing written
to it reaches the host's disk), then the seccomp filter is installed.
"""

from __future__ import annotations

import os
import shutil

DATA_DIR = "/opt/torchgrader/data"
WORKSPACE = "/workspace"


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

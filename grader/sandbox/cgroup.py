"""Per-sandbox control groups: a process-count and memory ceiling, and a way to kill everything.

cgroup v1 (separate `pids` and `memory` hierarchies) and v2 (unified) are both handled.  A group is
created under the grader's own cgroup, the student process joins it before it execs, and closing
the group kills whatever is left in it (a daemon that escaped its session included).  Where cgroups
are not writable (not root, read-only /sys/fs/cgroup), `create` returns None and the sandbox relies
on its other limits.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _own_paths() -> dict[str, str]:
    paths = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                paths[c] = path
    except OSError:
        pass
    return paths


class Cgroup:
    """One group per sandbox in each available hierarchy."""

    def __init__(self, dirs: dict[str, Path]) -> None:
        self.dirs = dirs

    def join(self) -> None:
        """Move the calling process in (called in the child, before exec)."""
        pid = str(os.getpid())
        for d in self.dirs.values():
            (d / "cgroup.procs").write_text(pid)

    def pids(self) -> set[int]:
        out: set[int] = set()
        for d in self.dirs.values():
            try:
                out |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return out

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of this group for exceeding its memory limit."""
        d = self.dirs.get("memory")
        for name in ("memory.events", "memory.oom_control"):
            try:
                text = (d / name).read_text() if d else ""
            except OSError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value or 0) > 0:
                    return True
        return False

    def kill_all(self, timeout: float = 5.0) -> None:
        unified = self.dirs.get("unified")
        if unified is not None and (unified / "cgroup.kill").exists():
            try:
                (unified / "cgroup.kill").write_text("1")
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs.values():
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def create(*, pids_max: int, memory_mb: int, label: str = "") -> Cgroup | None:
    """A fresh group with the given limits, or None where cgroups cannot be used here.
    `label` (a batch's run id) goes into the group's name."""
    if os.geteuid() != 0 or not ROOT.is_dir():
        return None
    own = _own_paths()
    name = f"torchgrader-{label + '-' if label else ''}{uuid.uuid4().hex[:12]}"
    dirs: dict[str, Path] = {}
    try:
        if (ROOT / "pids").is_dir():                    # v1
            dirs["pids"] = ROOT / "pids" / own.get("pids", "/").lstrip("/") / name
            dirs["memory"] = ROOT / "memory" / own.get("memory", "/").lstrip("/") / name
            for d in dirs.values():
                d.mkdir()
            (dirs["pids"] / "pids.max").write_text(str(pids_max))
            (dirs["memory"] / "memory.limit_in_bytes").write_text(str(memory_mb << 20))
            _try_write(dirs["memory"] / "memory.memsw.limit_in_bytes", str(memory_mb << 20))
        else:                                           # v2
            d = ROOT / own.get("", "/").lstrip("/") / name
            d.mkdir()
            dirs = {"unified": d, "memory": d}
            (d / "pids.max").write_text(str(pids_max))
            (d / "memory.max").write_text(str(memory_mb << 20))
            _try_write(d / "memory.swap.max", "0")
    except OSError:
        Cgroup(dirs).remove()
        return None
    return Cgroup(dirs)


def _try_write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError:
        pass

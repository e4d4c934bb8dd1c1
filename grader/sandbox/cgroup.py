"""Per-sandbox control groups: a process-count and memory ceiling, and a way to kill everything.

cgroup v1 (separate `pids` and `memory` hierarchies) and v2 (unified) are both handled.  A group is
created under the grader's own cgroup, the student process joins it before it execs, and closing
the group kills whatever is left in it (a daemon that escaped its session included).  Where cgroups
are not writable (not root, read-only /sys/fs/cgroup, a v2 tree whose pids or memory controller
cannot be enabled), `create` and `create_parent` return None; a bubblewrap sandbox then refuses to
start (`refusal()` says why) unless grading was asked to go on without them.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from grader.student import limits

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

    def peak_memory_mb(self) -> float | None:
        """The most memory the group's processes held at once, MiB (None where not reported)."""
        d = self.dirs.get("memory")
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            try:
                return int((d / name).read_text()) / 2**20 if d else None
            except (OSError, ValueError):
                continue
        return None

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

    def try_remove(self) -> bool:
        """Kill what is left and remove the group without waiting; False if something is still exiting."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for d in set(self.dirs.values()):
            try:
                d.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                return False
        return True

    def remove(self) -> None:
        self.kill_all()
        for d in set(self.dirs.values()):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _parents() -> dict[str, Path]:
    """Where new groups go by default: under the calling process's own group in each hierarchy."""
    own = _own_paths()
    if (ROOT / "pids").is_dir():                        # v1
        return {c: ROOT / c / own.get(c, "/").lstrip("/") for c in ("pids", "memory")}
    d = ROOT / own.get("", "/").lstrip("/")
    return {"unified": d, "memory": d}


def create_parent(label: str = "") -> Cgroup | None:
    """An unlimited group to hold a worker slot's per-submission groups (see `create(parent=)`)."""
    if os.geteuid() != 0 or not ROOT.is_dir():
        return None
    parents = _parents()
    for stale in {p for d in parents.values() for p in d.glob("torchgrader-slot-*")}:
        if _creator_gone(stale.name.split("-")[2]):                 # a slot of a killed batch
            for group, _, _ in os.walk(stale, topdown=False):     # its submissions' groups first
                Cgroup({"x": Path(group)}).remove()
    name = f"torchgrader-slot-{os.getpid()}-{label + '-' if label else ''}{uuid.uuid4().hex[:12]}"
    dirs = {c: p / name for c, p in parents.items()}
    try:
        for d in set(dirs.values()):
            d.mkdir()
        if "unified" in dirs:       # the submissions' groups need both controllers
            (dirs["unified"] / "cgroup.subtree_control").write_text("+pids +memory")
            enabled = (dirs["unified"] / "cgroup.subtree_control").read_text().split()
            if not {"pids", "memory"} <= set(enabled):
                raise OSError("the pids and memory controllers are not enabled")
    except OSError:
        Cgroup(dirs).remove()
        return None
    return Cgroup(dirs)


def usable() -> bool:
    """Whether a per-submission group with a pids and a memory limit can be made here (tried)."""
    parent = create_parent("check")
    if parent is None:
        return False
    try:
        group = create(pids_max=64, memory_mb=64, parent=parent)
        if group is not None:
            group.remove()
        return group is not None
    finally:
        parent.remove()


def refusal() -> str:
    """Why grading in bubblewrap refuses to start here (no pids or memory cgroup), and what to do."""
    where = "not running as root" if os.geteuid() != 0 else (
        f"{ROOT} has no writable pids and memory controllers for the grader's cgroup "
        "(on a systemd cgroup-v2 host, run the grader in a unit with Delegate=pids memory)")
    return (f"the per-submission process and memory limits cannot be set: {where}.  Without them a "
            "fork bomb or a large allocation in one submission reaches the others.  Use "
            "--sandbox podman, or pass --unsafe-no-cgroups to grade with rlimits only (every "
            "result is flagged)")


def create(*, pids_max: int, memory_mb: int, label: str = "", parent: Cgroup | None = None) -> Cgroup | None:
    """A fresh group with the given limits, or None where cgroups cannot be used here.
    `label` (a batch's run id) goes into the group's name; `parent` is where it goes (default: under
    the calling process's own group)."""
    if os.geteuid() != 0 or not ROOT.is_dir():
        return None
    # the creator's PID last: a group its creator could not remove (a killed batch, a process still
    # exiting when `remove` gave up) is removed by a later `create` once that creator is gone
    name = f"torchgrader-{label + '-' if label else ''}{uuid.uuid4().hex[:12]}-{os.getpid()}"
    parents = parent.dirs if parent is not None else _parents()
    _sweep(parents)
    dirs: dict[str, Path] = {}
    try:
        if "pids" in parents:                           # v1
            dirs["pids"] = parents["pids"] / name
            dirs["memory"] = parents["memory"] / name
            for d in dirs.values():
                d.mkdir()
        else:                                           # v2
            d = parents["unified"] / name
            d.mkdir()
            dirs = {"unified": d, "memory": d}
        limits.set_cgroup([str(d) for d in set(dirs.values())], pids_max, memory_mb)
    except OSError:
        Cgroup(dirs).remove()
        return None
    return Cgroup(dirs)


def _sweep(parents: dict[str, Path]) -> None:
    """Remove, without waiting, the per-submission groups under `parents` whose creator is gone."""
    for d in {g for p in set(parents.values()) for g in p.glob("torchgrader-*")}:
        if not d.name.startswith("torchgrader-slot-") and _creator_gone(d.name.rsplit("-", 1)[-1]):
            Cgroup({"x": d}).try_remove()


def _creator_gone(pid: str) -> bool:
    """Whether the process whose PID a group's name carries (`pid`, as in the name) has exited."""
    return pid.isdigit() and not Path(f"/proc/{pid}").exists()

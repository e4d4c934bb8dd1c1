"""Finding NVIDIA GPUs without initialising CUDA, and giving one to each worker slot.

CUDA must never be initialised in a process that forks (the worker, a future zygote), so GPUs are
listed from the driver's files (`/proc/driver/nvidia/gpus`) or `nvidia-smi -L`, never from torch.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from grader.errors import UsageError

PROC_GPUS = Path("/proc/driver/nvidia/gpus")
DEVICE_FILES = ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset")


def detect() -> list[str]:
    """Indices of the NVIDIA GPUs on this machine, as strings ("0", "1", ...); [] when none."""
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        found = re.findall(r"^GPU (\d+):", out, re.MULTILINE)
        if found:
            return found
    if PROC_GPUS.is_dir():
        return [str(i) for i, _ in enumerate(sorted(PROC_GPUS.iterdir()))]
    return []


def plan(request: str, mode: str, available: list[str]) -> list[str]:
    """The GPUs to hand out, one per slot in turn, for `--gpus request` and the assignment's `gpu` mode.

    request: auto | none | all | a comma-separated list of indices.  mode: none | optional | required.
    """
    if request == "none" or (request == "auto" and mode == "none"):
        chosen = []
    elif request in ("auto", "all"):
        chosen = list(available)
    else:
        wanted = [x.strip() for x in request.split(",") if x.strip()]
        if not wanted or not all(x.isdigit() for x in wanted):
            raise UsageError(f"--gpus takes auto, none, all or GPU indices like 0,1; not {request!r}")
        missing = [x for x in wanted if x not in available]
        if missing:
            raise UsageError(f"GPU {', '.join(missing)} not found (this machine has: "
                             f"{', '.join(available) or 'no NVIDIA GPU'})")
        chosen = wanted
    if request == "all" and not available:
        raise UsageError("--gpus all: this machine has no NVIDIA GPU (nvidia-smi lists none)")
    if mode == "required" and not chosen:
        raise UsageError("this assignment needs a GPU (gpu = \"required\" in assignment.toml) but "
                         + ("--gpus none was given" if request == "none" else
                            "no NVIDIA GPU was found on this machine") + "; nothing was graded")
    return chosen


def bwrap_args(index: str) -> list[str]:
    """bubblewrap arguments exposing GPU `index` (its device node and the driver's control nodes)."""
    args = []
    for dev in (f"/dev/nvidia{index}", *DEVICE_FILES):
        if Path(dev).exists():
            args += ["--dev-bind", dev, dev]
    for d in library_dirs():
        if not d.startswith("/usr/"):
            args += ["--ro-bind", d, d]
    return args


def library_dirs() -> list[str]:
    """The grader's LD_LIBRARY_PATH directories that exist (where images keep the driver's
    libcuda): a GPU sandbox gets them read-only and on its own LD_LIBRARY_PATH."""
    dirs = []
    for d in os.environ.get("LD_LIBRARY_PATH", "").split(":"):
        if d and os.path.isabs(d) and os.path.isdir(d) and d not in dirs:
            dirs.append(d)
    return dirs

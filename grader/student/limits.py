"""Setting a student process's limits: one module for the host (cold sandboxes) and the zygote.

The pids and memory ceilings live in cgroups, the rest in rlimits.  `set_cgroup` fails closed: it
raises `LimitError` when a group cannot hold both the process count and the memory, and never
skips a file that is missing.  Each setter returns what it applied, to be reported in the result.

Stdlib only: the zygote imports it inside the sandbox.
"""

from __future__ import annotations

import os
import resource


class LimitError(OSError):
    """A limit the sandbox relies on could not be set."""


def _write(path: str, value: str) -> bool:
    try:
        with open(path, "w") as f:
            f.write(value)
        return True
    except OSError:
        return False


def _set_pids(d: str, pids_max: int) -> bool:
    return os.path.exists(os.path.join(d, "pids.max")) and _write(os.path.join(d, "pids.max"),
                                                                    str(pids_max))


def _set_memory(d: str, memory_mb: int) -> bool:
    limit = str(memory_mb << 20)
    if os.path.exists(os.path.join(d, "memory.limit_in_bytes")):                 # v1
        ok = _write(os.path.join(d, "memory.limit_in_bytes"), limit)
        _write(os.path.join(d, "memory.memsw.limit_in_bytes"), limit)            # where swap counts
        return ok
    if os.path.exists(os.path.join(d, "memory.max")):                            # v2
        ok = _write(os.path.join(d, "memory.max"), limit)
        _write(os.path.join(d, "memory.swap.max"), "0")
        return ok
    return False


def set_cgroup(dirs: list[str], pids_max: int, memory_mb: int) -> dict:
    """Write the process and memory ceilings into a submission's group (its directory in each
    hierarchy); {"pids_max", "memory_mb"} as applied, or LimitError naming what failed."""
    pids = any([_set_pids(d, pids_max) for d in dirs])
    memory = any([_set_memory(d, memory_mb) for d in dirs])
    missing = [name for name, ok in (("pids", pids), ("memory", memory)) if not ok]
    if missing:
        raise LimitError(f"the {' and '.join(missing)} limit could not be set in the cgroup "
                         f"({', '.join(dirs) or 'no cgroup'})")
    return {"pids_max": pids_max, "memory_mb": memory_mb}


def rlimit_values(*, cpu_s: int, fsize_mb: int, nofile: int, nproc: int) -> dict[int, int]:
    """The rlimits of a student process (core dumps off)."""
    return {resource.RLIMIT_CPU: int(cpu_s), resource.RLIMIT_FSIZE: int(fsize_mb) << 20,
            resource.RLIMIT_NOFILE: int(nofile), resource.RLIMIT_NPROC: int(nproc),
            resource.RLIMIT_CORE: 0}


_NAMES = {resource.RLIMIT_CPU: "cpu_s", resource.RLIMIT_FSIZE: "fsize_bytes",
          resource.RLIMIT_NOFILE: "nofile", resource.RLIMIT_NPROC: "nproc",
          resource.RLIMIT_CORE: "core"}


def set_rlimits(values: dict[int, int]) -> dict:
    """Apply `values` (never above a hard limit already lower); what was applied, by name."""
    applied = {}
    for res, val in values.items():
        _, hard = resource.getrlimit(res)
        val = val if hard == resource.RLIM_INFINITY else min(val, hard)
        resource.setrlimit(res, (val, val))
        applied[_NAMES.get(res, str(res))] = val
    return applied

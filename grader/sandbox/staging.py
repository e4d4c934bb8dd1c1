"""Neutral host paths for what a sandbox mounts, so that its /proc/self/mountinfo (which names the
source directory of every bind mount) shows neither the instructor's output directory nor where the
grader is installed.

The grader package is copied once per version to `<stage>/pkg-<digest>/grader`; each cold
sandbox's data files are copied to `<stage>/data-<random>/`, bound read-only, copied by the
sandbox into its own sized /workspace, and removed when the sandbox closes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import uuid
from pathlib import Path


def root() -> Path:
    """Where staged copies live: /run/torchgrader for root, else the grader's cache directory."""
    if os.geteuid() == 0:
        return Path("/run/torchgrader")
    return Path(os.environ.get("TORCHGRADER_CACHE", "/var/tmp/torchgrader"))


def _package_files(src: Path) -> list[Path]:
    return sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@functools.lru_cache(maxsize=1)
def package() -> Path:
    """A read-only copy of the `grader` package at a neutral path (made once per version)."""
    src = Path(__file__).resolve().parent.parent       # the grader package
    files = _package_files(src)
    digest = hashlib.sha256()
    for f in files:
        st = f.stat()
        digest.update(f"{f.relative_to(src)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    home = root() / f"pkg-{digest.hexdigest()[:16]}"
    if (home / ".complete").exists():
        return home / "grader"
    tmp = home.with_name(f"{home.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}")
    for f in files:
        target = tmp / "grader" / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target)
    (tmp / ".complete").touch()
    for d in (tmp, *(p for p in tmp.rglob("*") if p.is_dir())):
        d.chmod(0o755)
    try:
        tmp.rename(home)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)     # another worker made it first
    return home / "grader"


def data(workdir: Path) -> tuple[Path, int]:
    """A copy of `workdir`'s files at a neutral path, and their total size in MiB (rounded up)."""
    dest = root() / f"data-{uuid.uuid4().hex[:16]}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(workdir, dest, symlinks=False)
    dest.chmod(0o755)
    total = 0
    for p in dest.rglob("*"):
        if p.is_file():
            p.chmod(0o644)
            total += p.stat().st_size
        elif p.is_dir():
            p.chmod(0o755)
    return dest, -(-total // (1 << 20))


def data_size_mb(workdir: Path) -> int:
    """The total size of the files under `workdir`, MiB, rounded up."""
    total = sum(p.stat().st_size for p in Path(workdir).rglob("*") if p.is_file())
    return -(-total // (1 << 20))


def remove(path: Path) -> None:
    """Remove a staged copy made by `data`."""
    shutil.rmtree(path, ignore_errors=True)

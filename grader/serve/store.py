"""The content-addressed notebook store: each upload kept once, under its sha256.

`put` returns only once the bytes are on disk: written to a temporary file, fsynced, renamed into
place, and the directory fsynced, so a crash at any point leaves either no file or the whole one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from grader.store import atomic_write


class NotebookStore:
    """Notebooks under `root`/ab/abcdef....ipynb."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def relative(self, sha256: str) -> str:
        return f"{sha256[:2]}/{sha256}.ipynb"

    def path(self, relative: str) -> Path:
        return self.root / relative

    def put(self, raw: bytes) -> tuple[str, str]:
        """Keep `raw` durably; returns (sha256, path relative to the root)."""
        digest = hashlib.sha256(raw).hexdigest()
        rel = self.relative(digest)
        final = self.root / rel
        if final.is_file() and final.stat().st_size == len(raw):
            return digest, rel
        atomic_write(final, raw)          # fsynced, then renamed into place
        _fsync_dir(final.parent)
        _fsync_dir(self.root)
        return digest, rel


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

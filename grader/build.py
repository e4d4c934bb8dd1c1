"""What graded a result: the grader's version, a digest of its source that can change a score,
and the torch version.  Stored in every record (`Result.grader_version`) and part of the key under
which a stored result is reused, so a fix in the judge, the protocol, the runner or a scoring
helper regrades every stored result, while a change to how reports look does not."""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from pathlib import Path

from grader.version import __version__

# what never changes a score: the writers of reports read the records, the CLI and the benchmark
# drive the library, the forging runners only run in verify, `grader new` only writes files, and
# the lint only reads the master notebook before assign and verify; the course policy's late
# penalty is applied to the stored raw score at every run, never by regrading, and so are the
# manual questions' hand grades
_NOT_SCORING = ("reports", "cli.py", "bench.py", "forge.py", "scaffold.py", "lint.py", "policy.py",
                "manual.py", "serve")


def source_digest(package: Path) -> str:
    """sha256 over the path and bytes of every scoring source file under `package`."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.suffix not in (".py", ".json") or "__pycache__" in relative.parts \
                or relative.parts[0] in _NOT_SCORING:
            continue
        digest.update(f"{relative.as_posix()}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _torch_version() -> str:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "none"


@functools.lru_cache(maxsize=1)
def build_id() -> str:
    """This grader's identity for stored results, e.g. "0.1.0+3f2a9c1b2d4e torch 2.13.0"."""
    package = Path(__file__).resolve().parent
    return f"{__version__}+{source_digest(package)[:12]} torch {_torch_version()}"


__all__ = ["build_id", "source_digest"]

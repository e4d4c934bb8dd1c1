"""The results store: one JSON file per submission under OUT/results, written atomically.

A record is reused when its submission bytes, hidden suite, grading options and grader version are
unchanged, so a batch that was killed and started again grades only what is missing.  One batch
at a time may use an output directory (an advisory lock on OUT/.lock).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path

from grader.errors import StoreError
from grader.results import Result
from grader.text import clean_result


def safe_name(name: str) -> bool:
    """Whether `name` can name a file in a folder of ours: no separator, NUL or leading dot, and
    short enough for the file system with the suffixes added to it (".json.XXXXXXXX.tmp")."""
    return (bool(name) and "/" not in name and "\0" not in name and not name.startswith(".")
            and len(name.encode("utf-8", "surrogatepass")) <= 230)


def atomic_write(path: Path, text: str | bytes, *, durable: bool = True) -> None:
    """Write `text` (or bytes) to `path` so that readers see the old file or the new one, never a
    torn one.

    `durable` (the results store) also flushes it to disk before the rename.  Reports, which every
    run rebuilds from the store, are written without it, and not at all when unchanged."""
    if not durable:
        try:
            old = path.read_bytes() if isinstance(text, bytes) else path.read_text(encoding="utf-8")
            if old == text:
                return
        except (OSError, UnicodeDecodeError):
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with (os.fdopen(fd, "wb") if isinstance(text, bytes)
              else os.fdopen(fd, "w", encoding="utf-8")) as f:
            f.write(text)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove(path: Path) -> None:
    """Remove whatever is at `path` (a stale record, or a folder in its place), if it can be."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


class Store:
    """OUT/results/<student>.json, with reuse and a lock held for the store's lifetime."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        if self.out.exists() and not self.out.is_dir():
            raise StoreError(f"output path {self.out} exists and is not a directory")
        try:
            self.results_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.results_dir}: {exc.strerror}") from None
        self._lock = open(self.out / ".lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise StoreError(f"another grading batch is writing to {self.out}; wait for it or use "
                             "another output directory") from None
        for stale in self.results_dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        shutil.rmtree(self.work_dir, ignore_errors=True)   # sandboxes' work dirs of a killed batch

    @property
    def work_dir(self) -> Path:
        """Where each submission's sandbox gets its private, throw-away work directory."""
        return self.out / ".work"

    @property
    def results_dir(self) -> Path:
        return self.out / "results"

    def path(self, student: str) -> Path:
        if not safe_name(student):
            raise StoreError(f"{student!r} is not a safe file name for a results record")
        return self.results_dir / f"{student}.json"

    def save(self, result: Result) -> None:
        """Store the record (cleaned: see grader.text.clean_result).  If it cannot be written, the
        record stored before is removed, so that a later run grades the submission again instead
        of reusing a stale record; StoreError says why."""
        path = self.path(result.student)
        try:
            text = json.dumps(clean_result(result).to_dict(), indent=1, allow_nan=False)
            atomic_write(path, text)
        except (OSError, ValueError, TypeError, RecursionError) as exc:
            _remove(path)
            raise StoreError(f"the record of {result.student} could not be stored ({exc}); "
                             "it will be graded again next run") from None

    def load(self, student: str) -> Result | None:
        """The stored record of `student`, cleaned; None when there is none or it cannot be read
        (a torn, hand-edited or foreign file), so that the submission is graded again."""
        try:
            data = json.loads(self.path(student).read_text(encoding="utf-8"))
            return clean_result(Result.from_dict(data))
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError,
                StoreError):
            return None

    def reusable(self, student: str, *, sha256: str, suite_hash: str, config_hash: str,
                 grader_version: str) -> Result | None:
        """The stored record for `student` if it was made from exactly these inputs."""
        r = self.load(student)
        if r is None or r.status in ("error",) or r.student != student:
            return None
        same = (r.submission.get("sha256") == sha256 and r.suite_hash == suite_hash
                and r.config_hash == config_hash and r.grader_version == grader_version)
        return r if same else None

    def close(self) -> None:
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""The adversarial corpus (tests/adversarial/): attacks a submission may try, graded in one batch per
isolating backend next to a correct notebook.  For each: the batch finishes, the case gets its
expected status and scores no more than the blank template, the correct notebook in the same batch
keeps full marks, no file outside the work dirs changed, no process or cgroup is left, and a
loopback listener opened by the test saw no connection."""

from __future__ import annotations

import ctypes
import hashlib
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

import grader
from grader import api
from conftest import MINI_COURSE, SCENARIOS
from corpus import build_class, cases, cgroups_of, check, expected, processes_of

ADVERSARIAL = Path(__file__).parent / "adversarial"
CASES = cases(ADVERSARIAL)
# never `none`: these cases attack the machine itself.  bwrap forks each submission from a warm
# zygote where it runs as root; bwrap-cold starts a fresh bubblewrap per submission (as for non-root users)
BACKENDS = ["bwrap", "bwrap-cold", "podman"]
PAIRS = [(b, c) for b in BACKENDS for c in CASES if b in expected(ADVERSARIAL, c).get("backends", BACKENDS)]


def fingerprint() -> dict[str, str]:
    """Hashes of what no submission may change: the grader package, the hidden suite, the venv's top."""
    paths = [*Path(grader.__file__).parent.rglob("*.py"), *(MINI_COURSE / "solutions").rglob("*.py"),
             *(p for p in Path(sys.prefix).iterdir() if p.is_file())]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


class Listener:
    """A TCP listener on loopback that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))         # a free port, handed to the notebooks that try it
        self.port = self.sock.getsockname()[1]
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.connections, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        socket.create_connection(("127.0.0.1", self.port), timeout=5).close()   # it does record one
        deadline = time.monotonic() + 5
        while not self.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.connections, "the loopback listener records no connection"
        self.connections.clear()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, addr = self.sock.accept()
                self.connections.append(addr)
                conn.close()
            except OSError:
                continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def plant_session_key() -> None:
    """A canary key in the grader's own session keyring (keyring_read_and_plant looks for it)."""
    libc = ctypes.CDLL(None, use_errno=True)
    key = libc.syscall(248, b"user", b"torchgrader-canary", b"secret-key", 10, -3)    # add_key, @s
    assert key > 0, os.strerror(ctypes.get_errno())


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """Grades the corpus once per backend, with a canary secret in the grader's environment and
    its session keyring."""
    cache = {}
    mp = pytest.MonkeyPatch()
    mp.setenv("TORCHGRADER_CANARY", "secret-value-no-sandbox-may-see")
    plant_session_key()

    def get(backend: str):
        if backend not in cache:
            root = tmp_path_factory.mktemp(f"adversarial-{backend}")
            listener = Listener()
            try:
                names = build_class(ADVERSARIAL, root / "subs", backend, BACKENDS,
                                    values={"LISTEN_PORT": str(listener.port)})
                for control in ("solution", "blank"):
                    build_class(SCENARIOS, root / f"control-{control}", backend, [backend], only=[control])
                    (root / f"control-{control}" / f"{control}.ipynb").rename(root / "subs" / f"{control}.ipynb")
                before = fingerprint()
                batch = api.grade(root / "subs", assignment="mini", out=root / "out", jobs=2,
                                  sandbox=backend.removesuffix("-cold"), warm=not backend.endswith("-cold"),
                                  course=MINI_COURSE)
            finally:
                listener.close()
            cache[backend] = {"names": names, "results": {r.student: r for r in batch.results},
                              "changed": [p for p, h in fingerprint().items() if before.get(p) != h],
                              "connections": listener.connections, "run_id": batch.results[0].run_id}
        return cache[backend]

    yield get
    mp.undo()


@pytest.mark.parametrize("backend,case", PAIRS)
def test_attack_is_contained(batches, backend, case):
    b = batches(backend)
    check(b["results"][case], expected(ADVERSARIAL, case), max_score=5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_batch_around_the_attacks_is_unharmed(batches, backend):
    b = batches(backend)
    assert len(CASES) >= 30
    assert b["results"]["solution"].score == 5 and b["results"]["solution"].status == "graded"
    assert b["results"]["solution"].environment["warm"] == (backend == "bwrap")
    assert b["results"]["blank"].score == 0
    assert sorted(b["results"]) == sorted([*b["names"], "solution", "blank"])
    assert b["changed"] == [], "a submission changed files outside its work dir"
    assert not any(Path(p).exists() for p in ("/usr/escape.txt", "/etc/escape.txt", "/escape.txt",
                                                 str(Path(sys.prefix) / "escape.txt")))
    assert b["connections"] == [], "a submission reached the loopback listener"
    assert processes_of(b["run_id"]) == []
    assert cgroups_of(b["run_id"]) == []


def test_a_judge_out_of_memory_is_that_submissions_outcome(tmp_path):
    """With the answer budget lifted, the aliased blob exhausts the judge's own heap limit: that
    submission is `memory`, its worker slot restarts, and the correct notebook after it, graded
    by the same slot, keeps full marks."""
    build_class(ADVERSARIAL, tmp_path / "subs", "bwrap", BACKENDS, only=["alias_blob"])
    build_class(SCENARIOS, tmp_path / "control", "bwrap", ["bwrap"], only=["solution"])
    (tmp_path / "control" / "solution.ipynb").rename(tmp_path / "subs" / "solution.ipynb")
    batch = api.grade(tmp_path / "subs", assignment="mini", out=tmp_path / "out", jobs=1, sandbox="bwrap",
                      course=MINI_COURSE, limits={"judge_memory_mb": 1024, "answer_mb": 4096})
    results = {r.student: r for r in batch.results}
    assert results["alias_blob"].status == "memory", results["alias_blob"].reason
    assert "too large for the grader's memory" in results["alias_blob"].reason
    assert results["solution"].status == "graded" and results["solution"].score == 5

"""The pytest side of the judge: the `student` fixture and the collection of outcomes.

The hidden suite runs in this trusted process with assertion rewriting off, so a failing bare
``assert x == y, "message"`` shows only its message, never the compared values.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.errors import AssignmentError, ProbeError
from grader.testing import CUDA_MARK, QUESTION_MARK, GradingFailure, Probe

PYTEST_ARGS = ["-p", "no:terminal", "-p", "no:cacheprovider", "-p", "no:warnings", "--assert=plain",
               "--import-mode=importlib", "-o", "addopts="]


@dataclass
class Outcome:
    nodeid: str
    name: str
    question: str
    points: float
    outcome: str = "error"
    message: str = "This test did not run."
    detail: str = ""
    duration: float = 0.0


class Student:
    """The `student` fixture: the handle a hidden test uses to question the notebook."""

    def __init__(self, session, seed: int) -> None:
        import torch

        self._session = session
        self.seed = seed
        self.rng = random.Random(seed)
        self.generator = torch.Generator().manual_seed(seed)

    def probe(self, fn: Probe, *, timeout: float | None = None, **kwargs):
        """Run probe `fn` in the student process with `kwargs` (plain data) and return its value."""
        if not isinstance(fn, Probe):
            raise TypeError(f"student.probe needs a function decorated with @probe, got {fn!r}")
        return self._session.probe(fn.name, fn.source, kwargs, timeout)


def _seed(base: str, nodeid: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{base}|{nodeid}".encode()).digest()[:4], "big")


def student_message(exc: BaseException) -> tuple[str, bool]:
    """(message safe to show the student, whether the test itself failed to run)."""
    if isinstance(exc, (GradingFailure, ProbeError)):
        return str(exc), False
    if type(exc) is AssertionError:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return first or "A check in this test failed.", False
    return (f"This test could not check your answer ({type(exc).__name__}). Make sure your code "
            "returns what the question asks for."), True


class _Inventory:
    """Collects (nodeid, question, points) of every test without running any."""

    def __init__(self) -> None:
        self.items: list[Outcome] = []
        self.errors: list[str] = []

    def pytest_configure(self, config) -> None:
        config.addinivalue_line("markers", f"{QUESTION_MARK}(qid, points): the question a test belongs to")
        config.addinivalue_line("markers", f"{CUDA_MARK}: the test needs a CUDA device in the student process")

    def pytest_collection_modifyitems(self, items) -> None:
        for item in items:
            mark = item.get_closest_marker(QUESTION_MARK)
            if mark is None:
                self.errors.append(f"{item.nodeid} has no @question(...) marker")
                continue
            self.items.append(Outcome(item.nodeid, item.name, mark.args[0], float(mark.kwargs["points"])))

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid or 'the suite'} could not be collected:\n{report.longreprtext}")


class Judge(_Inventory):
    """Runs the hidden suite against one student session and records each test's outcome."""

    def __init__(self, session, base_seed: str) -> None:
        super().__init__()
        self.session, self.base_seed = session, base_seed
        self.by_id: dict[str, Outcome] = {}

    def pytest_collection_modifyitems(self, items) -> None:
        super().pytest_collection_modifyitems(items)
        self.by_id = {o.nodeid: o for o in self.items}

    def pytest_runtest_setup(self, item) -> None:
        device = str(getattr(self.session, "device", "cpu") or "cpu")
        if item.get_closest_marker(CUDA_MARK) is not None and not device.startswith("cuda"):
            pytest.skip("needs a CUDA GPU; this grader ran your notebook on the CPU, so it does not count")

    @pytest.fixture
    def student(self, request) -> Student:
        return Student(self.session, _seed(self.base_seed, request.node.nodeid))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        record = self.by_id.get(item.nodeid)
        if record is None:
            return
        record.duration += call.duration
        if report.when == "call" and report.passed:
            record.outcome, record.message = "passed", ""
        elif report.skipped and report.when in ("setup", "call"):
            record.outcome, record.message = "skipped", _skip_reason(report)
        elif report.failed and call.excinfo is not None:
            message, internal = student_message(call.excinfo.value)
            if report.when != "call":
                internal = True
            record.outcome = "error" if internal else "failed"
            record.message = message
            record.detail = report.longreprtext[-6000:] if internal else ""


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else "skipped"


def _run_pytest(tests_dir: Path, plugin, extra: list[str]) -> int:
    args = [str(tests_dir), "--rootdir", str(tests_dir), *PYTEST_ARGS, *extra]
    return int(pytest.main(args, plugins=[plugin]))


def collect(tests_dir: Path) -> list[Outcome]:
    """The tests of a hidden suite with their questions and points; raises AssignmentError."""
    inv = _Inventory()
    code = _run_pytest(tests_dir, inv, ["--collect-only"])
    if inv.errors or code not in (0,):
        detail = "\n".join(inv.errors) or f"pytest exited with status {code}"
        raise AssignmentError(f"the hidden suite in {tests_dir} cannot be used:\n{detail}")
    return inv.items


def run(tests_dir: Path, session, base_seed: str) -> list[Outcome]:
    """Run the suite against `session`; every collected test gets an Outcome."""
    judge = Judge(session, base_seed)
    code = _run_pytest(tests_dir, judge, [])
    if judge.errors or not judge.items:
        raise AssignmentError("the hidden suite could not run:\n" + ("\n".join(judge.errors)
                                                                     or f"pytest exited with {code}"))
    return judge.items


__all__ = ["Outcome", "Student", "collect", "run", "student_message"]

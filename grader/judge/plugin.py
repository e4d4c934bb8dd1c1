"""The pytest side of the judge: the `student` fixture and the collection of outcomes.

The hidden suite runs in this trusted process with assertion rewriting off, so a failing bare
``assert x == y, "message"`` shows only its message, never the compared values.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.errors import AssignmentError, ProbeError
from grader.judge import pytest_shim
from grader.testing import CUDA_MARK, QUESTION_MARK, GradingFailure, Probe

_RERAISE = (pytest.exit.Exception, KeyboardInterrupt)
_PYTEST_OUTCOMES = (pytest.skip.Exception, pytest.fail.Exception, pytest.xfail.Exception, pytest.exit.Exception)
# pytest's plugins whose per-test hooks a directly called test does without (see WarmSuite._direct)
_OWN_PLUGINS = frozenset({"runner", "skipping", "capturemanager", "python", "unittest", "tmpdir", "fixtures"})
# pytest's plugins the judge has no use for: each one's hooks run for every test of every submission
_UNUSED_PLUGINS = ("terminal", "cacheprovider", "warnings", "logging", "faulthandler", "threadexception",
                   "unraisableexception", "junitxml", "doctest", "pastebin", "stepwise", "setuponly", "setupplan",
                   "debugging")
AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"      # set while the judge's pytest starts
PYTEST_ARGS = [*(arg for name in _UNUSED_PLUGINS for arg in ("-p", f"no:{name}")), "--assert=plain",
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

    def cases(self, *fixed, draw=None, n: int = 2) -> list:
        """The cases one test checks, in order: the `fixed` ones (the smallest legal sizes, the
        notebook's own example), then `n` drawn by `draw(self.rng)` (sizes far from the example).
        At least three in all: an answer that only works for one size must not pass by the luck
        of a single draw::

            for n, d in student.cases((1, 1), (2, 4), draw=lambda rng: (rng.randint(5, 9), 7)):
                ...
        """
        if draw is None and n != 2:
            raise TypeError("student.cases(n=...) needs draw=")
        out = [*fixed, *(draw(self.rng) for _ in range(n))] if draw is not None else list(fixed)
        if len(out) < 3:
            raise TypeError(f"a hidden test should check at least three cases, not {len(out)}")
        return out

    def probe(self, fn: Probe, *, timeout: float | None = None, **kwargs):
        """Run probe `fn` in the student process with `kwargs` (plain data) and return its value."""
        if not isinstance(fn, Probe):
            raise TypeError(f"student.probe needs a function decorated with @probe, got {fn!r}")
        return self._session.probe(fn.name, fn.source, kwargs, timeout)


def _seed(base: str, nodeid: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{base}|{nodeid}".encode()).digest()[:4], "big")


# raised by a test's own mistakes whatever the student answered: never the student's fault
_TEST_FAULTS = (NameError, ImportError, SyntaxError, NotImplementedError, AssignmentError)


def student_message(exc: BaseException, answered: bool = False) -> tuple[str, bool]:
    """(message safe to show the student, whether the test itself failed to run).

    `answered` says whether a probe of this test returned a value before `exc` was raised.  From
    then on the test is handling what the student returned, which can be anything plain data can
    be (a dict where a tensor was expected, a string for a number, an enormous tensor), so an
    exception other than a test's own mistakes (NameError, ImportError...) is the student's
    answer failing the test: the test fails for the student, with a message, and is not shown to
    the instructor as broken.  A test that raises before any probe answered, or with one of those
    mistakes, is broken.  A test broken for every answer still shows: the solution fails it
    (`grader verify`)."""
    if isinstance(exc, (GradingFailure, ProbeError)):
        return str(exc), False
    if type(exc) is AssertionError:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return first or "A check in this test failed.", False
    if answered and isinstance(exc, Exception) and not isinstance(exc, _TEST_FAULTS):
        return (f"Your code returned something this test could not use ({type(exc).__name__}). Make "
                "sure it returns what the question asks for: the right type, shape and dtype."), False
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

    def __init__(self, session, base_seed: str, questions: frozenset | None = None) -> None:
        super().__init__()
        self.session, self.base_seed = session, base_seed
        self.questions = questions      # run only these questions' tests (None: all)
        self.by_id: dict[str, Outcome] = {}
        self._test_seed = 0   # the seed of the test being set up, for its `student`
        self._answers = 0     # the session's answer count when that test was set up

    def answered(self) -> bool:
        """Whether a probe of the test being run has returned a value (see student_message)."""
        return getattr(self.session, "answers", 0) > self._answers

    def pytest_collection_modifyitems(self, config, items) -> None:
        super().pytest_collection_modifyitems(items)
        if self.questions is not None:
            keep = {o.nodeid for o in self.items if o.question in self.questions}
            config.hook.pytest_deselected(items=[i for i in items if i.nodeid not in keep])
            items[:] = [i for i in items if i.nodeid in keep]
            self.items = [o for o in self.items if o.nodeid in keep]
        self.by_id = {o.nodeid: o for o in self.items}

    @pytest.hookimpl(tryfirst=True)     # before pytest's own setup builds the fixtures
    def pytest_runtest_setup(self, item) -> None:
        import torch

        seed = self._test_seed = _seed(self.base_seed, item.nodeid)     # the same draws whatever ran before
        self._answers = getattr(self.session, "answers", 0)
        random.seed(seed)
        torch.default_generator.manual_seed(seed)   # torch.manual_seed also queues CUDA seeding, with a stack trace
        device = str(getattr(self.session, "device", "cpu") or "cpu")
        if item.get_closest_marker(CUDA_MARK) is not None and not device.startswith("cuda"):
            pytest.skip("needs a CUDA GPU; this grader ran your notebook on the CPU, so it does not count")

    @pytest.fixture
    def student(self) -> Student:     # no `request`: pytest builds a fixture definition per test for it
        return Student(self.session, self._test_seed)

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
            message, internal = student_message(call.excinfo.value, self.answered())
            if report.when != "call":
                internal = True
            record.outcome = "error" if internal else "failed"
            record.message = message
            record.detail = report.longreprtext[-6000:] if internal else ""
        elif report.failed and report.when == "call":     # an xfail(strict=True) test that passed
            record.outcome, record.message = "failed", str(report.longrepr or "This test should have failed.")


class _QuickReports:
    """Registered alongside every judge: reports for tests whose body raised."""

    def __init__(self, judge) -> None:
        self.judge = judge

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        """The report of a test whose body raised, made without pytest's: that one formats its
        traceback by reading and parsing the test's source file anew for every failing test (most
        of the judge's time in a class where many answers are wrong), only for the judge to keep
        the message, or the traceback for the instructor when the test itself broke.  Skips,
        pytest.fail and xfail still get pytest's own report."""
        if call.when != "call" or call.excinfo is None or isinstance(call.excinfo.value, _PYTEST_OUTCOMES):
            return None
        answered = getattr(self.judge, "answered", None)
        message, internal = student_message(call.excinfo.value, bool(answered and answered()))
        return pytest_shim.failed_report(item, call, _traceback_text(item, call.excinfo) if internal else message)


def _traceback_text(item, excinfo) -> str:
    """The exception's traceback from the test function down, as Python prints it (from the
    source lines, never parsing the file)."""
    code = getattr(getattr(item, "obj", None), "__code__", None)
    tb = excinfo.tb
    while tb is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next
    exc = excinfo.value
    return "".join(traceback.format_exception(type(exc), exc, tb or excinfo.tb))


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else "skipped"


def _run_pytest(tests_dir: Path, plugin, extra: list[str]) -> int:
    """pytest on the hidden suite with the judge's plugins and pytest's own, and no other: a
    plugin installed beside the grader (anyio's comes with the service's dependencies) would put
    hooks on every test's way, and the suite must grade the same wherever it runs."""
    args = [str(tests_dir), "--rootdir", str(tests_dir), *PYTEST_ARGS, *extra]
    _forget_namesakes(tests_dir)
    before = os.environ.get(AUTOLOAD)
    os.environ[AUTOLOAD] = "1"
    try:
        return int(pytest.main(args, plugins=[plugin, _QuickReports(plugin)]))
    finally:
        if before is None:
            os.environ.pop(AUTOLOAD, None)
        else:
            os.environ[AUTOLOAD] = before


def collect(tests_dir: Path) -> list[Outcome]:
    """The tests of a hidden suite with their questions and points; raises AssignmentError.

    The test modules it imports are forgotten again: pytest reuses a module already imported under
    the same name, so another suite's `test_q1.py` collected later in this process would otherwise
    be read from the first one."""
    inv = _Inventory()
    before = set(sys.modules)
    try:
        code = _run_pytest(tests_dir, inv, ["--collect-only"])
    finally:
        _forget_modules(tests_dir, before)
    if inv.errors or code not in (0,):
        detail = "\n".join(inv.errors) or f"pytest exited with status {code}"
        raise AssignmentError(f"the hidden suite in {tests_dir} cannot be used:\n{detail}")
    return inv.items


def _forget_namesakes(tests_dir: Path) -> None:
    """Drop from sys.modules another suite's modules named as this suite's files are.  pytest
    (importlib mode, the rootdir the suite's own folder) names `tests_dir/test_q1.py` `test_q1`
    and reuses a module already imported under that name: a warm suite, or one collected before,
    keeps another assignment's `test_q1.py` there."""
    root = tests_dir.resolve()
    for path in root.rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None) if module is not None else None
        if where and Path(where).resolve() != path:
            del sys.modules[name]


def _forget_modules(tests_dir: Path, before: set[str]) -> None:
    """Drop from sys.modules what was imported from under `tests_dir` since `before`."""
    root = tests_dir.resolve()
    for name in set(sys.modules) - before:
        path = getattr(sys.modules[name], "__file__", None)
        if path and Path(path).resolve().is_relative_to(root):
            del sys.modules[name]


def run(tests_dir: Path, session, base_seed: str, *, warm_key: str | None = None,
        questions: frozenset | None = None) -> list[Outcome]:
    """Run the suite against `session`; every collected test (of `questions`, when given) gets an
    Outcome.

    With `warm_key` (the suite's content hash) the suite stays collected in this process for the
    next submission; without it, pytest collects and runs it afresh."""
    if warm_key is not None:
        from grader.judge.warm import warm_suite

        return warm_suite(tests_dir, warm_key).run(session, base_seed, questions)
    judge = Judge(session, base_seed, questions)
    before = set(sys.modules)
    try:
        code = _run_pytest(tests_dir, judge, [])
    finally:
        _forget_modules(tests_dir, before)
    if judge.errors or not judge.items:
        raise AssignmentError("the hidden suite could not run:\n" + ("\n".join(judge.errors)
                                                                     or f"pytest exited with {code}"))
    return judge.items


__all__ = ["Judge", "Outcome", "Student", "collect", "run", "student_message"]

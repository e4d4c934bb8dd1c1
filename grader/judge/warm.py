"""The warm judge: a hidden suite collected once per worker slot and run against one submission
after another, its plain tests called directly instead of through pytest's per-test machinery.

Every use of pytest's private internals is in grader/judge/pytest_shim.py; where one is missing
(another pytest), a test goes through pytest's own `pytest_runtest_protocol` instead.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import queue
import threading
from collections import OrderedDict
from pathlib import Path

import pytest

from grader.errors import AssignmentError
from grader.judge import pytest_shim
from grader.judge.plugin import (_OWN_PLUGINS, _RERAISE, CUDA_MARK, QUESTION_MARK, Judge, Outcome, Probe, Student,
                                 _QuickReports, _run_pytest)


class WarmSuite(Judge):
    """A hidden suite collected once and run against one submission after another.

    pytest runs in a thread of its own; its run loop waits for a submission, runs every collected
    test against it with a full teardown after the last one (module and session fixtures too), and
    puts the test modules' globals back as collection left them before the next submission."""

    def __init__(self, tests_dir: Path) -> None:
        super().__init__(None, "")
        self.tests_dir = tests_dir
        self._jobs: queue.Queue = queue.Queue()
        self._done: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self.exit_code: int | None = None
        self.probes: tuple = ()          # (name, source) of every probe the collected modules define
        self.called_directly: set = set()   # nodeids of the tests run without pytest's per-test machinery
        self.inventory: list[Outcome] = []    # every collected test, as collection left it
        self._thread = threading.Thread(target=self._main, name=f"suite {tests_dir}", daemon=True)
        self._thread.start()      # collects while the caller starts the student process

    def _main(self) -> None:
        try:
            self.exit_code = _run_pytest(self.tests_dir, self, ["--capture=no"])
        finally:
            self._ready.set()
            self._done.put(None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        self.inventory = list(self.items)
        self._ready.set()
        if self.errors or not session.items:
            return True
        modules = {id(m): (m, _copyable(m.__dict__)) for m in (getattr(i, "module", None) for i in session.items)
                   if m is not None}
        self.probes = tuple(sorted({(v.name, v.source) for m, _ in modules.values() for v in vars(m).values()
                                    if isinstance(v, Probe)}))
        items = session.items
        direct = [self._direct(item) for item in items]
        self.called_directly = {item.nodeid for item, d in zip(items, direct) if d}
        while (job := self._jobs.get()) is not None:
            for module, globals_ in modules.values():
                module.__dict__.clear()
                module.__dict__.update(_fresh(globals_))
            self.session, self.base_seed, only = job
            self.items = [dataclasses.replace(o) for o in self.inventory if only is None or o.question in only]
            self.by_id = {o.nodeid: o for o in self.items}
            # pytest's setup state only sees the tests run through pytest: each one's teardown is
            # told which of those runs next in this job (a job of some questions skips the rest;
            # the direct calls in between need none of its fixtures)
            runs = [i for i, item in enumerate(items) if item.nodeid in self.by_id]
            after = [next((items[j] for j in runs if j > i and not direct[j]), None)
                     for i in range(len(items))]
            for item, is_direct, nextitem in zip(items, direct, after):
                if item.nodeid not in self.by_id:
                    continue
                if is_direct:
                    self._call_item(item)
                elif item.get_closest_marker("xfail") is not None or not pytest_shim.can_run_phases(item):
                    item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)   # pytest's own way
                else:
                    self._run_item(item, nextitem)
            self.session = None
            self._done.put(self.items)
        return True

    def _direct(self, item) -> bool:
        """Whether `item` is a plain test function that pytest would only set up, call and tear
        down: no fixture but `student`, no mark but the grader's, and no hook on its way but
        pytest's own and this plugin's (a conftest's hook or fixture sends it through pytest)."""
        if type(item) is not pytest.Function or item.cls is not None or hasattr(item, "callspec"):
            return False
        if not pytest_shim.can_run_phases(item):
            return False
        if inspect.iscoroutinefunction(item.obj) or inspect.isasyncgenfunction(item.obj) \
                or inspect.isgeneratorfunction(item.obj):
            return False
        if not pytest_shim.student_only(item, self):
            return False
        if any(mark.name not in (QUESTION_MARK, CUDA_MARK) for mark in item.iter_markers()):
            return False
        hooks = ("pytest_runtest_setup", "pytest_runtest_call", "pytest_runtest_teardown", "pytest_pyfunc_call",
                 "pytest_runtest_makereport", "pytest_fixture_setup")
        return pytest_shim.only_own_hooks(item, self, hooks, (_QuickReports,), _OWN_PLUGINS)

    def _call_item(self, item) -> None:
        """A plain test function (see `_direct`) called as pytest would call it, without pytest's
        per-test machinery: this plugin's setup (seeds, the CUDA mark), the `student` fixture,
        the call.  A phase that raises is reported through `pytest_runtest_makereport` as usual."""
        record = self.by_id.get(item.nodeid)
        ihook = item.ihook
        setup = pytest.CallInfo.from_call(lambda: self.pytest_runtest_setup(item), when="setup", reraise=_RERAISE)
        if setup.excinfo is not None:
            ihook.pytest_runtest_makereport(item=item, call=setup)
            return
        args = {"student": Student(self.session, self._test_seed)} if item.fixturenames else {}
        function = item.obj
        call = pytest.CallInfo.from_call(lambda: function(**args), when="call", reraise=_RERAISE)
        if call.excinfo is not None:
            ihook.pytest_runtest_makereport(item=item, call=call)
            if record is not None:
                record.duration += setup.duration
        elif record is not None:
            record.duration += setup.duration + call.duration
            record.outcome, record.message = "passed", ""

    def _run_item(self, item, nextitem) -> None:
        """pytest's setup, call and teardown hooks for one test, without its report and logging
        hooks: a phase that raises goes through `pytest_runtest_makereport` as usual (skips and
        errors are recorded exactly as pytest reports them); a phase that passes is recorded here."""
        record = self.by_id.get(item.nodeid)
        pytest_shim.begin(item)
        ihook = item.ihook
        phases = (("setup", lambda: ihook.pytest_runtest_setup(item=item)),
                  ("call", lambda: ihook.pytest_runtest_call(item=item)),
                  ("teardown", lambda: ihook.pytest_runtest_teardown(item=item, nextitem=nextitem)))
        try:
            set_up = True
            for when, hook in phases:
                if when == "call" and not set_up:
                    continue
                call = pytest.CallInfo.from_call(hook, when=when, reraise=_RERAISE)
                if call.excinfo is not None:
                    ihook.pytest_runtest_makereport(item=item, call=call)
                    set_up = set_up and when != "setup"
                elif record is not None:
                    record.duration += call.duration
                    if when == "call":
                        record.outcome, record.message = "passed", ""
        finally:
            pytest_shim.end(item)

    def alive(self) -> bool:
        return self._thread.is_alive() and not self.errors

    def collected(self) -> list[Outcome] | None:
        """The collected tests (waiting for collection to end), or None when it failed or found
        none: `collect` then says why in its own words."""
        self._ready.wait()
        return list(self.inventory) if self.inventory and self.alive() else None

    def run(self, session, base_seed: str, questions: frozenset | None = None) -> list[Outcome]:
        self._ready.wait()
        if not self.alive():
            raise AssignmentError("the hidden suite could not run:\n" + ("\n".join(self.errors)
                                                                         or f"pytest exited with {self.exit_code}"))
        self._jobs.put((session, base_seed, questions))
        items = self._done.get()
        if items is None:
            raise AssignmentError("the hidden suite stopped while it ran")
        return items

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(30)


def _copyable(namespace: dict) -> dict:
    """(value, deep-copy it for each submission?) for every name a test module defines."""
    out = {}
    for name, value in namespace.items():
        if name.startswith("__"):
            out[name] = (value, False)
            continue
        try:
            copy.deepcopy(value)
            out[name] = (value, True)
        except Exception:  # noqa: BLE001 - modules, locks, generators: shared as they are
            out[name] = (value, False)
    return out


def _fresh(saved: dict) -> dict:
    """The module's globals as collection left them: lists, dicts, tensors... copied anew, so what
    one submission's tests appended is gone for the next.  Functions and classes are shared."""
    return {name: copy.deepcopy(value) if deep else value for name, (value, deep) in saved.items()}


_warm: "OrderedDict[tuple, WarmSuite]" = OrderedDict()
WARM_SUITES = 4


def warm_suite(tests_dir: Path, warm_key: str) -> WarmSuite:
    """This process's collected suite for `tests_dir` with content hash `warm_key`; a new one
    starts collecting in the background (call early: the first run waits for it)."""
    key = (str(tests_dir), warm_key)
    suite = _warm.pop(key, None)
    if suite is None or not suite._thread.is_alive():
        suite = WarmSuite(tests_dir)
    _warm[key] = suite
    while len(_warm) > WARM_SUITES:
        _warm.popitem(last=False)[1].close()
    return suite


__all__ = ["WarmSuite", "warm_suite"]

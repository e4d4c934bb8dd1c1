"""Forging runners: stand-ins for the student process that prove a hidden suite trusts nothing
the student process says.

The student process can lie about everything, including the code that answers probes.  A hidden
test is sound only if the plain values it receives cannot pass without the work being done.  A
*forger* answers every probe with the most favourable forgery that can be derived without
solving the question, and every hidden test must fail under every forger:

    replay     the reference solution's answer to the same probe call in a run with other seeds
               (an answer hard-coded to the notebook's example, or copied from a friend's run)
    echo       every tensor is an input tensor of the probe with the same shape (cast to the
               answer's dtype), else zeros; every flag is True
    rows       echo, where item i of an answer list of length n first tries row i of every input
               tensor with n rows (as a tensor, or as the number of a row of one value): the
               answer to the judge's i-th case echoes the judge's i-th value.  Where one of
               those echoes is what the solution answered, every string, number and flag of
               the answer is the solution's own: a test that then passes rests on tensors a
               forger can echo, whatever else it checks
    nan        every floating-point tensor and number is NaN, integer tensors are zeros; flags True
    zeros      every tensor and number is 0; flags True
    identity   square matrices are the identity, other tensors ones, numbers 1; flags True

A forgery keeps the answer's *structure*: dict keys, list lengths, tensor shapes and dtypes, which
the notebook's text tells a student anyway.  The forger learns it by asking the reference solution,
in a real sandbox, the very same probe call, and then throws every value away.  Strings, which are
mostly type and parameter names, come from the other-seed run, as do the numbers of `echo`: what
does not depend on the test's inputs is what a forging student can know.  A probe that raised in
the solution raises the same error under every forger.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from grader import protocol
from grader.assignment import Assignment
from grader.errors import AssignmentError, ProbeError
from grader.judge import plugin

FORGERS = ("replay", "echo", "rows", "nan", "zeros", "identity")
_RECORD_SEED, _FORGE_SEED = "forge-record", "forge-check"


@dataclass
class ForgeReport:
    """Which hidden tests passed under which forger (a sound suite has none)."""

    assignment: str
    tests: int = 0
    survivors: dict[str, list[str]] = field(default_factory=dict)   # forger -> nodeids that passed

    @property
    def surviving(self) -> int:
        """How many (forger, test) pairs passed: 0 for a sound suite."""
        return sum(len(v) for v in self.survivors.values())


def _current_test() -> str:
    """The nodeid of the hidden test pytest is running now."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]


def _kwargs_key(name: str, kwargs: dict) -> str:
    return hashlib.sha256(name.encode() + protocol.encode_frame({}, {"kwargs": kwargs})).hexdigest()


class _Reference:
    """The reference solution's session: answers, cached by probe and inputs, and errors."""

    def __init__(self, session) -> None:
        self.session = session
        self.device = session.device
        self._answers: dict[str, tuple[bool, object]] = {}

    def ask(self, name: str, source: str, kwargs: dict, timeout):
        """(raised, value or exception) of the solution for this probe call."""
        key = _kwargs_key(name, kwargs)
        if key not in self._answers:
            try:
                self._answers[key] = (False, self.session.probe(name, source, kwargs, timeout))
            except ProbeError as exc:
                self._answers[key] = (True, exc)
        return self._answers[key]


class _Recorder:
    """A session that passes probes to the reference and records each answer by (test, probe, n)."""

    def __init__(self, reference: _Reference) -> None:
        self.reference, self.device = reference, reference.device
        self.record: dict[tuple, tuple[bool, object]] = {}
        self._calls: dict[tuple, int] = {}

    def _key(self, name: str) -> tuple:
        test = _current_test()
        n = self._calls[(test, name)] = self._calls.get((test, name), 0) + 1
        return test, name, n

    def probe(self, name: str, source: str, kwargs: dict, timeout=None):
        key = self._key(name)
        raised, value = self.record[key] = self.reference.ask(name, source, kwargs, timeout)
        if raised:
            raise value
        return value


class _Forger(_Recorder):
    """A session whose every answer is a forgery of kind `kind` (see the module's docstring)."""

    def __init__(self, reference: _Reference, recorded: dict, kind: str) -> None:
        super().__init__(reference)
        self.recorded, self.kind = recorded, kind

    def probe(self, name: str, source: str, kwargs: dict, timeout=None):
        other = self.recorded.get(self._key(name), (True, None))
        raised, value = self.reference.ask(name, source, kwargs, timeout)
        if raised:
            raise value
        if self.kind == "replay":
            return value if other[0] else other[1]
        forged = forge(self.kind, value, None if other[0] else other[1], _tensors(kwargs))
        if self.kind == "rows" and _echoes(forged, value):
            return _tensors_from(forged, value)
        return forged


def _pairs(forged, value):
    """The (forged, solution's) pairs of tensors at the same place of an answer."""
    import torch

    if isinstance(value, torch.Tensor):
        return [(forged, value)] if isinstance(forged, torch.Tensor) else []
    if isinstance(value, dict) and isinstance(forged, dict):
        return [p for k, v in value.items() if k in forged for p in _pairs(forged[k], v)]
    if isinstance(value, (list, tuple)) and isinstance(forged, (list, tuple)):
        return [p for f, v in zip(forged, value) for p in _pairs(f, v)]
    return []


def _echoes(forged, value) -> bool:
    """Whether an echoed tensor of `forged` (not the zeros it falls back to) is the solution's."""
    import torch

    return any(f.shape == v.shape and f.dtype == v.dtype and bool(f.detach().ne(0).any())
               and torch.equal(f.detach(), v.detach()) for f, v in _pairs(forged, value))


def _tensors_from(forged, value):
    """`value` (the solution's answer) with every tensor taken from `forged`."""
    import torch

    if isinstance(value, torch.Tensor):
        return forged
    if isinstance(value, dict):
        return {k: _tensors_from(forged[k], v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_tensors_from(f, v) for f, v in zip(forged, value)]
        return tuple(items) if isinstance(value, tuple) else items
    return value


def _tensors(value) -> list:
    """Every tensor inside the probe's inputs."""
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def forge(kind: str, shape_of, other, inputs: list, rows: tuple = ()):
    """A forgery of kind `kind` with the structure of `shape_of`; `other` is the same answer from a
    run with other seeds (or None), `inputs` the probe's input tensors and `rows` (for `rows`) the
    rows of them that belong to this part of the answer."""
    import torch

    if isinstance(shape_of, torch.Tensor):
        return _forged_tensor(kind, shape_of, [*rows, *inputs])
    if isinstance(shape_of, torch.Size):
        return shape_of                 # structure, like dtypes and None
    if isinstance(shape_of, dict):
        other = other if isinstance(other, dict) else {}
        return {k: forge(kind, v, other.get(k), inputs, rows) for k, v in shape_of.items()}
    if isinstance(shape_of, (list, tuple)):
        other = other if isinstance(other, (list, tuple)) else []
        items = [forge(kind, v, other[i] if i < len(other) else None, inputs,
                       (*_rows(kind, inputs, i, len(shape_of)), *rows))
                 for i, v in enumerate(shape_of)]
        return tuple(items) if isinstance(shape_of, tuple) else items
    if isinstance(shape_of, bool):
        return True
    if isinstance(shape_of, (int, float)):
        return _forged_number(kind, shape_of, other, rows)
    if isinstance(shape_of, (str, protocol.UnsupportedValue)):
        return other if isinstance(other, (str, protocol.UnsupportedValue)) else ""
    return shape_of                     # None and dtypes are structure


def _rows(kind: str, inputs: list, i: int, n: int) -> tuple:
    """For `rows`, row i of every input tensor with n rows: what item i of a list of n echoes."""
    if kind != "rows":
        return ()
    return tuple(t[i] for t in inputs if t.dim() > 0 and t.shape[0] == n)


def _forged_number(kind: str, like, other, rows: tuple = ()):
    number = {"nan": float("nan"), "zeros": 0, "identity": 1}.get(kind)
    single = [r.item() for r in rows if r.numel() == 1 and not r.is_complex()]
    single = [v for v in single if v == v and abs(v) != float("inf")]
    if kind == "rows" and single:       # the number in the row that belongs here
        number = single[0]
    if number is None:                  # echo: what another run said, if it said a number
        number = other if isinstance(other, (int, float)) and not isinstance(other, bool) else 0
    if isinstance(like, int):
        return 0 if number != number else int(number)
    return float(number)


def _forged_tensor(kind: str, like, inputs: list):
    import torch

    shape, dtype = like.shape, like.dtype
    floating = dtype.is_floating_point or dtype.is_complex
    if kind in ("echo", "rows"):
        same = next((t for t in inputs if t.shape == shape), None)
        t = same.detach().to(dtype).clone() if same is not None else torch.zeros(shape, dtype=dtype)
    elif kind == "nan":
        t = torch.full(shape, float("nan"), dtype=dtype) if floating else torch.zeros(shape, dtype=dtype)
    elif kind == "identity" and len(shape) == 2 and shape[0] == shape[1]:
        t = torch.eye(shape[0], dtype=dtype)
    else:
        t = torch.zeros(shape, dtype=dtype) if kind == "zeros" else torch.ones(shape, dtype=dtype)
    if like.requires_grad and floating:
        t.requires_grad_(True)
    if isinstance(like, torch.nn.Parameter):
        return torch.nn.Parameter(t.detach(), requires_grad=like.requires_grad)
    return t


def check_assignment(asg: Assignment, solution: Path, *, sandbox: str = "auto",
                     forgers: tuple[str, ...] = FORGERS) -> ForgeReport:
    """Run `asg`'s hidden suite under every forger, the structure of each answer taken from the
    `solution` notebook run in a `sandbox`; the report lists the tests that passed."""
    report = ForgeReport(asg.name)
    with _solution_session(asg, solution, sandbox) as session:
        reference = _Reference(session)
        recorder = _Recorder(reference)
        outcomes = plugin.run(asg.tests_dir, recorder, base_seed=_RECORD_SEED)
        report.tests = sum(o.outcome != "skipped" for o in outcomes)
        failed = [o.nodeid for o in outcomes if o.outcome not in ("passed", "skipped")]
        if failed:
            raise AssignmentError(f"{asg.name}: the solution fails {', '.join(failed)} "
                                  "when run for the forging check")
        for kind in forgers:
            outcomes = plugin.run(asg.tests_dir, _Forger(reference, recorder.record, kind),
                                  base_seed=_FORGE_SEED)
            report.survivors[kind] = [o.nodeid for o in outcomes if o.outcome == "passed"]
    return report


@contextmanager
def _solution_session(asg: Assignment, notebook: Path, sandbox: str):
    """A live student session that has run `notebook` (the reference solution)."""
    from grader.judge.grade import GradeOptions, launch_spec
    from grader.judge.session import StudentSession
    from grader.notebook import code_cells, parse_notebook
    from grader.sandbox import resolve_backend

    options = GradeOptions(sandbox=sandbox, warm=False)
    backend = resolve_backend(sandbox, warm=False)
    limits = options.limits(asg)
    workdir = Path(tempfile.mkdtemp(prefix="sub-forge-"))
    try:
        session = StudentSession(backend, launch_spec(asg, workdir, backend.name, options, limits),
                                 cell_timeout=limits["cell_timeout"],
                                 notebook_timeout=limits["notebook_timeout"],
                                 probe_timeout=limits["probe_timeout"])
        try:
            run = session.run_notebook(code_cells(parse_notebook(notebook.read_bytes())))
            if run.status != "ok":
                raise AssignmentError(f"{asg.name}: the solution did not run for the forging check: "
                                      f"{run.reason}")
            yield session
        finally:
            session.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


__all__ = ["FORGERS", "ForgeReport", "check_assignment", "forge"]

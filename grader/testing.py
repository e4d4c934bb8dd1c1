"""The authoring API for hidden test suites.

A hidden test is ordinary pytest.  It asks the student process questions with *probes* and checks
the plain data that comes back, in the judge's own process with pristine torch::

    from grader.testing import probe, question, tensors_close, expect

    @probe
    def forward(ns, x):                         # runs inside the student process
        return ns.MyLinear(4, 3)(x).detach()

    @question("q1", points=2)
    def test_forward(student):
        x = torch.randn(5, 4, generator=student.generator)
        tensors_close(student.probe(forward, x=x), reference(x), name="MyLinear output")

Every failure message here is written for students: it says what is wrong with their answer and
never quotes the expected values or the test's source.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from grader.protocol import UnsupportedValue

__all__ = ["GradingFailure", "Probe", "probe", "question", "expect", "assert_tensor", "assert_finite",
           "valid_tensor", "tensors_equal", "tensors_close", "assert_type", "requires_cuda", "torch_calls",
           "expect_calls"]

QUESTION_MARK = "grader_question"
CUDA_MARK = "grader_cuda"

#: Mark a test that only makes sense on a GPU: on a CPU-only grader it is reported as not run and
#: counts toward neither the score nor the maximum.
requires_cuda = getattr(pytest.mark, CUDA_MARK)


class GradingFailure(AssertionError):
    """A check on the student's answer failed; the message is shown to the student."""


class Probe:
    """A function shipped, as source, into the student process and run on its namespace, with
    the helper functions it `uses` defined beside it."""

    def __init__(self, fn, uses: tuple = ()) -> None:
        self.fn = fn
        self.name = fn.__name__
        for helper in uses:
            if isinstance(helper, Probe) or not inspect.isfunction(helper) or helper.__name__ == self.name:
                raise TypeError(f"@probe(uses=...) takes plain functions other than the probe, not {helper!r}")
        self.source = "".join(_standalone_source(h) for h in uses) + _standalone_source(fn)
        unseen = _unseen_names(self.source)
        if unseen:
            raise NameError(
                f"probe {self.name} uses {', '.join(unseen)}, which the student process cannot see: a probe "
                "has only its arguments, ns, torch, nn, F, math, random, the builtins and the functions named "
                "in @probe(uses=[...]); pass the value as an argument, import it inside the probe, or add "
                "the helper to uses=")

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<probe {self.name}>"


PROBE_GLOBALS = frozenset({"torch", "nn", "F", "math", "random"})   # what the runner gives every probe


def _unseen_names(source: str) -> list[str]:
    """The global names `source` (a probe with its helpers) reads that the student process will not
    define: not a builtin, not one of PROBE_GLOBALS, not defined by the source itself."""
    import builtins
    import symtable

    top = symtable.symtable(source, "<probe>", "exec")
    known = set(dir(builtins)) | PROBE_GLOBALS | {s.get_name() for s in top.get_symbols() if s.is_assigned()
                                                  or s.is_imported()}
    read: set[str] = set()

    def walk(table) -> None:
        for sym in table.get_symbols():
            if sym.is_referenced() and (sym.is_global() or table.get_type() == "module"):
                read.add(sym.get_name())
        for child in table.get_children():
            walk(child)

    walk(top)
    return sorted(read - known)


def _standalone_source(fn) -> str:
    """The function's own source without decorators: it must not rely on the test module."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise TypeError(f"@probe must decorate a plain function, not {type(node).__name__}")
    node.decorator_list = []
    return ast.unparse(node) + "\n"


def probe(fn=None, *, uses=()):
    """Mark `fn(ns, **kwargs)` as a probe.  It may use only its arguments, `ns`, the modules
    torch, nn, F, math and random (or import others in its body), and the plain functions named in
    `uses` (`@probe(uses=[build_model])`), which travel with it; it must return plain data."""
    if fn is None:
        return lambda f: Probe(f, tuple(uses))
    return Probe(fn, tuple(uses))


def question(qid: str, points: float):
    """Tie a test to question `qid`; passing it earns `points`."""
    if not isinstance(qid, str) or not qid:
        raise TypeError("question id must be a non-empty string")
    if not isinstance(points, (int, float)) or points < 0:
        raise TypeError("points must be a non-negative number")
    return getattr(pytest.mark, QUESTION_MARK)(qid, points=points)


def expect(condition, message: str) -> None:
    """Fail the test with `message` (shown to the student) unless `condition` is true."""
    if not condition:
        raise GradingFailure(message)


def _type_name(value) -> str:
    if isinstance(value, UnsupportedValue):
        return value.type_name
    return type(value).__name__


def assert_type(value, expected: type, *, name: str = "result") -> None:
    """`value` is exactly of type `expected` (a subclass is not enough)."""
    if type(value) is not expected:
        raise GradingFailure(f"{name} should be of type {expected.__name__}, "
                             f"but your code gave {_type_name(value)}.")


def assert_tensor(actual, *, dtype=None, shape=None, name: str = "result") -> None:
    """`actual` is exactly a torch.Tensor with the given dtype and shape (when given)."""
    import torch

    if type(actual) is not torch.Tensor:
        raise GradingFailure(f"{name} should be a torch.Tensor, but your code gave {_type_name(actual)}.")
    if dtype is not None and actual.dtype != dtype:
        raise GradingFailure(f"{name} has dtype {actual.dtype}, but it should be {dtype}.")
    if shape is not None and tuple(actual.shape) != tuple(shape):
        raise GradingFailure(f"{name} has shape {tuple(actual.shape)}, but it should be {tuple(shape)}.")


def _same_kind(actual, expected, name: str) -> None:
    assert_tensor(actual, dtype=expected.dtype, shape=expected.shape, name=name)


def _mismatch(actual, expected, bad) -> str:
    count, total = int(bad.sum()), bad.numel()
    return f"{count} of {total} values differ from the correct result"


def _non_finite(t) -> int:
    """How many values of `t` are NaN or infinite (0 for integer and bool tensors)."""
    import torch

    if not (t.is_floating_point() or t.is_complex()):
        return 0
    return int((~torch.isfinite(t)).sum())


def assert_finite(actual, *, name: str = "result") -> None:
    """`actual` is a torch.Tensor whose values are all finite (no NaN, no inf)."""
    import torch

    if type(actual) is not torch.Tensor:
        raise GradingFailure(f"{name} should be a torch.Tensor, but your code gave {_type_name(actual)}.")
    bad = _non_finite(actual.detach())
    if bad:
        raise GradingFailure(f"{name} holds {bad} NaN or infinite values of {actual.numel()}.")


def valid_tensor(actual, *, dtype=None, shape=None, finite: bool = True, name: str = "result"):
    """`actual` after checking that it is exactly a torch.Tensor of `dtype` and `shape` (when given)
    with finite values (unless `finite=False`); returns it detached.

    Call this on every tensor the student process reported before the judge computes anything from
    it: a reference built from NaN weights, a broadcast of a wrongly shaped bias or a huge tensor
    is otherwise computed before any check could fail."""
    assert_tensor(actual, dtype=dtype, shape=shape, name=name)
    if finite:
        assert_finite(actual, name=name)
    return actual.detach()


def tensors_equal(actual, expected, *, equal_nan: bool = False, name: str = "result") -> None:
    """Exact type torch.Tensor, same dtype and shape, identical values.  NaN matches nothing,
    not even NaN, unless `equal_nan=True`."""
    import torch

    _same_kind(actual, expected, name)
    a, e = actual.detach(), expected.detach()
    if torch.equal(a, e):                  # one call for the common case (NaN is never equal here)
        return
    same = a == e
    if equal_nan and (a.is_floating_point() or a.is_complex()):
        same |= torch.isnan(a) & torch.isnan(e)
    if not bool(same.all()):
        raise GradingFailure(f"{name} has the right shape and dtype, but {_mismatch(a, e, ~same)}.")


def tensors_close(actual, expected, *, rtol: float = 1e-5, atol: float = 1e-6, equal_nan: bool = False,
                  name: str = "result") -> None:
    """Exact type torch.Tensor, same dtype and shape, values equal within tolerance
    (|actual - expected| <= atol + rtol * |expected|).  NaN matches nothing unless `equal_nan=True`;
    an infinity matches only the same infinity."""
    import torch

    _same_kind(actual, expected, name)
    a, e = actual.detach(), expected.detach()
    if not (a.is_floating_point() or a.is_complex()):
        return tensors_equal(actual, expected, name=name)
    if a.dtype in (torch.float16, torch.bfloat16):     # compare low-precision values without overflow
        a, e = a.double(), e.double()
    if torch.allclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan):
        return
    close = torch.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not bool(close.all()):
        raise GradingFailure(f"{name} has the right shape and dtype, but {_mismatch(a, e, ~close)}.")


def torch_calls(fn, *args, **kwargs):
    """`(fn(*args, **kwargs), names)`: its value and the names of the torch functions and tensor
    methods the call ran, in order ("addmm", "gather", "matmul", ...).  For probes that check a
    "use X" instruction; pass it along: `@probe(uses=[torch_calls])`, then in the probe
    `out, calls = torch_calls(ns.pick_scores, scores, labels)`.

    What the student process reports is its claim: decide from the names in the judge
    (`expect_calls`), and keep checking the values, which no recorder can fake."""
    from torch.overrides import TorchFunctionMode

    class _Recorder(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(str(getattr(func, "__name__", "") or type(func).__name__))
            return func(*args, **(kwargs or {}))

    recorder = _Recorder()
    with recorder:
        value = fn(*args, **kwargs)
    return value, list(recorder.names)


def expect_calls(names, function: str, *, what: str, at_least: int = 1, at_most: int | None = None) -> None:
    """Fail unless the recorded `names` (from `torch_calls`, in the judge) call `function` between
    `at_least` and `at_most` times; `what` names the student's code in the message."""
    if not isinstance(names, list) or not all(type(n) is str for n in names):
        raise GradingFailure(f"{what} could not be checked: the record of its torch calls is not a list of names.")
    count = names.count(function)
    if count < at_least:
        raise GradingFailure(f"{what} should use `{function}`, as the question asks, but it never called it.")
    if at_most is not None and count > at_most:
        raise GradingFailure(f"{what} should call `{function}` at most {at_most} time(s), but it called it "
                             f"{count} times.")

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
           "expect_calls", "parameter_grads", "expect_param_grads", "gradcheck_report",
           "reference_jacobian", "expect_gradcheck", "backward_report", "expect_backward_ok",
           "mode_report", "expect_modes",
           "expect_keys", "same_objects", "expect_same_objects"]

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


# -- autograd, modes, state_dict and identity: probe-side reports, judge-side checks ------------
# Each probe-side helper below is plain and self-contained (it imports what it uses), so that a
# probe takes it along with @probe(uses=[...]); it returns plain data, and the judge-side check
# beside it decides from that data alone.

def _short(text, limit: int = 80) -> str:
    """A name from the student process, cut to `limit` characters for a message."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _listing(names, limit: int = 8) -> str:
    """`a`, `b` and 3 more: names the student's code chose, never an expected value."""
    shown = ", ".join(f"`{_short(n)}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _fields(report, keys, what: str) -> dict:
    """`report` as a dict that holds `keys`, or a failure saying the answer could not be checked."""
    if not isinstance(report, dict) or any(k not in report for k in keys):
        raise GradingFailure(f"{what} could not be checked: the report of your notebook's process "
                             "is incomplete.")
    return report


def _str_list(value, what: str, of: str) -> list:
    if not isinstance(value, list) or not all(type(v) is str for v in value):
        raise GradingFailure(f"{what} could not be checked: the record of its {of} is not a list "
                             "of names.")
    return value


def parameter_grads(model, *inputs, grad_output=None):
    """Run `model(*inputs)` and a backward pass from `(output * grad_output).sum()` (or
    `output.sum()`), and report each registered parameter's name, shape and gradient for
    `expect_param_grads`: `@probe(uses=[parameter_grads])`, then in the probe
    `return parameter_grads(ns.Stack(3, 5), x)`.

    The report is {"names", "shapes", "requires_grad", "grads" (a tensor or None each),
    "unregistered" (attributes holding tensors or modules PyTorch cannot see: plain lists, dicts,
    tuples, tensors that are not parameters), "error" (None, or where and what was raised)}."""
    import torch

    named = list(model.named_parameters())
    for _, p in named:
        p.grad = None
    hidden = []
    for prefix, module in model.named_modules():
        for attr, value in vars(module).items():
            items = list(value.values()) if isinstance(value, dict) else \
                list(value) if isinstance(value, (list, tuple)) else [value]
            plain = isinstance(value, (dict, list, tuple)) or (
                isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter))
            if not attr.startswith("_") and plain and any(
                    isinstance(v, torch.nn.Module)
                    or isinstance(v, torch.Tensor) and v.requires_grad
                    for v in items):
                hidden.append(f"{prefix}.{attr}" if prefix else attr)
    error, stage = None, "forward"
    try:
        out = model(*inputs)
        stage = "backward"
        if isinstance(out, torch.Tensor):
            (out.sum() if grad_output is None else (out * grad_output).sum()).backward()
        else:
            error = f"forward: returned {type(out).__name__}"
    except Exception as exc:          # the student's code raised: report where and what
        error = f"{stage}: {type(exc).__name__}"
    return {"names": [n for n, _ in named], "shapes": [list(p.shape) for _, p in named],
            "requires_grad": [bool(p.requires_grad) for _, p in named],
            "grads": [None if p.grad is None else p.grad.detach().clone() for _, p in named],
            "unregistered": hidden, "error": error}


def expect_param_grads(report, names, *, what: str = "the model", finite: bool = True):
    """Fail unless every parameter in `names` (the judge's list of names, or a dict of name ->
    shape) is registered in the model and received a gradient of its own shape (finite, unless
    `finite=False`) in the `parameter_grads` report.  Returns {name: gradient}: compare these
    values with the gradients the judge computes itself, which is what earns the point; the report
    is the student process's claim, and a model that reports no parameters passes nothing.

    The message names the parameters that did not get a gradient (plain Python lists, detached
    copies, requires_grad=False) and never quotes a value."""
    import torch

    r = _fields(report, ("names", "shapes", "requires_grad", "grads", "unregistered", "error"),
                what)
    got = _str_list(r["names"], what, "parameters")
    if not all(isinstance(r[k], list) and len(r[k]) == len(got)
               for k in ("shapes", "requires_grad", "grads")) or len(set(got)) != len(got) \
            or not all(isinstance(s, list) and all(type(d) is int for d in s) for s in r["shapes"]):
        raise GradingFailure(f"{what} could not be checked: the report of its parameters is "
                             "inconsistent.")
    wanted = list(names)
    if not wanted:
        raise ValueError("expect_param_grads needs the names of the parameters the model must have")
    shapes = dict(names) if isinstance(names, dict) else {}
    missing = [n for n in wanted if n not in got]
    if missing:
        hidden = [h for h in r["unregistered"] if type(h) is str] \
            if isinstance(r["unregistered"], list) else []
        where = f" ({what} keeps {_listing(hidden)} where PyTorch cannot see it)" if hidden else ""
        raise GradingFailure(
            f"{what} does not register the parameter(s) {_listing(missing)}{where}, so no gradient "
            "reaches them: keep submodules in attributes, nn.ModuleList or nn.ModuleDict (not a "
            "plain Python list or dict) and weights in nn.Parameter.")
    if r["error"] is not None:
        raise GradingFailure(f"The forward or backward pass of {what} raised an error "
                             f"({_short(r['error']) if type(r['error']) is str else 'unknown'}), "
                             "so its parameters got no gradient.")
    grads, lost = {}, []
    for name in wanted:
        i = got.index(name)
        if r["grads"][i] is None:
            lost.append(name)
            continue
        shape = shapes.get(name, r["shapes"][i])
        grads[name] = valid_tensor(r["grads"][i], shape=tuple(shape), finite=finite,
                                   name=f"the gradient of {what}'s parameter `{name}`")
    if lost:
        frozen = [n for n in lost if r["requires_grad"][got.index(n)] is False]
        why = (f" ({_listing(frozen)} has requires_grad=False)" if frozen else
               " (the forward pass does not use them, or uses a detached copy: .detach(), .data, "
               "torch.tensor(...) of a parameter)")
        raise GradingFailure(f"After backward(), no gradient reached {what}'s parameter(s) "
                             f"{_listing(lost)}{why}.")
    return grads


def gradcheck_report(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3):
    """Check `fn`'s gradients in double precision on `inputs` (a list; floating-point tensors are
    made float64 leaves that require grad) and report for `expect_gradcheck`: autograd's Jacobian
    of `fn(*inputs)` (one row per output value, one column per input value), the central
    finite-difference Jacobian with step `eps`, the output, and what torch.autograd.gradcheck with
    `eps`, `atol` and `rtol` said.  `fn` returns one tensor; keep the inputs small (the Jacobians
    have outputs x inputs entries).

    The report is {"problem" (None, or why the check could not run), "raised", "passed",
    "output", "analytical", "numerical"}."""
    import torch

    xs = [x.detach().double().clone().requires_grad_(True)
          if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in inputs]
    wrt = [i for i, x in enumerate(xs) if isinstance(x, torch.Tensor) and x.requires_grad]
    report = {"problem": None, "raised": None, "passed": None, "output": None,
              "analytical": None, "numerical": None}

    def failed(problem, raised):
        report.update(problem=problem, raised=raised)
        return report

    try:
        out = fn(*xs)
    except Exception as exc:          # the student's code raised
        return failed("forward_raised", type(exc).__name__)
    if not isinstance(out, torch.Tensor):
        return failed("not_tensor", type(out).__name__)
    if out.dtype != torch.float64:
        return failed("not_double", str(out.dtype))
    report["output"] = out.detach().clone()
    if not out.requires_grad:
        return failed("no_graph", None)
    rows = []
    try:
        for value in out.reshape(-1):
            grads = torch.autograd.grad(value, [xs[i] for i in wrt], retain_graph=True,
                                        allow_unused=True)
            rows.append(torch.cat([(torch.zeros_like(xs[i]) if g is None else g).reshape(-1)
                                   for g, i in zip(grads, wrt)]))
    except Exception as exc:
        return failed("backward_raised", type(exc).__name__)

    def at(i, j, step):
        args = [x.detach().clone(memory_format=torch.contiguous_format)
                if isinstance(x, torch.Tensor) else x for x in xs]
        args[i].view(-1)[j] += step
        return fn(*args).detach().double().reshape(-1)

    columns = []
    try:
        with torch.no_grad():
            for i in wrt:
                for j in range(xs[i].numel()):
                    columns.append((at(i, j, eps) - at(i, j, -eps)) / (2 * eps))
        report["passed"] = bool(torch.autograd.gradcheck(fn, tuple(xs), eps=eps, atol=atol,
                                                         rtol=rtol, raise_exception=False))
    except Exception as exc:
        return failed("gradcheck_raised", type(exc).__name__)
    n_in = sum(xs[i].numel() for i in wrt)
    report["analytical"] = torch.stack(rows) if rows else torch.zeros(0, n_in, dtype=torch.float64)
    report["numerical"] = torch.stack(columns, dim=1) if columns else \
        torch.zeros(out.numel(), 0, dtype=torch.float64)
    return report


_GRADCHECK_PROBLEMS = {
    "forward_raised": "{what} raised {raised} when called on float64 inputs",
    "not_tensor": "{what} should return a tensor, but it returned {raised}",
    "not_double": "{what} returned a {raised} tensor for float64 inputs: keep the dtype of its "
                  "inputs",
    "no_graph": "{what}'s output is not connected to its inputs by autograd (a .detach(), .item(), "
                ".numpy(), torch.tensor(...) or torch.no_grad() on the way breaks the graph)",
    "backward_raised": "backward() through {what}'s output raised {raised}",
    "gradcheck_raised": "checking {what}'s gradients raised {raised}",
}


def reference_jacobian(fn, inputs):
    """(output, Jacobian) of the judge's own `fn` on `inputs`, in the layout of `gradcheck_report`
    (floating-point inputs as float64 leaves; one row per output value, one column per input
    value), computed in the judge with autograd."""
    import torch

    xs = [x.detach().double().clone().requires_grad_(True)
          if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in inputs]
    leaves = [x for x in xs if isinstance(x, torch.Tensor) and x.requires_grad]
    out = fn(*xs)
    rows = []
    for value in out.reshape(-1):
        grads = torch.autograd.grad(value, leaves, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([(torch.zeros_like(x) if g is None else g).reshape(-1)
                               for g, x in zip(grads, leaves)]))
    n_in = sum(x.numel() for x in leaves)
    jac = torch.stack(rows) if rows else torch.zeros(0, n_in, dtype=torch.float64)
    return out.detach().double(), jac.detach()


def expect_gradcheck(report, inputs, reference, *, what: str, atol: float = 1e-5,
                     rtol: float = 1e-3) -> None:
    """Fail unless the `gradcheck_report` for `inputs` (the list the judge sent) holds autograd's
    Jacobian of `what` within `atol + rtol * |J|` of the judge's own Jacobian J, entry by entry.
    `reference` is the judge's function (evaluated here by `reference_jacobian`, and its output
    compared with the report's as well) or a Jacobian the judge computed itself.  The report's
    finite-difference Jacobian and gradcheck verdict come from the student process: they only
    shape the message, never the verdict.  Pass the `atol` and `rtol` the probe used."""
    import torch

    r = _fields(report, ("problem", "raised", "passed", "output", "analytical", "numerical"), what)
    if r["problem"] is not None:
        _reported_failure(r["problem"], r["raised"], _GRADCHECK_PROBLEMS, what,
                          "the gradient check reported nothing it knows")
    if callable(reference):
        want_out, want = reference_jacobian(reference, inputs)
    else:
        want_out, want = None, reference.detach().double()
    out = valid_tensor(r["output"], dtype=torch.float64, name=f"the output of {what}")
    if want_out is not None:
        tensors_close(out, want_out, rtol=rtol, atol=atol, name=f"the output of {what}")
    a = valid_tensor(r["analytical"], dtype=torch.float64, shape=want.shape,
                     name=f"the Jacobian of {what} from backward()")
    bad = (a - want).abs() > atol + rtol * want.abs()
    if bool(bad.any()):
        n = r["numerical"]
        agrees = isinstance(n, torch.Tensor) and n.shape == a.shape and n.dtype == a.dtype \
            and bool(((a - n.detach()).abs() <= atol + rtol * n.detach().abs()).all())
        why = ("they match the function's own output, so that output is itself wrong"
               if agrees else "a hand-written backward is wrong, or the output is computed in a "
               "way autograd cannot follow")
        raise GradingFailure(
            f"The gradients of {what} from backward() are wrong in {int(bad.sum())} of "
            f"{bad.numel()} entries of its Jacobian: {why}.")


def backward_report(fn, inputs, grad_output=None):
    """Run `fn(*inputs)` (floating-point tensors become fresh leaves that require grad) and a
    backward pass from `(output * grad_output).sum()` (or `output.sum()`), and report for
    `expect_backward_ok` what went wrong as a category: "ok", "inplace" (a tensor autograd
    needed was modified by an inplace operation), "leaf_inplace", "view_inplace", "graph_freed",
    "no_graph", "not_tensor", "forward_error" or "backward_error".

    The report is {"kind", "raised" (the exception's type name, or None), "grads" (one tensor or
    None per floating-point input)}."""
    import torch

    xs = [x.detach().clone().requires_grad_(True)
          if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in inputs]
    leaves = [x for x in xs if isinstance(x, torch.Tensor) and x.requires_grad]
    needles = (("modified by an inplace operation", "inplace"),
               ("leaf Variable that requires grad", "leaf_inplace"),
               ("is a view and is being modified inplace", "view_inplace"),
               ("is a view and its base or another view", "view_inplace"),
               ("backward through the graph a second time", "graph_freed"),
               ("does not require grad and does not have a grad_fn", "no_graph"))
    stage = "forward"
    try:
        out = fn(*xs)
        if not isinstance(out, torch.Tensor):
            return {"kind": "not_tensor", "raised": type(out).__name__,
                    "grads": [None] * len(leaves)}
        stage = "backward"
        (out.sum() if grad_output is None else (out * grad_output).sum()).backward()
    except Exception as exc:          # the student's code raised: name the kind of error
        text = str(exc)
        kind = next((k for needle, k in needles if needle in text), f"{stage}_error")
        return {"kind": kind, "raised": type(exc).__name__, "grads": [None] * len(leaves)}
    return {"kind": "ok", "raised": None,
            "grads": [None if x.grad is None else x.grad.detach().clone() for x in leaves]}


_BACKWARD_KINDS = {
    "inplace": "backward() through {what} failed because a tensor autograd needed was modified by "
               "an inplace operation: use out-of-place versions (`x = x + y` instead of `x += y`, "
               "`torch.relu(x)` instead of `x.relu_()`, no `x[...] = ...` on a tensor used before)",
    "leaf_inplace": "{what} changes a tensor that requires grad (its input or a parameter) in "
                    "place: compute a new tensor instead",
    "view_inplace": "{what} changes a view in place in a way autograd cannot follow: compute a new "
                    "tensor instead of writing into a view",
    "graph_freed": "{what} runs backward() through the same graph twice: call backward() once, "
                   "outside the function",
    "no_graph": "{what}'s output is not connected to autograd (a .detach(), .item(), .numpy(), "
                "torch.tensor(...) or torch.no_grad() on the way breaks the graph)",
    "not_tensor": "{what} should return a tensor, but it returned {raised}",
    "forward_error": "{what} raised {raised} on the test's input",
    "backward_error": "backward() through {what}'s output raised {raised}",
}


def _reported_failure(kind, raised, texts: dict, what: str, unknown: str) -> None:
    """Raise the student-safe failure `texts` has for the reported `kind` (a category string
    from the probe; anything else is `unknown`), with the error it `raised`, shortened."""
    text = texts.get(kind) if type(kind) is str else None
    if text is None:
        raise GradingFailure(f"{what} could not be checked: {unknown}.")
    shown = _short(raised) if type(raised) is str else "an error"
    raise GradingFailure(text.format(what=what, raised=shown) + ".")


def expect_backward_ok(report, *, what: str) -> list:
    """Fail with advice for the student unless the `backward_report` says the forward and backward
    passes of `what` ran ("ok"); returns the input gradients (a tensor or None each), for the test
    to compare with its own.  A lying process can say "ok": keep checking the gradients' values."""
    r = _fields(report, ("kind", "raised", "grads"), what)
    if r["kind"] != "ok":
        _reported_failure(r["kind"], r["raised"], _BACKWARD_KINDS, what,
                          "the report of its backward pass names no known outcome")
    expect(isinstance(r["grads"], list), f"{what} could not be checked: the report of its "
                                         "backward pass holds no gradients.")
    return r["grads"]


def mode_report(model, x, seeds):
    """Call `model(x)` (without autograd) twice after `model.eval()` and then twice after
    `model.train()`, with `torch.manual_seed(seeds[i])` before call i (four seeds the judge chose),
    and report for `expect_modes` the four outputs and the buffers at the start, after the eval
    calls and after the training calls.

    The report is {"eval": [y, y], "train": [y, y] (a tensor, or the type name of what the model
    returned), "buffer_names", "buffers": [at start, after eval, after train]}."""
    import torch

    def buffers():
        return [b.detach().clone() for _, b in model.named_buffers()]

    def call(seed):
        torch.manual_seed(seed)
        y = model(x)
        return y.detach().clone() if isinstance(y, torch.Tensor) else type(y).__name__

    report = {"buffer_names": [n for n, _ in model.named_buffers()], "buffers": [buffers()]}
    with torch.no_grad():
        model.eval()
        report["eval"] = [call(seeds[0]), call(seeds[1])]
        report["buffers"].append(buffers())
        model.train()
        report["train"] = [call(seeds[2]), call(seeds[3])]
        report["buffers"].append(buffers())
    return report


def _outputs(values, mode: str, what: str) -> list:
    expect(isinstance(values, list) and len(values) == 2,
           f"{what} could not be checked: the report of its outputs in {mode} mode is incomplete.")
    for y in values:
        expect(not isinstance(y, str), f"{what} should return a tensor in {mode} mode, but it "
                                       f"returned {_short(y)}.")
    first = valid_tensor(values[0], name=f"{what}'s output in {mode} mode")
    second = valid_tensor(values[1], dtype=first.dtype, shape=first.shape,
                          name=f"{what}'s second output in {mode} mode")
    return [first, second]


def _same(a, b, rtol: float, atol: float) -> bool:
    import torch

    if not a.is_floating_point():
        return torch.equal(a, b)
    return bool(torch.allclose(a.double(), b.double(), rtol=rtol, atol=atol))


def expect_modes(report, reference, *, what: str = "the model", dropout: bool = False,
                 batchnorm: bool = False, stats=(), rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Fail unless the student's `mode_report` matches `reference`, the `mode_report` the judge made
    itself on its own model (the same weights, input and seeds): the four outputs within
    `atol + rtol * |y|` of the judge's, and every buffer the judge's model has equal to the judge's
    at the start, after the eval calls and after the training calls.  That comparison is the
    verdict; before it, the report's own outputs give the advice: eval mode deterministic (the two
    outputs equal although the seeds differ) and no buffer changed by the eval calls; with
    `dropout=True`, the two training-mode outputs differ; with `batchnorm=True`, the model has
    running statistics (buffers named ...running_mean / ...running_var) and each changes in
    training mode, as does each buffer named in `stats`."""
    names, start, later, ev, tr = _mode_values(report, what)
    ref_names, ref_start, ref_later, ref_ev, ref_tr = _mode_values(reference, "the reference")
    expect(_same(ev[0], ev[1], rtol, atol),
           f"{what} gave different outputs for the same input in two calls in eval mode: dropout "
           "or other randomness is still active after model.eval() (use nn.Dropout layers, or "
           "pass training=self.training to F.dropout).")
    for name, before, after in zip(names, start, later[0]):
        expect(_equal_nan(before, after),
               f"{what}'s buffer `{name}` changed in eval mode: running statistics should be "
               "updated only in training mode (model.train(); check self.training).")
    if dropout:
        expect(not _same(tr[0], tr[1], rtol, atol),
               f"{what} gave the same output for the same input in two calls in training mode with "
               "different random seeds: its dropout is not active after model.train().")
    must = list(stats)
    if batchnorm:
        running = [n for n in names if n.rsplit(".", 1)[-1] in ("running_mean", "running_var")]
        expect(running, f"{what} has no batch-norm running statistics (buffers running_mean and "
                        "running_var): use nn.BatchNorm1d / nn.BatchNorm2d layers.")
        must += running
    for name in must:
        expect(name in names, f"{what} should have the buffer `{name}`.")
        i = names.index(name)
        expect(not _equal_nan(later[1][i], later[0][i]),
               f"{what}'s buffer `{name}` did not change in training mode: running statistics "
               "should be updated by every forward pass in training mode.")
    for mode, got, want in (("eval", ev, ref_ev), ("training", tr, ref_tr)):
        for y, w in zip(got, want):
            expect(y.shape == w.shape and y.dtype == w.dtype and _same(y, w, rtol, atol),
                   f"{what}'s output in {mode} mode is wrong for the test's input.")
    for j, ref_name in enumerate(ref_names):
        expect(ref_name in names, f"{what} should have the buffer `{_short(ref_name)}`.")
        i = names.index(ref_name)
        for when, got, want in (("at the start", start[i], ref_start[j]),
                                ("after the calls in eval mode", later[0][i], ref_later[0][j]),
                                ("after the calls in training mode", later[1][i], ref_later[1][j])):
            expect(got.shape == want.shape and got.dtype == want.dtype
                   and (_equal_nan(got, want)
                        or got.is_floating_point() and _same(got, want, rtol, atol)),
                   f"{what}'s buffer `{_short(ref_name)}` is wrong {when}.")


def _mode_values(report, what: str):
    """(buffer names, buffers at the start, [after eval, after train], eval outputs, train
    outputs) of a `mode_report`, each checked for its kind."""
    r = _fields(report, ("eval", "train", "buffer_names", "buffers"), what)
    names = _str_list(r["buffer_names"], what, "buffers")
    snaps = r["buffers"]
    expect(isinstance(snaps, list) and len(snaps) == 3
           and all(isinstance(s, list) and len(s) == len(names) for s in snaps),
           f"{what} could not be checked: the report of its buffers is incomplete.")
    start = [valid_tensor(b, finite=False, name=f"{what}'s buffer `{_short(n)}`")
             for b, n in zip(snaps[0], names)]
    later = [[valid_tensor(b, dtype=s.dtype, shape=s.shape, finite=False,
                           name=f"{what}'s buffer `{_short(n)}` after the calls in {mode} mode")
              for b, s, n in zip(snap, start, names)]
             for snap, mode in ((snaps[1], "eval"), (snaps[2], "training"))]
    return names, start, later, _outputs(r["eval"], "eval", what), \
        _outputs(r["train"], "training", what)


def _equal_nan(a, b) -> bool:
    import torch

    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point() or a.is_complex():
        return bool(torch.equal(a, b) or ((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    return torch.equal(a, b)


def expect_keys(keys, expected, *, what: str = "state_dict()", order: bool = False,
                hint: str = "", show_missing: bool = True) -> None:
    """Fail unless `keys` (the probe's `list(model.state_dict())`, or any list of names) holds
    exactly the names in `expected`, each once (and in that order with `order=True`).  The
    message lists the unexpected keys (names the student's code chose) and the missing ones
    (only how many with `show_missing=False`, where the expected names are themselves part of
    the answer); it never quotes a value, and ends with `hint` when given."""
    got = _str_list(keys, what, "keys")
    expected = list(expected)
    have, want = set(got), set(expected)
    missing = [k for k in expected if k not in have]
    extra = list(dict.fromkeys(k for k in got if k not in want))
    tail = f" {hint}" if hint else ""
    if missing or extra:
        lacks = _listing(missing) if show_missing else f"{len(missing)} key(s)"
        parts = ([f"is missing {lacks}"] if missing else []) + \
            ([f"has unexpected {_listing(extra)}"] if extra else [])
        raise GradingFailure(f"{what} {' and '.join(parts)}.{tail}")
    expect(len(got) == len(set(got)), f"{what} lists some keys more than once.{tail}")
    if order:
        expect(got == expected, f"{what} has the right keys in the wrong order.{tail}")


def same_objects(pairs):
    """For each label -> (a, b) of `pairs` (a dict), whether `b` is the very object `a`, for
    `expect_same_objects`: `same_objects({"encoder": (model.encoder, returned)})` inside a probe.

    The report is {label: {"same": a is b, "ids": [id(a), id(b)], "type": type(b).__name__}}."""
    return {label: {"same": a is b, "ids": [id(a), id(b)], "type": type(b).__name__}
            for label, (a, b) in pairs.items()}


def expect_same_objects(report, labels, *, what: str, hint: str = "") -> None:
    """Fail unless, for every label in `labels`, the `same_objects` report says the two objects are
    one (`b is a`, and equal ids: decided here from the ids, both of which must agree); the message
    calls `b` by its label ("what it returned", "the registered encoder").  The
    student process can claim identity, ids included: this check must never carry points alone.
    Earn the point on values the judge checks against its own reference (what a write through the
    returned object did to the model's own tensors); use this for the message."""
    r = report if isinstance(report, dict) else {}
    for label in labels:
        entry = r.get(label)
        ok = isinstance(entry, dict) and type(entry.get("same")) is bool \
            and isinstance(entry.get("ids"), list) and len(entry["ids"]) == 2 \
            and all(type(i) is int for i in entry["ids"])
        expect(ok, f"{what} could not be checked: the report on `{label}` is incomplete.")
        same = entry["same"] and entry["ids"][0] == entry["ids"][1]
        kind = _short(entry["type"]) if type(entry.get("type")) is str else "object"
        expect(same, f"{what}: {label} is a {kind} that is not the model's own object but "
                     f"another one (a copy, or a new object).{' ' + hint if hint else ''}")

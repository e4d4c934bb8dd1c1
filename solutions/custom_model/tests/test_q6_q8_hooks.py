"""Q6: forward pre-hook / forward hook.  Q7: full backward hook / tensor hook.
Q8: OutputRecorder removes its hook through the handle.

The probes build their layers right after torch.manual_seed(seed), and this module rebuilds the same
layers the same way with its own torch: every expected output and gradient is computed here, and a
hook that was (or was not) removed shows in the values that come back.  Each test checks sizes of 1,
the notebook's example sizes, float64 and sizes far from them."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.testing import expect, probe, question, tensors_close

CLOSE = {"rtol": 1e-4, "atol": 1e-5}


def generator(student):
    return torch.Generator().manual_seed(student.seed)


def seeded(seed, *shapes, dtype=torch.float32):
    """The nn.Linear layers (one per (n_in, n_out)) that the probes build after torch.manual_seed(seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return [nn.Linear(n_in, n_out).to(dtype) for n_in, n_out in shapes]


def far(rng, low=8, high=16):
    return rng.randint(low, high)


def dtype_choice(rng):
    return rng.choice([torch.float32, torch.float64])


def factor_away_from_one(rng, low, high):
    """A factor in [low, high], at least 0.3 away from 1 and -1 (so that scaling shows)."""
    while True:
        factor = round(rng.uniform(low, high), 3)
        if abs(abs(factor) - 1) >= 0.3 and abs(factor) >= 0.2:
            return factor


def is_list(value, n=None) -> bool:
    return isinstance(value, list) and (n is None or len(value) == n)


# ---------------------------------------------------------------------------------------------- Q6
@probe
def input_scale_run(ns, seed, n_in, n_in2, n_out, factor, x, x2, xs3, double):
    class Three(nn.Module):
        """A module called with three positional inputs: a + 2 * b + 3 * c."""

        def forward(self, *inputs):
            return sum((k + 1) * t for k, t in enumerate(inputs))

    torch.manual_seed(seed)
    lin, bil, three = nn.Linear(n_in, n_out), nn.Bilinear(n_in, n_in2, n_out), Three()
    if double:
        lin.double()
        bil.double()
    ns.add_input_scale(lin, factor)
    ns.add_input_scale(bil, factor)
    ns.add_input_scale(three, factor)
    x_in, x2_in, xs3_in = x.clone(), x2.clone(), [t.clone() for t in xs3]
    y, y2, y3 = lin(x_in), bil(x_in, x2_in), three(*xs3_in)
    return {"y": y.detach().clone() if isinstance(y, torch.Tensor) else None,
            "y2": y2.detach().clone() if isinstance(y2, torch.Tensor) else None,
            "y3": y3.detach().clone() if isinstance(y3, torch.Tensor) else None,
            "x_after": x_in.clone(), "x2_after": x2_in.clone(), "xs3_after": [t.clone() for t in xs3_in]}


@probe
def output_clamp_run(ns, seed, n_in, n_out, low, high, x, double):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
    if double:
        lin.double()
    ns.add_output_clamp(lin, low, high)
    y = lin(x)
    return {"y": y.detach().clone() if isinstance(y, torch.Tensor) else None, "y_type": type(y).__name__}


@probe
def forward_handles_run(ns, seed, n_in, n_out, factor, low, high, x):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
    outputs = [lin(x).detach().clone()]
    handles = [ns.add_input_scale(lin, factor), ns.add_output_clamp(lin, low, high)]
    outputs.append(lin(x).detach().clone())
    for h in handles:  # remove the pre-hook, then the forward hook; a missing handle removes nothing
        try:
            h.remove()
        except Exception:  # noqa: BLE001 - what the student returned is not a handle
            pass
        outputs.append(lin(x).detach().clone())
    return outputs


def clamp_bounds(y):
    """Bounds for which clamping `y` changes some of its values: inside its range, or above its one value."""
    if y.numel() == 1:
        v = float(y)
        return round(v + 0.5, 3), round(v + 1.5, 3)
    low, high = torch.quantile(y.double().flatten(), torch.tensor([0.3, 0.7], dtype=torch.float64)).tolist()
    return round(low, 3), round(high, 3)


def scale_cases(student):
    """(batch, in_features, second input's features, out_features, dtype)."""
    return student.cases((1, 1, 1, 1, torch.float32), (4, 3, 2, 2, torch.float32), (2, 5, 3, 4, torch.float64),
                         draw=lambda rng: (far(rng, 5, 10), far(rng), far(rng, 2, 6), far(rng), dtype_choice(rng)))


@question("q6", points=1)
def test_input_scale(student):
    g = generator(student)
    for n, n_in, n_in2, n_out, dtype in scale_cases(student):
        factor = factor_away_from_one(student.rng, -3.0, 3.0)
        x, x2 = torch.randn(n, n_in, generator=g).to(dtype), torch.randn(n, n_in2, generator=g).to(dtype)
        xs3 = [torch.randn(n, n_in, generator=g).to(dtype) for _ in range(3)]
        r = student.probe(input_scale_run, seed=student.seed, n_in=n_in, n_in2=n_in2, n_out=n_out, factor=factor,
                          x=x, x2=x2, xs3=xs3, double=dtype == torch.float64)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(student.seed)
            lin, bil = nn.Linear(n_in, n_out).to(dtype), nn.Bilinear(n_in, n_in2, n_out).to(dtype)
        with torch.no_grad():
            y, y2 = lin(factor * x), bil(factor * x, x2)
        y3 = factor * xs3[0] + 2 * xs3[1] + 3 * xs3[2]
        size = f"an input of shape ({n}, {n_in}) and dtype {dtype}"
        tensors_close(r["x_after"], x, **CLOSE,
                      name=f"the caller's input ({size}) after a forward pass with add_input_scale (build a new "
                           "tensor, e.g. args[0] * factor, instead of changing it in place)")
        tensors_close(r["x2_after"], x2, **CLOSE,
                      name="the caller's second input after a forward pass with add_input_scale")
        tensors_close(r["y"], y, **CLOSE, name=f"the output of an nn.Linear with add_input_scale, for {size}")
        tensors_close(r["y2"], y2, **CLOSE,
                      name=f"the output of a two-input module (nn.Bilinear) with add_input_scale, for {size}; "
                           "it should scale only the first input and keep the second")
        expect(is_list(r["xs3_after"], 3), "a module called with three inputs should keep all three")
        for i, (got, want) in enumerate(zip(r["xs3_after"], xs3), 1):
            tensors_close(got, want, **CLOSE, name=f"the caller's input {i} of a three-input module after a "
                                                   "forward pass with add_input_scale")
        tensors_close(r["y3"], y3, **CLOSE,
                      name=f"the output of a module called as module(a, b, c) with add_input_scale, for {size}; "
                           "it should scale a and pass every other positional input on unchanged")


@question("q6", points=1)
def test_output_clamp(student):
    g = generator(student)
    cases = student.cases((1, 1, 1, torch.float32), (4, 3, 2, torch.float32), (3, 4, 5, torch.float64),
                          draw=lambda rng: (far(rng, 5, 10), far(rng), far(rng), dtype_choice(rng)))
    for n, n_in, n_out, dtype in cases:
        x = torch.randn(n, n_in, generator=g).to(dtype) * 2
        (lin,) = seeded(student.seed, (n_in, n_out), dtype=dtype)
        with torch.no_grad():
            plain = lin(x)
        low, high = clamp_bounds(plain)
        r = student.probe(output_clamp_run, seed=student.seed, n_in=n_in, n_out=n_out, low=low, high=high, x=x,
                          double=dtype == torch.float64)
        expect(r["y"] is not None, f"with add_output_clamp the module returned {r['y_type']} instead of a tensor")
        tensors_close(r["y"], plain.clamp(low, high), **CLOSE,
                      name=f"the output of an nn.Linear({n_in}, {n_out}) with add_output_clamp, for an input of "
                           f"shape ({n}, {n_in}) and dtype {dtype} (a forward hook must return the new output)")


@question("q6", points=1)
def test_forward_hooks_return_handles(student):
    g = generator(student)
    for n, n_in, n_out in student.cases((1, 1, 1), (4, 3, 2), draw=lambda rng: (far(rng, 5, 10), far(rng), far(rng))):
        factor = factor_away_from_one(student.rng, 1.5, 3.0)
        x = torch.randn(n, n_in, generator=g)
        (lin,) = seeded(student.seed, (n_in, n_out))
        with torch.no_grad():
            plain, scaled = lin(x), lin(factor * x)
        low, high = clamp_bounds(torch.cat([plain, scaled]))     # between them: every hook shows
        r = student.probe(forward_handles_run, seed=student.seed, n_in=n_in, n_out=n_out, factor=factor, low=low,
                          high=high, x=x)
        size = f"nn.Linear({n_in}, {n_out})"
        expect(is_list(r, 4), "the module should run four times")
        tensors_close(r[0], plain, **CLOSE, name=f"the output of an {size} before any hook")
        tensors_close(r[1], scaled.clamp(low, high), **CLOSE,
                      name=f"the output of an {size} with add_input_scale and add_output_clamp")
        tensors_close(r[2], plain.clamp(low, high), **CLOSE,
                      name="the output after remove() on the handle add_input_scale returned (it should return "
                           "the handle of the hook it registers)")
        tensors_close(r[3], plain, **CLOSE,
                      name="the output after remove() on both handles (add_output_clamp should return the handle "
                           "of the hook it registers)")


# ---------------------------------------------------------------------------------------------- Q7
@probe
def record_grads_run(ns, seed, n_in, n_out, x, ws, with_tanh, passes, x_requires_grad, double):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
    if double:
        lin.double()
    module = nn.Sequential(lin, nn.Tanh()) if with_tanh else lin
    log = []
    handle = ns.record_grads(module, log)
    x = x.clone().requires_grad_(x_requires_grad)
    for k, w in enumerate(ws):
        if k == passes:
            try:
                handle.remove()
            except Exception:  # noqa: BLE001 - what the student returned is not a handle
                pass
        (module(x) * w).sum().backward()
    entries = []
    for entry in log:
        pair = isinstance(entry, (tuple, list)) and len(entry) == 2
        tensors = [t.detach().clone() if isinstance(t, torch.Tensor) else None for t in entry] \
            if pair else None
        entries.append({"type": type(entry).__name__, "tensors": tensors})
    return {"entries": entries, "x_grad": None if x.grad is None else x.grad.clone(),
            "weight_grad": lin.weight.grad.clone()}


@probe
def scale_grad_run(ns, p0, c, factor):
    p, q = nn.Parameter(p0.clone()), nn.Parameter(p0.clone())
    handle = ns.scale_grad(p, factor)
    ((p * c).sum() + (q * q * c).sum() / 2).backward()
    first, other = p.grad.clone(), q.grad.clone()
    try:
        handle.remove()
    except Exception:  # noqa: BLE001 - what the student returned is not a handle
        pass
    p.grad = None
    ((p * p * c).sum() / 2).backward()
    return {"first": first, "other": other, "after_remove": p.grad.clone()}


def backward_reference(lin, x, w, with_tanh):
    """(dL/dx, dL/dweight) for L = sum(module(x) * w), computed here with pristine torch."""
    x = x.clone().requires_grad_(True)
    weight = lin.weight.detach().clone().requires_grad_(True)
    y = F.linear(x, weight, lin.bias.detach())
    if with_tanh:
        y = torch.tanh(y)
    (y * w).sum().backward()
    return x.grad, weight.grad


def check_log(r, lin, x, ws, with_tanh, passes, label, x_requires_grad=True):
    entries = r["entries"]
    expect(is_list(entries), "record_grads should append to the log it is given")
    expect(len(entries) >= passes, f"{label}: record_grads should append one entry per backward pass")
    expect(len(entries) == passes,
           f"{label}: the hook logged more entries than there were backward passes through the module before "
           "handle.remove() (register it once, and return the handle of the hook)")
    for k, entry in enumerate(entries):
        expect(is_list(entry["tensors"], 2),
               f"record_grads should append a tuple (grad_input[0], grad_output[0]) to the log; "
               f"it appended a {entry['type']}")
        g_in, g_out = entry["tensors"]
        expect(g_out is not None, f"{label}: the logged grad_output[0] should be a tensor")
        tensors_close(g_out, ws[k], **CLOSE, name=f"{label}: the logged grad_output[0] of pass {k + 1}")
        if not x_requires_grad:
            expect(g_in is None,
                   f"{label}: the input does not require grad, so PyTorch gives None as grad_input[0] and the "
                   "log should hold None there")
            continue
        expect(g_in is not None,
               f"{label}: both entries of the logged tuple should be tensors here (the input requires grad)")
        dx, _ = backward_reference(lin, x, ws[k], with_tanh)
        tensors_close(g_in, dx, **CLOSE,
                      name=f"{label}: the logged grad_input[0] of pass {k + 1} (gradient with respect to the "
                           "module's input; use register_full_backward_hook)")
    grads = [backward_reference(lin, x, w, with_tanh) for w in ws]
    if x_requires_grad:
        tensors_close(r["x_grad"], sum(dx for dx, _ in grads), **CLOSE,
                      name=f"{label}: the input's .grad with record_grads attached (the hook must not change "
                           "gradients)")
    tensors_close(r["weight_grad"], sum(dw for _, dw in grads), **CLOSE,
                  name=f"{label}: the weight's .grad with record_grads attached (the hook must not change "
                       "gradients)")


def record_cases(student):
    """(batch, in_features, out_features, with Tanh, input requires grad, dtype)."""
    return student.cases((1, 1, 1, False, True, torch.float32), (4, 3, 2, False, True, torch.float32),
                         (3, 2, 5, True, False, torch.float32), (2, 4, 3, True, True, torch.float64),
                         draw=lambda rng: (far(rng, 5, 10), far(rng), far(rng), rng.random() < 0.5,
                                           rng.random() < 0.7, dtype_choice(rng)))


@question("q7", points=1)
def test_record_grads_values(student):
    g = generator(student)
    for n, n_in, n_out, with_tanh, x_requires_grad, dtype in record_cases(student):
        x, ws = torch.randn(n, n_in, generator=g).to(dtype), [torch.randn(n, n_out, generator=g).to(dtype)]
        r = student.probe(record_grads_run, seed=student.seed, n_in=n_in, n_out=n_out, x=x, ws=ws,
                          with_tanh=with_tanh, passes=1, x_requires_grad=x_requires_grad,
                          double=dtype == torch.float64)
        (lin,) = seeded(student.seed, (n_in, n_out), dtype=dtype)
        label = (f"on nn.Sequential(nn.Linear({n_in}, {n_out}), nn.Tanh())" if with_tanh
                 else f"on nn.Linear({n_in}, {n_out})")
        label += f" with a {dtype} input of shape ({n}, {n_in})"
        if not x_requires_grad:
            label += " that does not require grad"
        check_log(r, lin, x, ws, with_tanh, 1, label, x_requires_grad)


@question("q7", points=1)
def test_record_grads_every_pass_and_remove(student):
    g = generator(student)
    for n, n_in, n_out in student.cases((1, 1, 1), (4, 3, 2), draw=lambda rng: (far(rng, 5, 10), far(rng), far(rng))):
        passes, after = student.rng.randint(2, 3), student.rng.randint(1, 2)
        x = torch.randn(n, n_in, generator=g)
        ws = [torch.randn(n, n_out, generator=g) for _ in range(passes + after)]
        r = student.probe(record_grads_run, seed=student.seed, n_in=n_in, n_out=n_out, x=x, ws=ws,
                          with_tanh=True, passes=passes, x_requires_grad=True, double=False)
        (lin,) = seeded(student.seed, (n_in, n_out))
        check_log(r, lin, x, ws, True, passes,
                  f"several backward passes through nn.Sequential(nn.Linear({n_in}, {n_out}), nn.Tanh()), then "
                  "handle.remove()")


@question("q7", points=1)
def test_scale_grad(student):
    g = generator(student)
    cases = student.cases(((1,), torch.float32), ((3,), torch.float32), ((2, 3), torch.float64),
                          draw=lambda rng: ((far(rng, 2, 6), far(rng, 5, 12)), dtype_choice(rng)))
    for shape, dtype in cases:
        factor = factor_away_from_one(student.rng, 0.2, 5.0)
        p0, c = torch.randn(*shape, generator=g).to(dtype), torch.randn(*shape, generator=g).to(dtype)
        r = student.probe(scale_grad_run, p0=p0, c=c, factor=factor)
        what = f"a {dtype} parameter of shape {tuple(shape)}"
        tensors_close(r["first"], c * factor, **CLOSE,
                      name=f"the .grad of {what} with scale_grad (the tensor hook must return the new gradient)")
        tensors_close(r["other"], p0 * c, **CLOSE,
                      name="the .grad of another parameter (scale_grad must affect only its own)")
        tensors_close(r["after_remove"], p0 * c, **CLOSE,
                      name=f"the .grad of {what} after remove() on the handle scale_grad returned (it should "
                           "return the handle of the hook it registers)")


# ---------------------------------------------------------------------------------------------- Q8
@probe
def recorder_same_module(ns, seed, n_in, n_out, xs, cs, attaches):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
    rec = ns.OutputRecorder()
    for _ in range(attaches):
        rec.attach(lin)
    ys, loss = [], 0
    for x, c in zip(xs, cs):
        y = lin(x)
        ys.append(y.detach().clone())
        loss = loss + (y * c).sum()
    try:   # a recorded output that was not detached still reaches the weight
        kept = sum((o * c).sum() for o, c in zip(rec.outputs, cs))
        recorded_grad = torch.autograd.grad(kept, lin.weight, retain_graph=True)[0].clone()
    except Exception:  # noqa: BLE001 - detached outputs: no graph to follow
        recorded_grad = None
    try:
        loss.backward()
        weight_grad = lin.weight.grad.clone()
    except RuntimeError:  # the output no longer reaches the weight
        weight_grad = None
    return {"ys": ys, "weight_grad": weight_grad, "recorded_grad": recorded_grad,
            "outputs": [o.detach().clone() if isinstance(o, torch.Tensor) else None for o in rec.outputs]}


@probe
def recorder_move_and_remove(ns, seed, n_in, n_out, xs):
    torch.manual_seed(seed)
    a, b = nn.Linear(n_in, n_out), nn.Linear(n_in, n_out)
    rec = ns.OutputRecorder()
    rec.attach(a)
    a(xs[0])
    rec.attach(b)
    a(xs[1])
    b(xs[2])
    rec.remove()
    a(xs[3])
    b(xs[4])
    rec.remove()
    return [o.detach().clone() if isinstance(o, torch.Tensor) else None for o in rec.outputs]


def recorder_cases(student):
    """(in_features, out_features, largest batch): sizes of 1, the notebook's example, far sizes."""
    return student.cases((1, 1, 1), (3, 2, 1), draw=lambda rng: (far(rng), far(rng), far(rng, 3, 8)))


@question("q8", points=1)
def test_recorder_records_once(student):
    g = generator(student)
    for n_in, n_out, n_max in recorder_cases(student):
        count, attaches = student.rng.randint(2, 4), student.rng.randint(2, 3)
        xs = [torch.randn(student.rng.randint(1, n_max), n_in, generator=g) for _ in range(count)]
        cs = [torch.randn(x.shape[0], n_out, generator=g) for x in xs]
        r = student.probe(recorder_same_module, seed=student.seed, n_in=n_in, n_out=n_out, xs=xs, cs=cs,
                          attaches=attaches)
        (lin,) = seeded(student.seed, (n_in, n_out))
        with torch.no_grad():
            ys = [lin(x) for x in xs]
        size = f"nn.Linear({n_in}, {n_out})"
        expect(is_list(r["ys"], count), "the module should run once for every input")
        for i, (got, y) in enumerate(zip(r["ys"], ys), 1):
            tensors_close(got, y, **CLOSE, name=f"the output {i} of an {size} with the recorder attached")
        expect(r["weight_grad"] is not None,
               "attaching the recorder cut the module's output off from autograd: the hook must return None, "
               "not a new output")
        tensors_close(r["weight_grad"], sum(c.T @ x for x, c in zip(xs, cs)), **CLOSE,
                      name=f"the weight's .grad of an {size} with the recorder attached (the hook must leave the "
                           "output unchanged)")
        expect(is_list(r["outputs"], count),
               f"after attach() was called {attaches} times on the same module, each forward pass should be "
               "recorded once (remove the old hook before registering a new one)")
        for i, (out, y) in enumerate(zip(r["outputs"], ys), 1):
            tensors_close(out, y, **CLOSE, name=f"recorded output {i} of an {size}")
        expect(r["recorded_grad"] is None,
               "the recorded outputs still carry the autograd graph back to the module's weight: record "
               "output.detach(), not output itself")


@question("q8", points=1)
def test_recorder_moves_and_removes(student):
    g = generator(student)
    for n_in, n_out, n_max in recorder_cases(student):
        xs = [torch.randn(student.rng.randint(1, n_max), n_in, generator=g) for _ in range(5)]
        r = student.probe(recorder_move_and_remove, seed=student.seed, n_in=n_in, n_out=n_out, xs=xs)
        a, b = seeded(student.seed, (n_in, n_out), (n_in, n_out))
        with torch.no_grad():
            expected = [a(xs[0]), b(xs[2])]
        expect(is_list(r), "the recorder's outputs should be a list")
        expect(len(r) >= 2, "after attach(a), a's forward pass should be recorded, and after attach(b), b's "
                            "(attach must not clear what was recorded before)")
        expect(len(r) == 2,
               "after attach(a) and then attach(b), only b's forward passes should be recorded (attach must "
               "remove the hook on a first), and after remove() nothing more (call handle.remove())")
        for out, y, module in zip(r, expected, ("a", "b")):
            tensors_close(out, y, **CLOSE, name=f"the output recorded after attach({module}), for "
                                                f"nn.Linear({n_in}, {n_out})")

"""Q6: forward pre-hook / forward hook.  Q7: full backward hook / tensor hook.
Q8: OutputRecorder removes its hook through the handle.

The probes build their layers right after torch.manual_seed(seed), and this module rebuilds the same
layers the same way with its own torch: every expected output and gradient is computed here, and a
hook that was (or was not) removed shows in the values that come back."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.testing import expect, probe, question, tensors_close, tensors_equal

CLOSE = {"rtol": 1e-4, "atol": 1e-5}


def sizes(student):
    n_in = student.rng.randint(2, 6)
    n_out = student.rng.choice([k for k in range(2, 7) if k != n_in])
    return n_in, n_out


def generator(student):
    return torch.Generator().manual_seed(student.seed)


def seeded(seed, *shapes):
    """The nn.Linear layers (one per (n_in, n_out)) that the probes build after torch.manual_seed(seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return [nn.Linear(n_in, n_out) for n_in, n_out in shapes]


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
def input_scale_run(ns, seed, n_in, n_in2, n_out, factor, x, x2):
    torch.manual_seed(seed)
    lin, bil = nn.Linear(n_in, n_out), nn.Bilinear(n_in, n_in2, n_out)
    ns.add_input_scale(lin, factor)
    ns.add_input_scale(bil, factor)
    y, y2 = lin(x), bil(x, x2)
    return {"y": y.detach().clone() if isinstance(y, torch.Tensor) else None,
            "y2": y2.detach().clone() if isinstance(y2, torch.Tensor) else None,
            "x_after": x.clone(), "x2_after": x2.clone()}


@probe
def output_clamp_run(ns, seed, n_in, n_out, low, high, x):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
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
    """Bounds inside the range of `y`, so that clamping to them changes some values."""
    low, high = torch.quantile(y.flatten(), torch.tensor([0.3, 0.7])).tolist()
    return round(low, 3), round(high, 3)


@question("q6", points=1)
def test_input_scale(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    n_in2 = student.rng.randint(2, 5)
    factor = factor_away_from_one(student.rng, -3.0, 3.0)
    n = student.rng.randint(2, 5)
    x, x2 = torch.randn(n, n_in, generator=g), torch.randn(n, n_in2, generator=g)
    r = student.probe(input_scale_run, seed=student.seed, n_in=n_in, n_in2=n_in2, n_out=n_out, factor=factor,
                      x=x, x2=x2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(student.seed)
        lin, bil = nn.Linear(n_in, n_out), nn.Bilinear(n_in, n_in2, n_out)
    with torch.no_grad():
        y, y2 = lin(factor * x), bil(factor * x, x2)
    tensors_equal(r["x_after"], x,
                  name="the caller's input after a forward pass with add_input_scale (build a new tensor, "
                       "e.g. args[0] * factor, instead of changing it in place)")
    tensors_equal(r["x2_after"], x2,
                  name="the caller's second input after a forward pass with add_input_scale")
    tensors_close(r["y"], y, **CLOSE, name="the output of an nn.Linear with add_input_scale")
    tensors_close(r["y2"], y2, **CLOSE,
                  name="the output of a two-input module (nn.Bilinear) with add_input_scale, which should "
                       "scale only the first input and keep the second")


@question("q6", points=1)
def test_output_clamp(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    x = torch.randn(student.rng.randint(3, 6), n_in, generator=g) * 2
    (lin,) = seeded(student.seed, (n_in, n_out))
    with torch.no_grad():
        plain = lin(x)
    low, high = clamp_bounds(plain)
    r = student.probe(output_clamp_run, seed=student.seed, n_in=n_in, n_out=n_out, low=low, high=high, x=x)
    expect(r["y"] is not None, f"with add_output_clamp the module returned {r['y_type']} instead of a tensor")
    tensors_close(r["y"], plain.clamp(low, high), **CLOSE,
                  name="the output of an nn.Linear with add_output_clamp (a forward hook must return the new "
                       "output)")


@question("q6", points=1)
def test_forward_hooks_return_handles(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    factor = factor_away_from_one(student.rng, 1.5, 3.0)
    x = torch.randn(4, n_in, generator=g)
    (lin,) = seeded(student.seed, (n_in, n_out))
    with torch.no_grad():
        plain, scaled = lin(x), lin(factor * x)
    low, high = clamp_bounds(torch.cat([plain, scaled]))
    r = student.probe(forward_handles_run, seed=student.seed, n_in=n_in, n_out=n_out, factor=factor, low=low,
                      high=high, x=x)
    expect(is_list(r, 4), "the module should run four times")
    tensors_close(r[0], plain, **CLOSE, name="the output of an nn.Linear before any hook")
    tensors_close(r[1], scaled.clamp(low, high), **CLOSE,
                  name="the output of an nn.Linear with add_input_scale and add_output_clamp")
    tensors_close(r[2], plain.clamp(low, high), **CLOSE,
                  name="the output after remove() on the handle add_input_scale returned (it should return "
                       "the handle of the hook it registers)")
    tensors_close(r[3], plain, **CLOSE,
                  name="the output after remove() on both handles (add_output_clamp should return the handle "
                       "of the hook it registers)")


# ---------------------------------------------------------------------------------------------- Q7
@probe
def record_grads_run(ns, seed, n_in, n_out, x, ws, with_tanh, passes):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
    module = nn.Sequential(lin, nn.Tanh()) if with_tanh else lin
    log = []
    handle = ns.record_grads(module, log)
    x = x.clone().requires_grad_(True)
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
    return {"entries": entries, "x_grad": x.grad.clone(), "weight_grad": lin.weight.grad.clone()}


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


def check_log(r, lin, x, ws, with_tanh, passes, label):
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
        expect(g_in is not None and g_out is not None,
               f"{label}: both entries of the logged tuple should be tensors here (the input requires grad)")
        dx, _ = backward_reference(lin, x, ws[k], with_tanh)
        tensors_close(g_out, ws[k], **CLOSE, name=f"{label}: the logged grad_output[0] of pass {k + 1}")
        tensors_close(g_in, dx, **CLOSE,
                      name=f"{label}: the logged grad_input[0] of pass {k + 1} (gradient with respect to the "
                           "module's input; use register_full_backward_hook)")
    grads = [backward_reference(lin, x, w, with_tanh) for w in ws]
    tensors_close(r["x_grad"], sum(dx for dx, _ in grads), **CLOSE,
                  name=f"{label}: the input's .grad with record_grads attached (the hook must not change "
                       "gradients)")
    tensors_close(r["weight_grad"], sum(dw for _, dw in grads), **CLOSE,
                  name=f"{label}: the weight's .grad with record_grads attached (the hook must not change "
                       "gradients)")


@question("q7", points=1)
def test_record_grads_values(student):
    g = generator(student)
    for with_tanh in (False, True):
        n_in, n_out = sizes(student)
        n = student.rng.randint(2, 5)
        x, ws = torch.randn(n, n_in, generator=g), [torch.randn(n, n_out, generator=g)]
        r = student.probe(record_grads_run, seed=student.seed, n_in=n_in, n_out=n_out, x=x, ws=ws,
                          with_tanh=with_tanh, passes=1)
        (lin,) = seeded(student.seed, (n_in, n_out))
        label = "on nn.Sequential(nn.Linear, nn.Tanh)" if with_tanh else "on nn.Linear"
        check_log(r, lin, x, ws, with_tanh, 1, label)


@question("q7", points=1)
def test_record_grads_every_pass_and_remove(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    passes, after = student.rng.randint(2, 3), student.rng.randint(1, 2)
    x = torch.randn(3, n_in, generator=g)
    ws = [torch.randn(3, n_out, generator=g) for _ in range(passes + after)]
    r = student.probe(record_grads_run, seed=student.seed, n_in=n_in, n_out=n_out, x=x, ws=ws,
                      with_tanh=True, passes=passes)
    (lin,) = seeded(student.seed, (n_in, n_out))
    check_log(r, lin, x, ws, True, passes, "several backward passes, then handle.remove()")


@question("q7", points=1)
def test_scale_grad(student):
    g = generator(student)
    n = student.rng.randint(2, 8)
    factor = factor_away_from_one(student.rng, 0.2, 5.0)
    p0, c = torch.randn(n, generator=g), torch.randn(n, generator=g)
    r = student.probe(scale_grad_run, p0=p0, c=c, factor=factor)
    tensors_close(r["first"], c * factor, rtol=1e-5, atol=1e-6,
                  name="the parameter's .grad with scale_grad (the tensor hook must return the new gradient)")
    tensors_close(r["other"], p0 * c, rtol=1e-5, atol=1e-6,
                  name="the .grad of another parameter (scale_grad must affect only its own)")
    tensors_close(r["after_remove"], p0 * c, rtol=1e-5, atol=1e-6,
                  name="the parameter's .grad after remove() on the handle scale_grad returned (it should "
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
    try:
        loss.backward()
        weight_grad = lin.weight.grad.clone()
    except RuntimeError:  # the output no longer reaches the weight
        weight_grad = None
    return {"ys": ys, "weight_grad": weight_grad,
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


@question("q8", points=1)
def test_recorder_records_once(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    count = student.rng.randint(2, 4)
    xs = [torch.randn(student.rng.randint(1, 4), n_in, generator=g) for _ in range(count)]
    cs = [torch.randn(x.shape[0], n_out, generator=g) for x in xs]
    r = student.probe(recorder_same_module, seed=student.seed, n_in=n_in, n_out=n_out, xs=xs, cs=cs,
                      attaches=2)
    (lin,) = seeded(student.seed, (n_in, n_out))
    with torch.no_grad():
        ys = [lin(x) for x in xs]
    expect(is_list(r["ys"], count), "the module should run once for every input")
    for i, (got, y) in enumerate(zip(r["ys"], ys), 1):
        tensors_close(got, y, **CLOSE, name=f"the module's output {i} with the recorder attached")
    expect(r["weight_grad"] is not None,
           "attaching the recorder cut the module's output off from autograd: the hook must return None, "
           "not a new output")
    tensors_close(r["weight_grad"], sum(c.T @ x for x, c in zip(xs, cs)), **CLOSE,
                  name="the weight's .grad with the recorder attached (the hook must leave the output "
                       "unchanged)")
    expect(is_list(r["outputs"], count),
           "after attach() was called twice on the same module, each forward pass should be recorded once "
           "(remove the old hook before registering a new one)")
    for i, (out, y) in enumerate(zip(r["outputs"], ys), 1):
        tensors_close(out, y, **CLOSE, name=f"recorded output {i}")


@question("q8", points=1)
def test_recorder_moves_and_removes(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    xs = [torch.randn(student.rng.randint(1, 4), n_in, generator=g) for _ in range(5)]
    r = student.probe(recorder_move_and_remove, seed=student.seed, n_in=n_in, n_out=n_out, xs=xs)
    a, b = seeded(student.seed, (n_in, n_out), (n_in, n_out))
    with torch.no_grad():
        expected = [a(xs[0]), b(xs[2])]
    expect(is_list(r), "the recorder's outputs should be a list")
    expect(len(r) >= 2, "after attach(a), a's forward pass should be recorded, and after attach(b), b's")
    expect(len(r) == 2,
           "after attach(a) and then attach(b), only b's forward passes should be recorded (attach must "
           "remove the hook on a first), and after remove() nothing more (call handle.remove())")
    for out, y, module in zip(r, expected, ("a", "b")):
        tensors_close(out, y, **CLOSE, name=f"the output recorded after attach({module})")

"""Q6: forward pre-hook / forward hook.  Q7: full backward hook / tensor hook.
Q8: OutputRecorder removes its hook through the handle."""

import torch
import torch.nn.functional as F

from grader.testing import expect, probe, question, tensors_close, tensors_equal


def sizes(student):
    n_in = student.rng.randint(2, 6)
    n_out = student.rng.choice([k for k in range(2, 7) if k != n_in])
    return n_in, n_out


def generator(student):
    return torch.Generator().manual_seed(student.seed)


# ---------------------------------------------------------------------------------------------- Q6
@probe
def input_scale_run(ns, seed, n_in, n_in2, n_out, factor, x, x2):
    torch.manual_seed(seed)
    lin, bil = nn.Linear(n_in, n_out), nn.Bilinear(n_in, n_in2, n_out)
    x_before, x2_before = x.clone(), x2.clone()
    ns.add_input_scale(lin, factor)
    ns.add_input_scale(bil, factor)
    y, y2 = lin(x), bil(x, x2)
    return {"y": y.detach().clone(), "y2": y2.detach().clone(),
            "inputs_unchanged": torch.equal(x, x_before) and torch.equal(x2, x2_before),
            "lin": [lin.weight.detach().clone(), lin.bias.detach().clone()],
            "bil": [bil.weight.detach().clone(), bil.bias.detach().clone()]}


@probe
def output_clamp_run(ns, seed, n_in, n_out, low, high, x):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
    ns.add_output_clamp(lin, low, high)
    y = lin(x)
    return {"y": y.detach().clone() if isinstance(y, torch.Tensor) else None, "y_type": type(y).__name__,
            "weight": lin.weight.detach().clone(), "bias": lin.bias.detach().clone()}


@probe
def forward_handles_run(ns, seed, n_in, n_out, x):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
    plain = lin(x).detach().clone()
    handles = [ns.add_input_scale(lin, 3.0), ns.add_output_clamp(lin, -0.05, 0.05)]
    hooked = lin(x).detach().clone()
    types = [type(h).__name__ for h in handles]
    if all(hasattr(h, "remove") for h in handles):
        for h in handles:
            h.remove()
    return {"types": types, "changed": not torch.equal(hooked, plain),
            "restored": torch.equal(lin(x).detach(), plain)}


@question("q6", points=1)
def test_input_scale(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    n_in2 = student.rng.randint(2, 5)
    factor = round(student.rng.uniform(-3.0, 3.0), 3) or 1.5
    n = student.rng.randint(2, 5)
    x, x2 = torch.randn(n, n_in, generator=g), torch.randn(n, n_in2, generator=g)
    r = student.probe(input_scale_run, seed=student.seed, n_in=n_in, n_in2=n_in2, n_out=n_out, factor=factor,
                      x=x, x2=x2)
    expect(r["inputs_unchanged"], "add_input_scale's hook changed the caller's input tensor in place; build a new "
                                  "tensor (e.g. args[0] * factor) instead")
    tensors_close(r["y"], F.linear(factor * x, *r["lin"]), rtol=1e-4, atol=1e-5,
                  name="the output of an nn.Linear with add_input_scale")
    tensors_close(r["y2"], F.bilinear(factor * x, x2, *r["bil"]), rtol=1e-4, atol=1e-5,
                  name="the output of a two-input module (nn.Bilinear) with add_input_scale, which should scale "
                       "only the first input and keep the second")


@question("q6", points=1)
def test_output_clamp(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    low = round(student.rng.uniform(-0.6, -0.05), 3)
    high = round(student.rng.uniform(0.05, 0.6), 3)
    x = torch.randn(student.rng.randint(3, 6), n_in, generator=g) * 2
    r = student.probe(output_clamp_run, seed=student.seed, n_in=n_in, n_out=n_out, low=low, high=high, x=x)
    expect(r["y"] is not None, f"with add_output_clamp the module returned {r['y_type']} instead of a tensor")
    tensors_close(r["y"], F.linear(x, r["weight"], r["bias"]).clamp(low, high), rtol=1e-4, atol=1e-5,
                  name="the output of an nn.Linear with add_output_clamp (a forward hook must return the new "
                       "output)")


@question("q6", points=1)
def test_forward_hooks_return_handles(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    r = student.probe(forward_handles_run, seed=student.seed, n_in=n_in, n_out=n_out,
                      x=torch.randn(4, n_in, generator=g) * 2)
    expect(r["types"] == ["RemovableHandle", "RemovableHandle"],
           f"add_input_scale and add_output_clamp should return the handle of the hook they register "
           f"(a RemovableHandle); yours returned {r['types'][0]} and {r['types'][1]}")
    expect(r["changed"], "the hooks of add_input_scale and add_output_clamp did not change the module's output")
    expect(r["restored"], "after handle.remove() on both handles, the module should behave as without hooks")


# ---------------------------------------------------------------------------------------------- Q7
@probe
def record_grads_run(ns, seed, n_in, n_out, x, w, with_tanh, passes, after_remove):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
    module = nn.Sequential(lin, nn.Tanh()) if with_tanh else lin
    log = []
    handle = ns.record_grads(module, log)
    x = x.clone().requires_grad_(True)
    for _ in range(passes):
        (module(x) * w).sum().backward()
    entries = []
    for entry in log:
        pair = isinstance(entry, (tuple, list)) and len(entry) == 2
        entries.append({
            "pair": pair,
            "type": type(entry).__name__,
            "tensors": [t.detach().clone() if isinstance(t, torch.Tensor) else None for t in entry] if pair else [],
            "requires_grad": pair and any(isinstance(t, torch.Tensor) and t.requires_grad for t in entry),
        })
    logged_before_remove = len(log)
    removed = hasattr(handle, "remove")
    if removed:
        handle.remove()
        for _ in range(after_remove):
            (module(x) * w).sum().backward()
    return {"entries": entries, "handle_type": type(handle).__name__, "removed": removed,
            "logged_before_remove": logged_before_remove, "logged_after_remove": len(log),
            "x_grad": x.grad.clone(), "weight_grad": lin.weight.grad.clone(),
            "weight": lin.weight.detach().clone(), "bias": lin.bias.detach().clone()}


@probe
def scale_grad_run(ns, p0, c, factor):
    p, q = nn.Parameter(p0.clone()), nn.Parameter(p0.clone())
    handle = ns.scale_grad(p, factor)
    ((p * c).sum() + (q * c).sum()).backward()
    first, other = p.grad.clone(), q.grad.clone()
    removed = hasattr(handle, "remove")
    if removed:
        handle.remove()
    p.grad = None
    (p * c).sum().backward()
    return {"first": first, "other": other, "after_remove": p.grad.clone(), "removed": removed,
            "handle_type": type(handle).__name__}


def backward_reference(x, w, weight, bias, with_tanh):
    """(dL/dx, dL/dweight) for L = sum(module(x) * w), computed here with pristine torch."""
    x = x.clone().requires_grad_(True)
    weight = weight.clone().requires_grad_(True)
    y = F.linear(x, weight, bias)
    if with_tanh:
        y = torch.tanh(y)
    (y * w).sum().backward()
    return x.grad, weight.grad


def check_entry(entry, x, w, r, with_tanh, label):
    expect(entry["pair"], f"record_grads should append a tuple (grad_input[0], grad_output[0]) to the log; "
                          f"it appended a {entry['type']}")
    g_in, g_out = entry["tensors"]
    expect(g_in is not None and g_out is not None,
           f"{label}: both entries of the logged tuple should be tensors here (the input requires grad)")
    dx, _ = backward_reference(x, w, r["weight"], r["bias"], with_tanh)
    tensors_close(g_out, w, rtol=1e-4, atol=1e-5, name=f"{label}: the logged grad_output[0]")
    tensors_close(g_in, dx, rtol=1e-4, atol=1e-5,
                  name=f"{label}: the logged grad_input[0] (gradient with respect to the module's input; "
                       "use register_full_backward_hook)")
    expect(not entry["requires_grad"], f"{label}: the logged gradients should be detached copies")


@question("q7", points=1)
def test_record_grads_values(student):
    g = generator(student)
    for with_tanh in (False, True):
        n_in, n_out = sizes(student)
        n = student.rng.randint(2, 5)
        x, w = torch.randn(n, n_in, generator=g), torch.randn(n, n_out, generator=g)
        r = student.probe(record_grads_run, seed=student.seed, n_in=n_in, n_out=n_out, x=x, w=w,
                          with_tanh=with_tanh, passes=1, after_remove=0)
        label = "on nn.Sequential(nn.Linear, nn.Tanh)" if with_tanh else "on nn.Linear"
        expect(len(r["entries"]) == 1, f"{label}: one backward pass should append exactly one entry to the log")
        check_entry(r["entries"][0], x, w, r, with_tanh, label)


@question("q7", points=1)
def test_record_grads_every_pass_and_remove(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    passes = student.rng.randint(2, 3)
    x, w = torch.randn(3, n_in, generator=g), torch.randn(3, n_out, generator=g)
    r = student.probe(record_grads_run, seed=student.seed, n_in=n_in, n_out=n_out, x=x, w=w,
                      with_tanh=True, passes=passes, after_remove=1)
    expect(r["logged_before_remove"] == passes,
           "record_grads should append one entry per backward pass through the module")
    for entry in r["entries"][:passes]:
        check_entry(entry, x, w, r, True, "every backward pass")
    dx, dweight = backward_reference(x, w, r["weight"], r["bias"], True)
    expect(r["removed"], f"record_grads should return the hook's handle; it returned {r['handle_type']}")
    expect(r["logged_after_remove"] == passes, "after handle.remove(), the hook should not log anything more")
    tensors_close(r["x_grad"], dx * (passes + 1), rtol=1e-4, atol=1e-5,
                  name="the input's .grad with record_grads attached (the hook must not change gradients)")
    tensors_close(r["weight_grad"], dweight * (passes + 1), rtol=1e-4, atol=1e-5,
                  name="the weight's .grad with record_grads attached (the hook must not change gradients)")


@question("q7", points=1)
def test_scale_grad(student):
    g = generator(student)
    n = student.rng.randint(2, 8)
    factor = round(student.rng.uniform(0.2, 5.0), 3)
    p0, c = torch.randn(n, generator=g), torch.randn(n, generator=g)
    r = student.probe(scale_grad_run, p0=p0, c=c, factor=factor)
    tensors_close(r["first"], c * factor, rtol=1e-5, atol=1e-6,
                  name="the parameter's .grad with scale_grad (the tensor hook must return the new gradient)")
    tensors_equal(r["other"], c, name="the .grad of another parameter (scale_grad must affect only its own)")
    expect(r["removed"], f"scale_grad should return the hook's handle; it returned {r['handle_type']}")
    tensors_equal(r["after_remove"], c, name="the parameter's .grad after handle.remove()")


# ---------------------------------------------------------------------------------------------- Q8
@probe
def recorder_same_module(ns, seed, n_in, n_out, xs, attaches):
    torch.manual_seed(seed)
    lin = nn.Linear(n_in, n_out)
    rec = ns.OutputRecorder()
    for _ in range(attaches):
        rec.attach(lin)
    ys = []
    for x in xs:
        y = lin(x)
        ys.append({"y": y.detach().clone(), "requires_grad": y.requires_grad})
    outputs = list(rec.outputs)
    return {"ys": ys, "n_outputs": len(outputs),
            "outputs": [o.detach().clone() if isinstance(o, torch.Tensor) else None for o in outputs],
            "outputs_require_grad": any(isinstance(o, torch.Tensor) and o.requires_grad for o in outputs)}


@probe
def recorder_move_and_remove(ns, seed, n_in, n_out, x):
    torch.manual_seed(seed)
    a, b = nn.Linear(n_in, n_out), nn.Linear(n_in, n_out)
    rec = ns.OutputRecorder()
    rec.attach(a)
    a(x)
    rec.attach(b)
    a(x)
    y_b = b(x).detach().clone()
    after_move = len(rec.outputs)
    last = rec.outputs[-1].detach().clone() if rec.outputs and isinstance(rec.outputs[-1], torch.Tensor) else None
    rec.remove()
    a(x)
    b(x)
    after_remove = len(rec.outputs)
    rec.remove()
    return {"after_move": after_move, "last": last, "y_b": y_b, "after_remove": after_remove,
            "handle_is_none": rec.handle is None}


@question("q8", points=1)
def test_recorder_records_once(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    count = student.rng.randint(2, 4)
    xs = [torch.randn(student.rng.randint(1, 4), n_in, generator=g) for _ in range(count)]
    r = student.probe(recorder_same_module, seed=student.seed, n_in=n_in, n_out=n_out, xs=xs, attaches=2)
    expect(r["n_outputs"] == count,
           "after attach() was called twice on the same module, each forward pass should be recorded once "
           "(remove the old hook before registering a new one)")
    expect(all(y["requires_grad"] for y in r["ys"]),
           "attaching the recorder changed the module's output (it no longer requires grad): the hook must "
           "return None, not a new output")
    for i, (y, out) in enumerate(zip(r["ys"], r["outputs"]), 1):
        tensors_equal(out, y["y"], name=f"recorded output {i}")
    expect(not r["outputs_require_grad"], "the recorder should store output.detach()")


@question("q8", points=1)
def test_recorder_moves_and_removes(student):
    g = generator(student)
    n_in, n_out = sizes(student)
    r = student.probe(recorder_move_and_remove, seed=student.seed, n_in=n_in, n_out=n_out,
                      x=torch.randn(2, n_in, generator=g))
    expect(r["after_move"] == 2,
           "after attach(a) and then attach(b), only b's forward passes should be recorded "
           "(attach must remove the hook on a first)")
    tensors_equal(r["last"], r["y_b"], name="the output recorded after attach(b)")
    expect(r["after_remove"] == 2, "after remove(), no forward pass should be recorded anymore "
                                   "(call handle.remove())")
    expect(r["handle_is_none"], "after remove(), self.handle should be None")

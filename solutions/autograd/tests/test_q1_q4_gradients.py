"""Q1: backward on a scalar.  Q2: backward with gradient=.  Q3: accumulation and zero_grad.
Q4: retain_grad on a non-leaf tensor."""

import torch
import torch.nn.functional as F

from grader.testing import assert_tensor, expect, probe, question, tensors_close


@probe
def call_loss_grad(ns, w, x, y):
    g = ns.loss_grad(w, x, y)
    if isinstance(g, torch.Tensor):
        return {"g": g.detach().clone(), "type": "Tensor"}
    return {"g": None, "type": type(g).__name__}


@question("q1", points=2)
def test_loss_grad(student):
    for n, d in student.cases((1, 1), (2, 2), draw=lambda rng: (rng.randint(9, 40), rng.randint(3, 9))):
        x = torch.randn(n, d, generator=student.generator)
        w = torch.randn(d, generator=student.generator)
        y = torch.randn(n, generator=student.generator)
        r = student.probe(call_loss_grad, w=w, x=x, y=y)
        expect(r["g"] is not None, "loss_grad should return a tensor (the .grad of your leaf copy of w), "
               f"but it returned {r['type']}")
        expected = 2 * x.T @ (x @ w - y) / n
        tensors_close(r["g"], expected, rtol=1e-4, atol=1e-5, name=f"loss_grad(w, x, y) with N={n}, D={d}")


@probe
def call_weighted_grad(ns, x, v):
    g = ns.weighted_grad(x, v)
    if isinstance(g, torch.Tensor):
        return {"g": g.detach().clone(), "type": "Tensor"}
    return {"g": None, "type": type(g).__name__}


def _draw_shape(rng):
    return (tuple(rng.randint(1, 5) for _ in range(rng.randint(3, 4))),
            rng.choice([torch.float32, torch.float64]))


@question("q2", points=2)
def test_weighted_grad(student):
    cases = student.cases(((1,), torch.float32), ((3,), torch.float32), ((2, 1, 3), torch.float64),
                          ((4, 5), torch.float64), draw=_draw_shape)
    for shape, dtype in cases:
        x = torch.randn(*shape, generator=student.generator, dtype=torch.float64).to(dtype)
        v = torch.randn(*shape, generator=student.generator, dtype=torch.float64).to(dtype)
        r = student.probe(call_weighted_grad, x=x, v=v)
        expect(r["g"] is not None, f"weighted_grad should return a tensor, but it returned {r['type']}")
        expected = v * (torch.cos(x) * x + torch.sin(x))
        tensors_close(r["g"], expected, rtol=1e-4, atol=1e-5,
                      name=f"weighted_grad(x, v) for a {str(dtype).replace('torch.', '')} x of shape "
                           f"{tuple(shape)} (same shape and dtype as x; did you pass gradient=v?)")


@probe
def call_grads(ns, state, batches, which, garbage):
    model = nn.Linear(state["weight"].shape[1], state["weight"].shape[0])
    model.load_state_dict(state)
    if garbage:
        for p in model.parameters():
            p.grad = torch.full_like(p, 7.0)
    fn = ns.batch_grads if which == "batch" else ns.accumulated_grads
    out = fn(model, [(x, y) for x, y in batches])
    def clean(value):
        if isinstance(value, torch.Tensor):
            return value.detach().clone()
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return None
    return {"out": clean(out) if isinstance(out, (list, tuple)) else None, "type": type(out).__name__}


def _setup(student, d, k):
    state = {"weight": torch.randn(1, d, generator=student.generator),
             "bias": torch.randn(1, generator=student.generator)}
    batches = [(torch.randn(student.rng.randint(3, 8), d, generator=student.generator),
                torch.randn(1, 1, generator=student.generator)) for _ in range(k)]
    batches = [(x, torch.randn(x.shape[0], 1, generator=student.generator)) for x, _ in batches]
    return state, batches


def _reference(state, batches):
    model = torch.nn.Linear(state["weight"].shape[1], 1)
    model.load_state_dict(state)
    grads = []
    for x, y in batches:
        model.zero_grad()
        F.mse_loss(model(x), y).backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    return grads


def _q3_cases(student):
    return student.cases((1, 1), (3, 3), draw=lambda rng: (rng.randint(2, 6), rng.randint(4, 7)))


@question("q3", points=1)
def test_batch_grads(student):
    for d, k in _q3_cases(student):
        _check_batch_grads(student, *_setup(student, d, k))


def _check_batch_grads(student, state, batches):
    r = student.probe(call_grads, state=state, batches=batches, which="batch", garbage=True)
    expect(r["out"] is not None, f"batch_grads should return a list, but it returned {r['type']}")
    expected = _reference(state, batches)
    expect(len(r["out"]) == len(batches), "batch_grads should return one list of gradients per batch")
    for i, (got, want) in enumerate(zip(r["out"], expected)):
        expect(isinstance(got, list) and len(got) == 2,
               "each entry of batch_grads should be the list [p.grad.clone() for p in model.parameters()]")
        for g, e, name in zip(got, want, ["weight", "bias"]):
            tensors_close(g, e, rtol=1e-4, atol=1e-5,
                          name=f"the {name} gradient of batch {i} (each batch's gradient alone: "
                               "call model.zero_grad() before every backward)")


@question("q3", points=1)
def test_accumulated_grads(student):
    for d, k in _q3_cases(student):
        _check_accumulated_grads(student, *_setup(student, d, k))


def _check_accumulated_grads(student, state, batches):
    r = student.probe(call_grads, state=state, batches=batches, which="acc", garbage=True)
    expect(r["out"] is not None, f"accumulated_grads should return a list, but it returned {r['type']}")
    expected = _reference(state, batches)
    expect(len(r["out"]) == 2, "accumulated_grads should return [p.grad.clone() for p in model.parameters()]")
    for i, name in enumerate(["weight", "bias"]):
        tensors_close(r["out"][i], sum(e[i] for e in expected), rtol=1e-4, atol=1e-5,
                      name=f"the accumulated {name} gradient (zero once at the start, then sum "
                           "the gradients of all batches)")


@probe
def call_hidden_grads(ns, x, w1, w2):
    out = ns.hidden_grads(x, w1, w2)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return {"type": type(out).__name__}
    h, w = out
    return {"h": h.detach().clone() if isinstance(h, torch.Tensor) else None,
            "w": w.detach().clone() if isinstance(w, torch.Tensor) else None}


@question("q4", points=2)
def test_hidden_grads(student):
    for n, d, h in student.cases((1, 1, 1), (1, 2, 2),
                                 draw=lambda rng: (rng.randint(5, 12), rng.randint(3, 7), rng.randint(3, 7))):
        _check_hidden_grads(student, n, d, h)


def _check_hidden_grads(student, n, d, h):
    x = torch.randn(n, d, generator=student.generator)
    w1 = torch.randn(d, h, generator=student.generator)
    w2 = torch.randn(h, 1, generator=student.generator)
    r = student.probe(call_hidden_grads, x=x, w1=w1, w2=w2)
    expect("h" in r, "hidden_grads should return a tuple (h_grad, w1_grad)")
    expect(r["h"] is not None, "h_grad is None: call h.retain_grad() before loss.backward()")
    expect(r["w"] is not None, "w1_grad is None: w1 should be a leaf copy that requires grad, and h "
           "must be computed from it (not detached)")
    leaf = w1.clone().requires_grad_(True)
    hid = x @ leaf
    hid.retain_grad()
    ((torch.tanh(hid) @ w2) ** 2).sum().backward()
    tensors_close(r["h"], hid.grad, rtol=1e-4, atol=1e-5, name="h_grad")
    tensors_close(r["w"], leaf.grad, rtol=1e-4, atol=1e-5, name="w1_grad")

"""Q1: MyLinear built from nn.Parameter, forward with one call of torch.addmm, extra_repr.

Every expected value is computed here: the weight a seeded MyLinear must start with is rebuilt with
this process's torch, and the forward pass runs on a weight and a bias this module chooses and writes
into the layer.  Each test checks sizes of 1, the notebook's example sizes and sizes far from it."""

import torch

from grader.testing import expect, expect_calls, probe, question, tensors_close, torch_calls

CLOSE = {"rtol": 1e-4, "atol": 1e-5}


@probe
def linear_parts(ns, seed, n_in, n_out, bias, shift, scale):
    torch.manual_seed(seed)
    m = ns.MyLinear(n_in, n_out, bias=bias)
    params = list(m.named_parameters())
    b = getattr(m, "bias", "missing")
    n_in_stored, n_out_stored = getattr(m, "in_features", None), getattr(m, "out_features", None)
    grads = None
    if params and all(p.shape == shift[i].shape for i, (_, p) in enumerate(params[:2])):
        loss = sum((((p - shift[i]) ** 2) * scale[i]).sum() / 2 for i, (_, p) in enumerate(params[:2]))
        try:
            grads = [g.detach().clone() for g in torch.autograd.grad(loss, [p for _, p in params[:2]])]
        except RuntimeError:  # a parameter that does not require grad
            grads = None
    return {
        "names": [name for name, _ in params],
        "values": [p.detach().clone() for _, p in params],
        "grads": grads,
        "bias": b.detach().clone() if isinstance(b, torch.Tensor) else b if b is None else "not a tensor",
        "in_features": n_in_stored if type(n_in_stored) is int else None,
        "out_features": n_out_stored if type(n_out_stored) is int else None,
    }


@probe(uses=[torch_calls])
def linear_forward(ns, n_in, n_out, weight, bias, x, c):
    m = ns.MyLinear(n_in, n_out, bias=bias is not None)
    with torch.no_grad():
        m.weight.copy_(weight)
        if bias is not None:
            m.bias.copy_(bias)
    x_in = x.clone()
    y, calls = torch_calls(m, x_in)
    out = {"y": y.detach().clone() if isinstance(y, torch.Tensor) else None, "y_type": type(y).__name__,
           "calls": calls, "grads": None, "x_after": x_in.clone()}
    if isinstance(y, torch.Tensor):
        try:
            y.backward(c)
            out["grads"] = [None if p.grad is None else p.grad.clone()
                            for p in (m.weight, m.bias) if isinstance(p, torch.Tensor)]
        except RuntimeError:  # the output is not connected to the parameters
            pass
    return out


@probe
def linear_repr(ns, n_in, n_out, bias):
    m = ns.MyLinear(n_in, n_out, bias=bias)
    text = m.extra_repr()
    return {"extra": text if isinstance(text, str) else None, "extra_type": type(text).__name__,
            "repr": repr(m) if isinstance(text, str) else None}


def draw_sizes(rng):
    """(in_features, out_features) far from the example's (4, 3), never equal to each other."""
    n_in = rng.randint(9, 20)
    return n_in, rng.choice([k for k in range(9, 21) if k != n_in])


def size_cases(student):
    return student.cases((1, 1), (4, 3), draw=draw_sizes)


def seeded_weight(seed, n_in, n_out):
    """The weight MyLinear(n_in, n_out) starts with after torch.manual_seed(seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.randn(n_out, n_in)


@question("q1", points=1)
def test_mylinear_registers_parameters(student):
    g = student.generator
    for n_in, n_out in size_cases(student):
        size = f"MyLinear({n_in}, {n_out})"
        weight = seeded_weight(student.seed, n_in, n_out)
        shift = [torch.randn(n_out, n_in, generator=g), torch.randn(n_out, generator=g)]
        scale = [torch.rand(n_out, n_in, generator=g) + 0.5, torch.rand(n_out, generator=g) + 0.5]
        r = student.probe(linear_parts, seed=student.seed, n_in=n_in, n_out=n_out, bias=True, shift=shift,
                          scale=scale)
        expect(r["names"] == ["weight", "bias"],
               f"{size} should register exactly two parameters, `weight` then `bias` "
               "(wrap each tensor in nn.Parameter and assign it to self.weight / self.bias)")
        expect(r["in_features"] == n_in and r["out_features"] == n_out,
               f"{size} should store the ints in_features and out_features")
        tensors_close(r["values"][0], weight, **CLOSE,
                      name=f"{size}.weight right after __init__ (torch.randn(out_features, in_features))")
        tensors_close(r["values"][1], torch.zeros(n_out), **CLOSE, name=f"{size}.bias right after __init__")
        expect(isinstance(r["grads"], list) and len(r["grads"]) == 2,
               "MyLinear's parameters should require grad (an optimizer could not train them otherwise)")
        start = (weight, torch.zeros(n_out))
        for grad, p, s, c, what in zip(r["grads"], start, shift, scale, ("weight", "bias")):
            tensors_close(grad, (p - s) * c, **CLOSE,
                          name=f"the gradient of a loss with respect to {size}.{what}")

        r = student.probe(linear_parts, seed=student.seed, n_in=n_in, n_out=n_out, bias=False,
                          shift=shift[:1], scale=scale[:1])
        expect(r["names"] == ["weight"], f"MyLinear({n_in}, {n_out}, bias=False) should register only `weight`")
        expect(r["bias"] is None, "MyLinear(..., bias=False) should have self.bias set to None")
        tensors_close(r["values"][0], weight, **CLOSE,
                      name=f"MyLinear({n_in}, {n_out}, bias=False).weight right after __init__")


@question("q1", points=1)
def test_mylinear_forward(student):
    g = student.generator
    cases = student.cases((1, 1, 1), (2, 4, 3),
                          draw=lambda rng: (rng.randint(6, 20), *draw_sizes(rng)))
    for n, n_in, n_out in cases:
        size = f"MyLinear({n_in}, {n_out}) on an input of shape ({n}, {n_in})"
        x, weight, bias = torch.randn(n, n_in, generator=g), torch.randn(n_out, n_in, generator=g), \
            torch.randn(n_out, generator=g)
        c = torch.randn(n, n_out, generator=g)
        r = student.probe(linear_forward, n_in=n_in, n_out=n_out, weight=weight, bias=bias, x=x, c=c)
        expect(r["y"] is not None, f"{size}: forward should return a tensor, but it returned {r['y_type']}")
        tensors_close(r["y"], x @ weight.T + bias, **CLOSE, name=f"the output of {size}")
        tensors_close(r["x_after"], x, **CLOSE, name=f"the input after a forward pass of {size} (forward must "
                                                     "not change the caller's tensor)")
        expect_calls(r["calls"], "addmm", what=f"the forward pass of {size}", at_least=1, at_most=1)
        expect(isinstance(r["grads"], list) and len(r["grads"]) == 2,
               "MyLinear's output should be computed from its parameters, so that gradients reach them")
        tensors_close(r["grads"][0], c.T @ x, **CLOSE,
                      name=f"the gradient that reaches the weight through the output of {size}")
        tensors_close(r["grads"][1], c.sum(dim=0), **CLOSE,
                      name=f"the gradient that reaches the bias through the output of {size}")

        r = student.probe(linear_forward, n_in=n_in, n_out=n_out, weight=weight, bias=None, x=x, c=c)
        expect(r["y"] is not None,
               f"{size}, bias=False: forward should return a tensor, but it returned {r['y_type']}")
        tensors_close(r["y"], x @ weight.T, **CLOSE, name=f"the output of {size} without bias")


@question("q1", points=1)
def test_mylinear_extra_repr(student):
    for n_in, n_out in size_cases(student):
        for bias in (True, False):
            r = student.probe(linear_repr, n_in=n_in, n_out=n_out, bias=bias)
            expect(r["extra"] is not None,
                   "MyLinear.extra_repr() should return a str (not print it), but it returned "
                   f"{r['extra_type']}")
            expected = f"in_features={n_in}, out_features={n_out}, bias={bias}"
            expect(r["extra"] == expected,
                   f"MyLinear.extra_repr() has the wrong text for MyLinear({n_in}, {n_out}, bias={bias}); "
                   "it should have the form `in_features=I, out_features=O, bias=B`")
            expect(r["repr"] == f"MyLinear({expected})",
                   "printing a MyLinear should show MyLinear(in_features=..., out_features=..., bias=...)")

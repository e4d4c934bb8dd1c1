"""Q1: MyLinear built from nn.Parameter, forward with torch.addmm, extra_repr."""

import torch

from grader.testing import assert_tensor, expect, probe, question, tensors_close, tensors_equal


@probe
def linear_parts(ns, seed, n_in, n_out, bias):
    torch.manual_seed(seed)
    m = ns.MyLinear(n_in, n_out, bias=bias)
    params = list(m.named_parameters())
    weight, b = getattr(m, "weight", None), getattr(m, "bias", "missing")
    n_in_stored, n_out_stored = getattr(m, "in_features", None), getattr(m, "out_features", None)
    return {
        "is_module": isinstance(m, nn.Module),
        "names": [name for name, _ in params],
        "requires_grad": [p.requires_grad for _, p in params],
        "weight": weight.detach().clone() if isinstance(weight, torch.Tensor) else None,
        "bias_is_none": b is None,
        "bias": b.detach().clone() if isinstance(b, torch.Tensor) else None,
        "in_features": n_in_stored if type(n_in_stored) is int else None,
        "out_features": n_out_stored if type(n_out_stored) is int else None,
    }


@probe
def linear_forward(ns, seed, n_in, n_out, bias, x):
    from torch.overrides import TorchFunctionMode

    class Calls(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(getattr(func, "__name__", ""))
            return func(*args, **(kwargs or {}))

    torch.manual_seed(seed)
    m = ns.MyLinear(n_in, n_out, bias=bias)
    if isinstance(m.bias, torch.Tensor):
        with torch.no_grad():
            m.bias.normal_()  # the bias starts at zero; give it values so that forgetting it shows
    with Calls() as calls:
        y = m(x)
    return {
        "y": y.detach().clone() if isinstance(y, torch.Tensor) else None,
        "y_type": type(y).__name__,
        "y_requires_grad": isinstance(y, torch.Tensor) and y.requires_grad,
        "used_addmm": "addmm" in calls.names,
        "weight": m.weight.detach().clone(),
        "bias": m.bias.detach().clone() if isinstance(m.bias, torch.Tensor) else None,
    }


@probe
def linear_repr(ns, n_in, n_out, bias):
    m = ns.MyLinear(n_in, n_out, bias=bias)
    text = m.extra_repr()
    return {"extra": text if isinstance(text, str) else None, "extra_type": type(text).__name__,
            "repr": repr(m) if isinstance(text, str) else None}


def sizes(student):
    n_in = student.rng.randint(2, 9)
    n_out = student.rng.choice([k for k in range(2, 10) if k != n_in])
    return n_in, n_out


@question("q1", points=1)
def test_mylinear_registers_parameters(student):
    n_in, n_out = sizes(student)
    r = student.probe(linear_parts, seed=student.seed, n_in=n_in, n_out=n_out, bias=True)
    expect(r["is_module"], "MyLinear must be a subclass of nn.Module")
    expect(r["names"] == ["weight", "bias"],
           "MyLinear should register exactly two parameters, `weight` then `bias` "
           "(wrap each tensor in nn.Parameter and assign it to self.weight / self.bias)")
    expect(all(r["requires_grad"]), "MyLinear's parameters should require grad")
    expect(r["in_features"] == n_in and r["out_features"] == n_out,
           "MyLinear should store the ints in_features and out_features")
    assert_tensor(r["weight"], dtype=torch.float32, shape=(n_out, n_in), name="MyLinear.weight")
    tensors_equal(r["bias"], torch.zeros(n_out), name="MyLinear.bias right after __init__")

    r = student.probe(linear_parts, seed=student.seed, n_in=n_in, n_out=n_out, bias=False)
    expect(r["names"] == ["weight"], "MyLinear(..., bias=False) should register only `weight`")
    expect(r["bias_is_none"], "MyLinear(..., bias=False) should have self.bias set to None")


@question("q1", points=1)
def test_mylinear_forward(student):
    n_in, n_out = sizes(student)
    g = torch.Generator().manual_seed(student.seed)
    x = torch.randn(student.rng.randint(3, 7), n_in, generator=g)
    r = student.probe(linear_forward, seed=student.seed, n_in=n_in, n_out=n_out, bias=True, x=x)
    expect(r["y"] is not None, f"MyLinear's forward should return a tensor, but it returned {r['y_type']}")
    assert_tensor(r["weight"], shape=(n_out, n_in), name="MyLinear.weight")
    tensors_close(r["y"], x @ r["weight"].T + r["bias"], rtol=1e-4, atol=1e-5, name="MyLinear output")
    expect(r["y_requires_grad"], "MyLinear's output should be computed from its parameters, so that it "
                                 "requires grad")
    expect(r["used_addmm"], "MyLinear's forward should compute its output with torch.addmm")

    r = student.probe(linear_forward, seed=student.seed, n_in=n_in, n_out=n_out, bias=False, x=x)
    expect(r["y"] is not None, f"MyLinear(..., bias=False) should return a tensor, but it returned {r['y_type']}")
    tensors_close(r["y"], x @ r["weight"].T, rtol=1e-4, atol=1e-5, name="MyLinear output without bias")


@question("q1", points=1)
def test_mylinear_extra_repr(student):
    for bias in (True, False):
        n_in, n_out = sizes(student)
        r = student.probe(linear_repr, n_in=n_in, n_out=n_out, bias=bias)
        expect(r["extra"] is not None,
               f"MyLinear.extra_repr() should return a str (not print it), but it returned {r['extra_type']}")
        expected = f"in_features={n_in}, out_features={n_out}, bias={bias}"
        expect(r["extra"] == expected,
               f"MyLinear.extra_repr() has the wrong text for MyLinear({n_in}, {n_out}, bias={bias}); it should "
               "have the form `in_features=I, out_features=O, bias=B`")
        expect(r["repr"] == f"MyLinear({expected})",
               "printing a MyLinear should show MyLinear(in_features=..., out_features=..., bias=...)")

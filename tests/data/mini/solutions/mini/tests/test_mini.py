"""Hidden suite of the engine's test assignment: small, but written like a real one."""

import torch

from grader.testing import assert_type, expect, probe, question, tensors_close, tensors_equal


@probe
def call_double(ns, x):
    return ns.double(x)


@probe
def scale_module(ns, factor, x):
    m = ns.Scale(factor)
    params = [name for name, _ in m.named_parameters()]
    return {"y": m(x).detach(), "params": params, "is_module": isinstance(m, nn.Module),
            "factor_type": type(m.factor).__name__}


@question("q1", points=1)
def test_double_values(student):
    x = torch.randn(3, 4, generator=student.generator)
    tensors_equal(student.probe(call_double, x=x), x * 2, name="double(x)")


@question("q1", points=1)
def test_double_int_dtype(student):
    x = torch.randint(-5, 5, (student.rng.randint(1, 6),), generator=student.generator)
    tensors_equal(student.probe(call_double, x=x), x * 2, name="double(x) on an int64 tensor")


@question("q2", points=1)
def test_scale_is_module(student):
    r = student.probe(scale_module, factor=2.0, x=torch.ones(2))
    expect(r["is_module"], "Scale must be a subclass of nn.Module")
    expect(r["params"] == ["factor"], "Scale should register exactly one parameter, named `factor`")


@question("q2", points=2)
def test_scale_forward(student):
    factor = student.rng.uniform(0.5, 3.0)
    x = torch.randn(4, 3, generator=student.generator)
    r = student.probe(scale_module, factor=factor, x=x)
    tensors_close(r["y"], x * torch.tensor(factor), name="Scale output")
    assert_type(r["factor_type"], str, name="factor's type name")

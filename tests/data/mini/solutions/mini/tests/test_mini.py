"""Hidden suite of the engine's test assignment: small, but written like a real one."""

import torch

from grader.testing import expect, probe, question, tensors_close, tensors_equal


@probe
def call_double(ns, x):
    return ns.double(x)


@probe
def scale_module(ns, factor, x, new_factor):
    m = ns.Scale(factor)
    y = m(x).detach()
    params = dict(m.named_parameters())
    if "factor" in params:
        with torch.no_grad():
            params["factor"].fill_(new_factor)    # a registered parameter that forward uses
    return {"y": y, "y_new": m(x).detach(), "params": list(params)}


@question("q1", points=1)
def test_double_values(student):
    x = torch.randn(3, 4, generator=student.generator)
    tensors_equal(student.probe(call_double, x=x), x * 2, name="double(x)")


@question("q1", points=1)
def test_double_int_dtype(student):
    x = torch.randint(1, 6, (student.rng.randint(1, 6),), generator=student.generator)
    x[::2] *= -1                    # no zeros: x * 2 == x would let an answer echoing x pass
    tensors_equal(student.probe(call_double, x=x), x * 2, name="double(x) on an int64 tensor")


@question("q2", points=1)
def test_scale_is_module(student):
    x = torch.randn(2, 3, generator=student.generator)
    new_factor = student.rng.choice([-2.5, -1.5, 0.25, 4.0])
    r = student.probe(scale_module, factor=2.0, x=x, new_factor=new_factor)
    expect(r["params"] == ["factor"], "Scale should register exactly one parameter, named `factor`")
    tensors_close(r["y_new"], x * torch.tensor(new_factor), name="Scale's output after its `factor` "
                  "parameter was changed (forward must use the parameter)")


@question("q2", points=2)
def test_scale_forward(student):
    factor = student.rng.uniform(0.5, 3.0)
    x = torch.randn(4, 3, generator=student.generator)
    r = student.probe(scale_module, factor=factor, x=x, new_factor=1.0)
    tensors_close(r["y"], x * torch.tensor(factor), name="Scale output")

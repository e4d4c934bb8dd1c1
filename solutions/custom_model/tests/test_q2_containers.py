"""Q2: Stack keeps its layers in nn.ModuleList, Heads keeps its heads in nn.ModuleDict (in the order of
the dict it is given).

The weights are chosen here and written into the student's layers, so every expected value (what
state_dict() holds, what forward returns) is computed in this process."""

import torch

from grader.testing import (expect, expect_keys, expect_param_grads, parameter_grads, probe, question,
                            tensors_close)

CLOSE = {"rtol": 1e-4, "atol": 1e-5}

HEAD_NAMES = ["cls", "box", "mask", "depth", "pose", "score", "angle", "label", "edge", "center"]


@probe
def stack_parts(ns, n_layers, width, values):
    m = ns.Stack(n_layers, width)
    with torch.no_grad():
        for layer, v in zip(m.layers, values):
            layer.weight.copy_(v[:width])
            layer.bias.copy_(v[width])
    state = m.state_dict()
    return {"names": [name for name, _ in m.named_parameters()],
            "params": [p.detach().clone() for p in m.parameters()],
            "state_dict": list(state.keys()),
            "state_values": [t.detach().clone() for t in state.values()]}


@probe(uses=[parameter_grads])
def stack_forward(ns, n_layers, width, values, x, c):
    m = ns.Stack(n_layers, width)
    with torch.no_grad():
        for layer, v in zip(m.layers, values):
            layer.weight.copy_(v[:width])
            layer.bias.copy_(v[width])
    y = m(x)
    return {"y": y.detach().clone() if isinstance(y, torch.Tensor) else None, "y_type": type(y).__name__,
            "grads": parameter_grads(m, x, grad_output=c)}


@probe
def heads_run(ns, in_features, head_sizes, values, x):
    m = ns.Heads(in_features, head_sizes)
    start = 0
    with torch.no_grad():
        for name, size in head_sizes.items():
            rows = values[start:start + size]
            m.heads[name].weight.copy_(rows[:, :in_features])
            m.heads[name].bias.copy_(rows[:, in_features])
            start += size
    out = {"names": [name for name, _ in m.named_parameters()], "state_dict": list(m.state_dict().keys()),
           "runs": []}
    for name in head_sizes:
        y = m(x, name)
        out["runs"].append({"y": y.detach().clone() if isinstance(y, torch.Tensor) else None,
                            "y_type": type(y).__name__})
    return out


def layer_values(g, n_layers, width):
    """Row i: layer i's weight (the first `width` rows) and bias (the last row)."""
    return torch.randn(n_layers, width + 1, width, generator=g) / width ** 0.5


def stack_reference(values, width, x):
    h = x
    for v in values:
        h = torch.relu(h @ v[:width].T + v[width])
    return h


def stack_grads(values, width, x, c):
    """{name: the gradient of (Stack(x) * c).sum()} for every layer's weight and bias."""
    leaves = [v.clone().requires_grad_(True) for v in values]
    h = x
    for v in leaves:
        h = torch.relu(h @ v[:width].T + v[width])
    (h * c).sum().backward()
    return {f"layers.{i}.{kind}": part for i, v in enumerate(leaves)
            for kind, part in (("weight", v.grad[:width]), ("bias", v.grad[width]))}


def stack_case(student, n_layers, width, n):
    """Weights and an input for which the Stack's output is mostly positive (so that an all-zero answer
    is far from it)."""
    g = student.generator
    x = torch.randn(n, width, generator=g)
    for _ in range(200):
        values = layer_values(g, n_layers, width)
        values[:, width] += 0.5
        y = stack_reference(values, width, x)
        if (y > 0.05).float().mean() >= 0.5:
            break
    return values, x, y


def stack_cases(student):
    """(n_layers, width, batch): sizes of 1, the notebook's example (3, 5, 2) and sizes far from it."""
    return student.cases((1, 1, 1), (3, 5, 2),
                         draw=lambda rng: (rng.randint(6, 9), rng.randint(9, 16), rng.randint(6, 12)))


@question("q2", points=1)
def test_stack_registers_its_layers(student):
    for n_layers, width, _ in stack_cases(student):
        size = f"Stack({n_layers}, {width})"
        values = layer_values(student.generator, n_layers, width)
        r = student.probe(stack_parts, n_layers=n_layers, width=width, values=values)
        expected = [f"layers.{i}.{kind}" for i in range(n_layers) for kind in ("weight", "bias")]
        expect(r["names"] == expected,
               f"{size}'s named_parameters() should list layers.0.weight, layers.0.bias, layers.1.weight, ... "
               "for every layer: keep the layers in an nn.ModuleList (a plain Python list hides them from "
               "PyTorch), one new nn.Linear(width, width) per layer")
        expect_keys(r["state_dict"], expected, what=f"{size}'s state_dict()", order=True,
                    hint="It should hold every layer's weight and bias.")
        wanted = [t for v in values for t in (v[:width], v[width])]
        for i, (got, want) in enumerate(zip(r["state_values"], wanted)):
            tensors_close(got, want, **CLOSE,
                          name=f"{size}'s state_dict() entry {expected[i]} (each layer should be a separate "
                               "nn.Linear with its own weight)")
        expect(len(r["params"]) == len(wanted), f"{size}'s parameters() should hold every layer's weight and bias")
        for i, (got, want) in enumerate(zip(r["params"], wanted)):
            tensors_close(got, want, **CLOSE, name=f"{size}'s parameter {expected[i]}")


@question("q2", points=1)
def test_stack_forward(student):
    for n_layers, width, n in stack_cases(student):
        values, x, y = stack_case(student, n_layers, width, n)
        c = torch.randn(n, width, generator=student.generator)
        r = student.probe(stack_forward, n_layers=n_layers, width=width, values=values, x=x, c=c)
        expect(r["y"] is not None, f"Stack's forward should return a tensor, but it returned {r['y_type']}")
        tensors_close(r["y"], y, **CLOSE, name=f"the output of Stack({n_layers}, {width}) for an input of shape "
                                              f"({n}, {width})")
        wanted = stack_grads(values, width, x, c)
        got = expect_param_grads(r["grads"], {name: g.shape for name, g in wanted.items()},
                                 what=f"Stack({n_layers}, {width})")
        for name, grad in wanted.items():
            tensors_close(got[name], grad, **CLOSE,
                          name=f"the gradient that reaches {name} of Stack({n_layers}, {width}) through its "
                               "output (every layer should be used once, in order, on the output of the one "
                               "before)")


def draw_heads(rng):
    """in_features, {name: out_features} in an order that is not sorted, and a batch size."""
    names = rng.sample(HEAD_NAMES, rng.randint(5, 8))
    while names == sorted(names):
        rng.shuffle(names)
    return rng.randint(8, 16), {name: rng.randint(1, 9) for name in names}, rng.randint(5, 10)


@question("q2", points=1)
def test_heads_module_dict(student):
    g = student.generator
    cases = student.cases((1, {"score": 1}, 1), (4, {"cls": 3, "box": 4}, 2),
                          (2, {"pose": 2, "depth": 1, "angle": 3}, 1), draw=draw_heads)
    for in_features, head_sizes, n in cases:
        size = f"Heads({in_features}, {head_sizes})"
        x = torch.randn(n, in_features, generator=g)
        values = torch.randn(sum(head_sizes.values()), in_features + 1, generator=g)
        r = student.probe(heads_run, in_features=in_features, head_sizes=head_sizes, values=values, x=x)
        expected = [f"heads.{name}.{kind}" for name in head_sizes for kind in ("weight", "bias")]
        expect(r["names"] == expected,
               f"{size}: named_parameters() should list heads.<name>.weight, heads.<name>.bias for every entry "
               "of head_sizes, in the order of head_sizes (keep the heads in an nn.ModuleDict built in that "
               "order: a plain Python dict hides them from PyTorch)")
        expect_keys(r["state_dict"], expected, what=f"{size}: state_dict()", order=True,
                    hint="It should hold every head's weight and bias, in the order of head_sizes.")
        expect(len(r["runs"]) == len(head_sizes), "Heads' forward should run for every head")
        start = 0
        for name, run in zip(head_sizes, r["runs"]):
            rows = values[start:start + head_sizes[name]]
            start += head_sizes[name]
            expect(run["y"] is not None,
                   f"Heads' forward should return a tensor, but it returned {run['y_type']}")
            tensors_close(run["y"], x @ rows[:, :in_features].T + rows[:, in_features], **CLOSE,
                          name=f"{size}: the output of head {name!r} for an input of shape ({n}, {in_features})")

"""Q2: Stack keeps its layers in nn.ModuleList, Heads keeps its heads in nn.ModuleDict.

The weights are chosen here and written into the student's layers, so every expected value (what
state_dict() holds, what forward returns) is computed in this process."""

import torch

from grader.testing import expect, probe, question, tensors_close, tensors_equal

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


@probe
def stack_forward(ns, n_layers, width, values, x):
    m = ns.Stack(n_layers, width)
    with torch.no_grad():
        for layer, v in zip(m.layers, values):
            layer.weight.copy_(v[:width])
            layer.bias.copy_(v[width])
    y = m(x)
    return {"y": y.detach().clone() if isinstance(y, torch.Tensor) else None, "y_type": type(y).__name__}


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


def stack_case(student):
    """Sizes, weights and an input for which the Stack's output is mostly positive (so that an
    all-zero answer is far from it)."""
    n_layers, width = student.rng.randint(2, 5), student.rng.randint(2, 7)
    g = student.generator
    x = torch.randn(student.rng.randint(2, 6), width, generator=g)
    for _ in range(100):
        values = layer_values(g, n_layers, width)
        values[:, width] += 0.5
        y = stack_reference(values, width, x)
        if (y > 0.05).float().mean() >= 0.5:
            break
    return n_layers, width, values, x, y


@question("q2", points=1)
def test_stack_registers_its_layers(student):
    n_layers, width = student.rng.randint(2, 5), student.rng.randint(2, 7)
    values = layer_values(student.generator, n_layers, width)
    r = student.probe(stack_parts, n_layers=n_layers, width=width, values=values)
    expected = [f"layers.{i}.{kind}" for i in range(n_layers) for kind in ("weight", "bias")]
    expect(r["names"] == expected,
           "Stack's named_parameters() should list layers.0.weight, layers.0.bias, layers.1.weight, ... "
           "for every layer: keep the layers in an nn.ModuleList (a plain Python list hides them from "
           "PyTorch), one new nn.Linear(width, width) per layer")
    expect(r["state_dict"] == expected, "Stack's state_dict() should hold every layer's weight and bias")
    wanted = [t for v in values for t in (v[:width], v[width])]
    for i, (got, want) in enumerate(zip(r["state_values"], wanted)):
        tensors_equal(got, want, name=f"Stack's state_dict() entry {expected[i]} (each layer should be a "
                                      "separate nn.Linear with its own weight)")
    expect(len(r["params"]) == len(wanted), "Stack's parameters() should hold every layer's weight and bias")
    for i, (got, want) in enumerate(zip(r["params"], wanted)):
        tensors_equal(got, want, name=f"Stack's parameter {expected[i]}")


@question("q2", points=1)
def test_stack_forward(student):
    n_layers, width, values, x, y = stack_case(student)
    r = student.probe(stack_forward, n_layers=n_layers, width=width, values=values, x=x)
    expect(r["y"] is not None, f"Stack's forward should return a tensor, but it returned {r['y_type']}")
    tensors_close(r["y"], y, rtol=1e-4, atol=1e-5, name="Stack output")


@question("q2", points=1)
def test_heads_module_dict(student):
    in_features = student.rng.randint(2, 7)
    names = student.rng.sample(HEAD_NAMES, student.rng.randint(2, 4))
    head_sizes = {name: student.rng.randint(1, 6) for name in names}
    g = student.generator
    x = torch.randn(student.rng.randint(2, 5), in_features, generator=g)
    values = torch.randn(sum(head_sizes.values()), in_features + 1, generator=g)
    r = student.probe(heads_run, in_features=in_features, head_sizes=head_sizes, values=values, x=x)
    expected = [f"heads.{name}.{kind}" for name in head_sizes for kind in ("weight", "bias")]
    expect(r["names"] == expected,
           "Heads' named_parameters() should list heads.<name>.weight, heads.<name>.bias for every entry "
           "of head_sizes, in the order of head_sizes (keep the heads in an nn.ModuleDict: a plain Python "
           "dict hides them from PyTorch)")
    expect(r["state_dict"] == expected, "Heads' state_dict() should hold every head's weight and bias")
    expect(len(r["runs"]) == len(head_sizes), "Heads' forward should run for every head")
    start = 0
    for name, run in zip(head_sizes, r["runs"]):
        rows = values[start:start + head_sizes[name]]
        start += head_sizes[name]
        expect(run["y"] is not None,
               f"Heads' forward should return a tensor, but it returned {run['y_type']}")
        tensors_close(run["y"], x @ rows[:, :in_features].T + rows[:, in_features], rtol=1e-4, atol=1e-5,
                      name=f"Heads output for head {name!r}")

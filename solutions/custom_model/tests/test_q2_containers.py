"""Q2: Stack keeps its layers in nn.ModuleList, Heads keeps its heads in nn.ModuleDict."""

import torch

from grader.testing import assert_tensor, expect, probe, question, tensors_close

HEAD_NAMES = ["cls", "box", "mask", "depth", "pose", "score", "angle", "label", "edge", "center"]


@probe
def stack_parts(ns, seed, n_layers, width):
    torch.manual_seed(seed)
    m = ns.Stack(n_layers, width)
    layers = getattr(m, "layers", None)
    items = list(layers) if isinstance(layers, (list, tuple, nn.ModuleList, nn.Sequential)) else []
    return {
        "layers_type": type(layers).__name__,
        "n_items": len(items),
        "n_distinct": len({id(layer) for layer in items}),
        "all_linear": all(type(layer) is nn.Linear for layer in items),
        "names": [name for name, _ in m.named_parameters()],
        "state_dict": list(m.state_dict().keys()),
    }


@probe
def stack_forward(ns, seed, n_layers, width, x):
    torch.manual_seed(seed)
    m = ns.Stack(n_layers, width)
    y = m(x)
    return {"y": y.detach().clone() if isinstance(y, torch.Tensor) else None, "y_type": type(y).__name__,
            "weights": [layer.weight.detach().clone() for layer in m.layers],
            "biases": [layer.bias.detach().clone() for layer in m.layers]}


@probe
def heads_run(ns, seed, in_features, head_sizes, x):
    torch.manual_seed(seed)
    m = ns.Heads(in_features, head_sizes)
    heads = getattr(m, "heads", None)
    out = {"heads_type": type(heads).__name__, "names": [name for name, _ in m.named_parameters()],
           "state_dict": list(m.state_dict().keys()), "runs": []}
    if heads is None:
        return out
    for name in head_sizes:
        y = m(x, name)
        out["runs"].append({"y": y.detach().clone() if isinstance(y, torch.Tensor) else None,
                            "y_type": type(y).__name__,
                            "weight": m.heads[name].weight.detach().clone(),
                            "bias": m.heads[name].bias.detach().clone()})
    return out


@question("q2", points=1)
def test_stack_registers_its_layers(student):
    n_layers, width = student.rng.randint(2, 5), student.rng.randint(2, 7)
    r = student.probe(stack_parts, seed=student.seed, n_layers=n_layers, width=width)
    expect(r["layers_type"] != "NoneType", "Stack should keep its layers in self.layers (an nn.ModuleList)")
    expect(r["layers_type"] == "ModuleList",
           f"Stack.layers should be an nn.ModuleList, but it is a {r['layers_type']} "
           "(a plain Python list hides the layers from PyTorch)")
    expect(r["n_items"] == n_layers and r["all_linear"],
           "Stack(n_layers, width).layers should hold n_layers nn.Linear(width, width) layers")
    expect(r["n_distinct"] == n_layers,
           "Stack should create a new nn.Linear for every layer; yours puts the same layer object in the "
           "list several times, so all layers share one weight")
    expected = [f"layers.{i}.{kind}" for i in range(n_layers) for kind in ("weight", "bias")]
    expect(r["names"] == expected,
           "Stack's named_parameters() should list layers.0.weight, layers.0.bias, layers.1.weight, ... "
           "for every layer")
    expect(r["state_dict"] == expected, "Stack's state_dict() should hold every layer's weight and bias")


@question("q2", points=1)
def test_stack_forward(student):
    n_layers, width = student.rng.randint(2, 5), student.rng.randint(2, 7)
    g = torch.Generator().manual_seed(student.seed)
    x = torch.randn(student.rng.randint(2, 6), width, generator=g)
    r = student.probe(stack_forward, seed=student.seed, n_layers=n_layers, width=width, x=x)
    expect(r["y"] is not None, f"Stack's forward should return a tensor, but it returned {r['y_type']}")
    h = x
    for w, b in zip(r["weights"], r["biases"]):
        h = torch.relu(h @ w.T + b)
    tensors_close(r["y"], h, rtol=1e-4, atol=1e-5, name="Stack output")


@question("q2", points=1)
def test_heads_module_dict(student):
    in_features = student.rng.randint(2, 7)
    names = student.rng.sample(HEAD_NAMES, student.rng.randint(2, 4))
    head_sizes = {name: student.rng.randint(1, 6) for name in names}
    g = torch.Generator().manual_seed(student.seed)
    x = torch.randn(student.rng.randint(2, 5), in_features, generator=g)
    r = student.probe(heads_run, seed=student.seed, in_features=in_features, head_sizes=head_sizes, x=x)
    expect(r["heads_type"] != "NoneType", "Heads should keep its heads in self.heads (an nn.ModuleDict)")
    expect(r["heads_type"] == "ModuleDict",
           f"Heads.heads should be an nn.ModuleDict, but it is a {r['heads_type']} "
           "(a plain Python dict hides the heads from PyTorch)")
    expected = [f"heads.{name}.{kind}" for name in head_sizes for kind in ("weight", "bias")]
    expect(r["names"] == expected,
           "Heads' named_parameters() should list heads.<name>.weight, heads.<name>.bias for every entry "
           "of head_sizes, in the order of head_sizes")
    expect(r["state_dict"] == expected, "Heads' state_dict() should hold every head's weight and bias")
    for name, run in zip(head_sizes, r["runs"]):
        expect(run["y"] is not None,
               f"Heads' forward should return a tensor, but it returned {run['y_type']}")
        assert_tensor(run["weight"], shape=(head_sizes[name], in_features), name=f"heads[{name!r}].weight")
        tensors_close(run["y"], x @ run["weight"].T + run["bias"], rtol=1e-4, atol=1e-5,
                      name=f"Heads output for head {name!r}")

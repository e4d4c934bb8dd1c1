"""Q9: init_weights used with model.apply fills Linear weights in place.
Q10: apply_order (children before parent) and add_gain (a new parameter on every nn.Linear).

The models are random trees of Sequential / ModuleDict containers with Linear, BatchNorm1d and ReLU
leaves, described as plain nested lists so the probe and this module build the same model.
"""

import torch
import torch.nn as nn

from grader.testing import assert_tensor, expect, probe, question, tensors_close, tensors_equal

KEYS = ["encoder", "decoder", "head", "body", "proj", "mlp", "block", "norm", "out", "stem", "neck", "tail"]


def random_node(rng, depth):
    if depth == 0 or (depth < 3 and rng.random() < 0.35):
        children = [random_node(rng, depth + 1) for _ in range(rng.randint(2, 3))]
        if rng.random() < 0.5:
            return ["seq", children]
        return ["dict", [[key, child] for key, child in zip(rng.sample(KEYS, len(children)), children)]]
    roll = rng.random()
    if roll < 0.55:
        return ["linear", rng.randint(1, 6), rng.randint(1, 6), rng.random() < 0.7]
    if roll < 0.8:
        return ["bn", rng.randint(1, 6)]
    return ["relu"]


def leaves(desc):
    if desc[0] == "seq":
        return [leaf for child in desc[1] for leaf in leaves(child)]
    if desc[0] == "dict":
        return [leaf for _, child in desc[1] for leaf in leaves(child)]
    return [desc]


def random_tree(rng):
    """A random model description with a BatchNorm1d, a nested container and two or more Linears, two of
    them with the same out_features (so that layers wrongly sharing one `gain` would show)."""
    while True:
        desc = random_node(rng, 0)
        children = desc[1] if desc[0] == "seq" else [child for _, child in desc[1]]
        kinds = [leaf[0] for leaf in leaves(desc)]
        outs = [leaf[2] for leaf in leaves(desc) if leaf[0] == "linear"]
        if "bn" in kinds and len(set(outs)) < len(outs) and any(c[0] in ("seq", "dict") for c in children):
            return desc


def build(desc):
    kind = desc[0]
    if kind == "linear":
        return nn.Linear(desc[1], desc[2], bias=desc[3])
    if kind == "bn":
        return nn.BatchNorm1d(desc[1])
    if kind == "relu":
        return nn.ReLU()
    if kind == "seq":
        return nn.Sequential(*[build(child) for child in desc[1]])
    return nn.ModuleDict({key: build(child) for key, child in desc[1]})


@probe
def call_on_tree(ns, desc, function, seed, double):
    def build(d):
        if d[0] == "linear":
            return nn.Linear(d[1], d[2], bias=d[3])
        if d[0] == "bn":
            return nn.BatchNorm1d(d[1])
        if d[0] == "relu":
            return nn.ReLU()
        if d[0] == "seq":
            return nn.Sequential(*[build(c) for c in d[1]])
        return nn.ModuleDict({k: build(c) for k, c in d[1]})

    model = build(desc)
    if double:
        model.double()
    before = {name: (p, p.data_ptr(), p.detach().clone()) for name, p in model.named_parameters()}
    torch.manual_seed(seed)
    if function == "init_weights":
        model.apply(ns.init_weights)
        result = None
    else:
        result = ns[function](model)
    plain = result is None or isinstance(result, (list, tuple)) and all(type(v) is str for v in result)
    params = []
    for name, p in model.named_parameters():
        params.append({"name": name, "value": p.detach().clone(), "is_parameter": type(p) is nn.Parameter,
                       "requires_grad": p.requires_grad,
                       "same_object": name in before and before[name][0] is p,
                       "same_memory": name in before and before[name][1] == p.data_ptr(),
                       "changed": name not in before or not torch.equal(before[name][2], p.detach())})
    gains = {}
    for name, m in model.named_modules():
        gain = getattr(m, "gain", None)
        if gain is not None:
            gains[name] = type(gain).__name__
    return {"type": type(result).__name__, "value": result if plain else None, "params": params,
            "state_dict": list(model.state_dict().keys()), "gains": gains}


def linear_weight_names(desc):
    return [f"{name}.weight" for name, m in build(desc).named_modules() if isinstance(m, nn.Linear)]


def linears_in_apply_order(model):
    order = []
    model.apply(lambda m: order.append(m) if isinstance(m, nn.Linear) else None)
    return order


@question("q9", points=1)
def test_init_weights_values(student):
    desc = random_tree(student.rng)
    seed = student.rng.randint(0, 2**31 - 1)
    r = student.probe(call_on_tree, desc=desc, function="init_weights", seed=seed, double=False)
    model = build(desc)
    torch.manual_seed(seed)
    for layer in linears_in_apply_order(model):
        nn.init.xavier_uniform_(layer.weight)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    expected = dict(model.named_parameters())
    expect([p["name"] for p in r["params"]] == list(expected),
           "model.apply(init_weights) should not add or remove parameters")
    for p in r["params"]:
        tensors_close(p["value"], expected[p["name"]].detach(), rtol=1e-6, atol=1e-7,
                      name=f"parameter {p['name']} after model.apply(init_weights) (nn.Linear: xavier_uniform_ "
                           "weight and zero bias, each layer initialised once; other modules unchanged)")


@question("q9", points=1)
def test_init_weights_in_place(student):
    desc = random_tree(student.rng)
    r = student.probe(call_on_tree, desc=desc, function="init_weights", seed=student.seed, double=False)
    names = set(linear_weight_names(desc))
    weights = [p for p in r["params"] if p["name"] in names]
    expect(all(p["changed"] for p in weights),
           "model.apply(init_weights) should give every nn.Linear weight new values")
    for p in r["params"]:
        expect(p["same_object"] and p["is_parameter"] and p["requires_grad"],
               f"after model.apply(init_weights), {p['name']} is a new object: fill the existing nn.Parameter in "
               "place (nn.init functions ending in _) instead of creating a new one")
        expect(p["same_memory"],
               f"after model.apply(init_weights), {p['name']} uses new memory: fill the existing tensor in place "
               "instead of assigning a new tensor to .data")


@question("q10", points=1)
def test_apply_order(student):
    for _ in range(2):
        desc = random_tree(student.rng)
        model = build(desc)
        names = {m: name for name, m in model.named_modules()}
        expected = []
        model.apply(lambda m: expected.append(names[m]))
        r = student.probe(call_on_tree, desc=desc, function="apply_order", seed=0, double=False)
        expect(r["value"] is not None, f"apply_order should return a list of str, but it returned a {r['type']}")
        expect(list(r["value"]) == expected,
               "apply_order(model) gives the wrong order: apply visits each child's whole subtree first "
               "(children before their parent) and the model itself (\"\") last")


def expected_gain_model(desc, double):
    model = build(desc)
    if double:
        model.double()
    for layer in linears_in_apply_order(model):
        layer.register_parameter("gain", nn.Parameter(torch.ones_like(layer.weight[:, 0])))
    return model


@question("q10", points=1)
def test_add_gain_registers_parameters(student):
    desc = random_tree(student.rng)
    r = student.probe(call_on_tree, desc=desc, function="add_gain", seed=0, double=False)
    model = expected_gain_model(desc, double=False)
    linear_names = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    for name in linear_names:
        expect(name in r["gains"], "add_gain should give every nn.Linear in the model an attribute `gain`")
        expect(r["gains"][name] == "Parameter",
               f"each layer's gain should be an nn.Parameter, but it is a {r['gains'][name]} (a plain tensor "
               "attribute is not registered)")
    expect(sorted(r["gains"]) == sorted(linear_names), "add_gain should add `gain` only to nn.Linear layers")
    expect([p["name"] for p in r["params"]] == [n for n, _ in model.named_parameters()],
           "after add_gain, named_parameters() should list `<layer>.gain` after each nn.Linear's weight and bias; "
           "each layer needs its own new nn.Parameter")
    expect(r["state_dict"] == list(model.state_dict().keys()), "after add_gain, state_dict() should contain the gains")


@question("q10", points=1)
def test_add_gain_values(student):
    desc = random_tree(student.rng)
    r = student.probe(call_on_tree, desc=desc, function="add_gain", seed=0, double=True)
    expected = dict(expected_gain_model(desc, double=True).named_parameters())
    gains = [p for p in r["params"] if p["name"].endswith(".gain") or p["name"] == "gain"]
    expect(len(gains) == sum(1 for name in expected if name.endswith("gain")),
           "add_gain should register one `gain` parameter on every nn.Linear")
    for p in gains:
        expect(p["name"] in expected, "add_gain should add `gain` only to nn.Linear layers")
        assert_tensor(p["value"], dtype=torch.float64, name=f"{p['name']} of a model converted with .double()")
        tensors_equal(p["value"], expected[p["name"]].detach(),
                      name=f"{p['name']} (ones, shape (out_features,), dtype of the layer's weight)")
        expect(p["requires_grad"], f"{p['name']} should require grad")

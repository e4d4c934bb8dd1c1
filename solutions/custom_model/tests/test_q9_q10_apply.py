"""Q9: init_weights used with model.apply fills Linear weights in place.
Q10: apply_order (children before parent) and add_gain (a new parameter on every nn.Linear).

The models are random trees of Sequential / ModuleDict containers with Linear, BatchNorm1d and ReLU
leaves, described as plain nested lists so the probe and this module build the same model.  Each test
checks single modules, the notebook's example model and random trees.
"""

import torch
import torch.nn as nn

from grader.testing import expect, probe, question, tensors_close, valid_tensor

CLOSE = {"rtol": 1e-4, "atol": 1e-5}

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


# the notebooks' examples for Q9 and Q10
EXAMPLE_Q9 = ["seq", [["linear", 4, 8, True], ["relu"], ["linear", 8, 2, True]]]
EXAMPLE_Q10 = ["seq", [["linear", 4, 8, True], ["seq", [["relu"], ["linear", 8, 2, True]]]]]


def tree_cases(student, *fixed):
    """The fixed models (single modules, the notebook's example), then two random trees."""
    return student.cases(*fixed, draw=random_tree)


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


@probe(uses=[build])
def init_values(ns, desc, seed):
    model = build(desc)
    torch.manual_seed(seed)
    model.apply(ns.init_weights)
    return [[name, p.detach().clone()] for name, p in model.named_parameters()]


@probe(uses=[build])
def init_in_place(ns, desc, seed, pool):
    torch.manual_seed(seed)
    model = build(desc)
    before = [p for _, p in model.named_parameters()]
    memory = [p.detach() for p in before]        # the tensors' memory before apply
    model.apply(ns.init_weights)
    initialised = [p.detach().clone() for _, p in model.named_parameters()]
    start = 0
    with torch.no_grad():                        # write into the old memory, give the old objects a .grad
        for p, old in zip(before, memory):
            n = old.numel()
            old.copy_(pool[0, start:start + n].view_as(old))
            p.grad = pool[1, start:start + n].view_as(old).clone()
            start += n
    return [{"name": name, "initialised": init, "value": p.detach().clone(),
             "grad": None if p.grad is None else p.grad.clone()}
            for (name, p), init in zip(model.named_parameters(), initialised)]


@probe(uses=[build])
def apply_order_run(ns, desc):
    result = ns.apply_order(build(desc))
    plain = isinstance(result, (list, tuple)) and all(type(v) is str for v in result)
    return {"type": type(result).__name__, "value": list(result) if plain else None}


@probe(uses=[build])
def add_gain_run(ns, desc, double, pool):
    model = build(desc)
    if double:
        model.double()
    ns.add_gain(model)
    out = {"names": [name for name, _ in model.named_parameters()],
           "state_dict": list(model.state_dict().keys()), "gains": []}
    gains = [p for name, p in model.named_parameters() if name.split(".")[-1] == "gain"]
    start, loss = 0, 0
    for g in gains:                              # a loss whose gradient shows each gain's value
        c = pool[start:start + g.numel()].view_as(g)
        start += g.numel()
        loss = loss + (g * g * c).sum() / 2
    try:
        loss.backward()
    except (RuntimeError, AttributeError):       # no gain, or none that requires grad
        pass
    for g in gains:
        out["gains"].append({"value": g.detach().clone(), "grad": None if g.grad is None else g.grad.clone()})
    return out


def linear_weight_names(desc):
    return [f"{name}.weight" for name, m in build(desc).named_modules() if isinstance(m, nn.Linear)]


def linears_in_apply_order(model):
    order = []
    model.apply(lambda m: order.append(m) if isinstance(m, nn.Linear) else None)
    return order


def is_list(value, n=None) -> bool:
    return isinstance(value, list) and (n is None or len(value) == n)


@question("q9", points=1)
def test_init_weights_values(student):
    for desc in tree_cases(student, ["linear", 1, 1, True], ["linear", 1, 3, False], EXAMPLE_Q9):
        seed = student.rng.randint(0, 2**31 - 1)
        r = student.probe(init_values, desc=desc, seed=seed)
        model = build(desc)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for layer in linears_in_apply_order(model):
                nn.init.xavier_uniform_(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
        expected = dict(model.named_parameters())
        expect(is_list(r) and [p[0] for p in r] == list(expected),
               "model.apply(init_weights) should not add or remove parameters")
        for name, value in r:
            tensors_close(value, expected[name].detach(), **CLOSE,
                          name=f"parameter {name} after model.apply(init_weights) (nn.Linear: "
                               "xavier_uniform_ weight and zero bias, each layer initialised once; other modules "
                               "unchanged)")


@question("q9", points=1)
def test_init_weights_in_place(student):
    for desc in tree_cases(student, ["linear", 1, 1, True], EXAMPLE_Q9):
        check_in_place(student, desc)


def check_in_place(student, desc):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(student.seed)
        params = list(build(desc).named_parameters())     # the values the probe's model starts with
    total = sum(p.numel() for _, p in params)
    pool = torch.randn(2, total, generator=student.generator)
    r = student.probe(init_in_place, desc=desc, seed=student.seed, pool=pool)
    expect(is_list(r) and [p["name"] for p in r] == [name for name, _ in params],
           "model.apply(init_weights) should not add or remove parameters")
    weights = set(linear_weight_names(desc))
    for (name, p), got in zip(params, r):
        if name in weights:
            initialised = valid_tensor(got["initialised"], dtype=p.dtype, shape=p.shape,
                                       name=f"{name} after model.apply(init_weights)")
            expect(not torch.equal(initialised, p.detach()),
                   "model.apply(init_weights) should give every nn.Linear weight new values")
    start = 0
    for (name, p), got in zip(params, r):
        value = pool[0, start:start + p.numel()].view_as(p)
        grad = pool[1, start:start + p.numel()].view_as(p)
        start += p.numel()
        tensors_close(got["value"], value, **CLOSE,
                      name=f"{name} after values were written into the memory it had before "
                           "model.apply(init_weights) (fill the existing tensor in place, with the nn.init "
                           "functions ending in _, instead of assigning a new tensor to .data or a new "
                           "nn.Parameter)")
        expect(got["grad"] is not None,
               f"after model.apply(init_weights), {name} is a new object: fill the existing nn.Parameter in "
               "place (nn.init functions ending in _) instead of creating a new one")
        tensors_close(got["grad"], grad, **CLOSE,
                      name=f"the .grad of {name} after a .grad was given to the nn.Parameter that was there "
                           "before model.apply(init_weights) (it should still be that very object)")


@question("q10", points=1)
def test_apply_order(student):
    for desc in tree_cases(student, ["relu"], ["linear", 1, 1, True], EXAMPLE_Q10):
        model = build(desc)
        names = {m: name for name, m in model.named_modules()}
        expected = []
        model.apply(lambda m: expected.append(names[m]))
        r = student.probe(apply_order_run, desc=desc)
        expect(r["value"] is not None,
               f"apply_order should return a list of str, but it returned a {r['type']}")
        expect(isinstance(r["value"], list) and all(type(v) is str for v in r["value"]),
               "apply_order should return a list of str")
        expect(r["value"] == expected,
               "apply_order(model) gives the wrong order: apply visits each child's whole subtree first "
               "(children before their parent) and the model itself (\"\") last")


def expected_gain_model(desc, double):
    model = build(desc)
    if double:
        model.double()
    for layer in linears_in_apply_order(model):
        layer.register_parameter("gain", nn.Parameter(torch.ones_like(layer.weight[:, 0])))
    return model


def gain_pool(student, desc, dtype):
    total = sum(leaf[2] for leaf in leaves(desc) if leaf[0] == "linear")
    return torch.randn(total, generator=student.generator).to(dtype)


@question("q10", points=1)
def test_add_gain_registers_parameters(student):
    for desc in tree_cases(student, ["linear", 1, 1, True], EXAMPLE_Q10):
        check_gain_names(student, desc)


def check_gain_names(student, desc):
    r = student.probe(add_gain_run, desc=desc, double=False, pool=gain_pool(student, desc, torch.float32))
    model = expected_gain_model(desc, double=False)
    expected = [n for n, _ in model.named_parameters()]
    gains = [n for n in expected if n.split(".")[-1] == "gain"]
    got = r["names"] if is_list(r["names"]) else []
    for name in gains:
        expect(name in got,
               "add_gain should give every nn.Linear in the model its own new nn.Parameter `gain` (a plain "
               "tensor attribute is not registered, and one Parameter shared by several layers is listed "
               "only once)")
    expect(got == expected,
           "after add_gain, named_parameters() should list `<layer>.gain` after each nn.Linear's weight and "
           "bias, and nothing for other modules")
    expect(r["state_dict"] == list(model.state_dict().keys()),
           "after add_gain, state_dict() should contain the gains")


@question("q10", points=1)
def test_add_gain_values(student):
    cases = student.cases((["linear", 1, 1, True], False), (["linear", 1, 1, False], True), (EXAMPLE_Q10, False),
                          (EXAMPLE_Q10, True), draw=lambda rng: (random_tree(rng), True))
    for desc, double in cases:
        check_gain_values(student, desc, double)


def check_gain_values(student, desc, double):
    dtype = torch.float64 if double else torch.float32
    pool = gain_pool(student, desc, dtype)
    r = student.probe(add_gain_run, desc=desc, double=double, pool=pool)
    model = expected_gain_model(desc, double=double)
    expected = [(n, p) for n, p in model.named_parameters() if n.split(".")[-1] == "gain"]
    expect(r["names"] == [n for n, _ in model.named_parameters()],
           "add_gain should register one `gain` parameter on every nn.Linear, and nothing on other modules")
    expect(is_list(r["gains"], len(expected)),
           "add_gain should register one `gain` parameter on every nn.Linear")
    start = 0
    for (name, p), got in zip(expected, r["gains"]):
        c = pool[start:start + p.numel()]
        start += p.numel()
        tensors_close(got["value"], p.detach(), **CLOSE,
                      name=f"{name} of a {dtype} model (ones, shape (out_features,), dtype of the layer's weight)")
        expect(got["grad"] is not None, f"{name} should require grad")
        tensors_close(got["grad"], p.detach() * c, **CLOSE,
                      name=f"the gradient of a loss with respect to {name}")

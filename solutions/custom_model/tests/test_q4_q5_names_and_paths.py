"""Q4: child_names / module_names / parameter_names / buffer_names.
Q5: lookup by dotted path (the object itself) and count_params.

The models are random trees of Sequential / ModuleDict containers with Linear, BatchNorm1d, ReLU and
buffer-only leaves (a persistent and a non-persistent buffer), described as plain nested lists so the
probe and this module build the same model.  Each test checks a single module, the notebook's example
model and random trees.
"""

import torch
import torch.nn as nn

from grader.testing import expect, expect_same_objects, probe, question, same_objects, tensors_equal

BAD_KINDS = ["layer", "weight", "child", "tensor", "attribute", "grad"]
KEYS = ["encoder", "decoder", "head", "body", "proj", "mlp", "block", "norm", "out", "stem", "neck", "tail"]


def random_node(rng, depth):
    if depth == 0 or (depth < 3 and rng.random() < 0.3):
        children = [random_node(rng, depth + 1) for _ in range(rng.randint(2, 4))]
        if rng.random() < 0.5:
            return ["seq", children]
        return ["dict", [[key, child] for key, child in zip(rng.sample(KEYS, len(children)), children)]]
    roll = rng.random()
    if roll < 0.5:
        return ["linear", rng.randint(1, 6), rng.randint(1, 6), rng.random() < 0.7]
    if roll < 0.7:
        return ["bn", rng.randint(1, 6)]
    if roll < 0.85:
        return ["buf", rng.randint(1, 6)]
    return ["relu"]


def random_tree(rng):
    """A random model description with at least one Linear, one BatchNorm1d, one buffer-only leaf and
    two levels."""
    while True:
        desc = random_node(rng, 0)
        children = desc[1] if desc[0] == "seq" else [child for _, child in desc[1]]
        text = str(desc)
        if "'linear'" in text and "'bn'" in text and "'buf'" in text \
                and any(c[0] in ("seq", "dict") for c in children):
            return desc


# the notebook's example: Sequential(Linear(4, 8), BatchNorm1d(8), Sequential(ReLU(), Linear(8, 2)))
EXAMPLE = ["seq", [["linear", 4, 8, True], ["bn", 8], ["seq", [["relu"], ["linear", 8, 2, True]]]]]


def tree_cases(student, *smallest):
    """The smallest models first (single modules), the notebook's example, then two random trees."""
    return student.cases(*smallest, EXAMPLE, draw=random_tree)


def build(desc):
    kind = desc[0]
    if kind == "linear":
        return nn.Linear(desc[1], desc[2], bias=desc[3])
    if kind == "bn":
        return nn.BatchNorm1d(desc[1])
    if kind == "relu":
        return nn.ReLU()
    if kind == "buf":
        m = nn.Module()
        m.register_buffer("mask", torch.ones(desc[1]))
        m.register_buffer("cache", torch.zeros(desc[1]), persistent=False)
        return m
    if kind == "seq":
        return nn.Sequential(*[build(child) for child in desc[1]])
    return nn.ModuleDict({key: build(child) for key, child in desc[1]})


@probe(uses=[build])
def calls_on_tree(ns, desc, calls):
    """Each [function, args] of `calls`, on a model of its own built from `desc`."""
    answers = []
    for function, args in calls:
        result = ns[function](build(desc), *args)
        plain = isinstance(result, (list, tuple)) and all(type(v) is str for v in result) or type(result) is int
        answers.append({"type": type(result).__name__, "value": result if plain else None})
    return answers


def tensors_of(module):
    """Every parameter and buffer of `module` (persistent or not), by name."""
    return list(module.named_parameters()) + list(module.named_buffers())


@probe(uses=[build, tensors_of, same_objects])
def lookup_on_tree(ns, desc, state, queries, marks):
    """For each query, on a model of its own built from `desc` with the values of `state`: what
    lookup returned (its own tensors and submodule names) and every tensor of the model after
    `marks[i]` was added, through what lookup returned, to each tensor it holds."""
    answers = []
    for (path, kind), mark in zip(queries, marks):
        model = build(desc)
        with torch.no_grad():
            for name, t in tensors_of(model):
                t.copy_(state[name])
        truth = dict(tensors_of(model))
        truth.update(model.named_modules())
        answer = {"outcome": "returned", "type": "", "own": None, "modules": None, "after": None,
                  "identity": {}}
        try:
            obj = ns.lookup(model, path, kind)
        except ValueError:
            answer["outcome"] = "ValueError"
            answers.append(answer)
            continue
        except Exception as exc:  # the student's answer: report what it raised
            answer["outcome"] = type(exc).__name__
            answers.append(answer)
            continue
        answer["type"] = type(obj).__name__
        if path in truth:
            answer["identity"] = same_objects({"what it returned": (truth[path], obj)})
        held = [obj] if isinstance(obj, torch.Tensor) else \
            [t for _, t in tensors_of(obj)] if isinstance(obj, nn.Module) else []
        if isinstance(obj, nn.Module):
            answer["own"] = {name: t.detach().clone() for name, t in tensors_of(obj)}
            answer["modules"] = [name for name, _ in obj.named_modules()]
        elif isinstance(obj, torch.Tensor):
            answer["own"] = {"": obj.detach().clone()}
        try:  # rebinding .data reaches the model only through its own tensor objects
            for t in held:
                t.data = t.data + int(mark)
        except Exception:  # what lookup returned cannot take the change: the model keeps its values
            pass
        answer["after"] = {name: t.detach().clone() for name, t in tensors_of(model)}
        answers.append(answer)
    return answers


def ask(student, desc, calls):
    """The answers to `calls` ([function, args] each) on the model `desc` describes, in one probe."""
    rs = student.probe(calls_on_tree, desc=desc, calls=[[function, list(args)] for function, args in calls])
    expect(isinstance(rs, list) and len(rs) == len(calls), "every function should answer every call")
    values = []
    for (function, _), r in zip(calls, rs):
        value = r["value"]
        if function == "count_params":
            expect(type(value) is int, f"count_params should return a Python int, but it returned a {r['type']}")
            values.append(value)
            continue
        expect(isinstance(value, (list, tuple)) and all(type(v) is str for v in value),
               f"{function} should return a list of str, but it returned a {r['type']}")
        values.append(list(value))
    return values


@question("q4", points=1)
def test_child_and_module_names(student):
    for desc in tree_cases(student, ["linear", 1, 1, True], ["buf", 1]):
        model = build(desc)
        children, modules = ask(student, desc, [("child_names", ()), ("module_names", ())])
        expect(children == [n for n, _ in model.named_children()],
               "child_names(model) should list only the direct children of the model (one level down), "
               "in order (an empty list for a model without children)")
        expect(modules == [n for n, _ in model.named_modules() if n],
               "module_names(model) should list every submodule at every depth, in named_modules() order, "
               "without the model itself (\"\"; an empty list for a model without submodules)")


@question("q4", points=1)
def test_parameter_and_buffer_names(student):
    for desc in tree_cases(student, ["buf", 1], ["bn", 1]):
        model = build(desc)
        params, buffers = ask(student, desc, [("parameter_names", ()), ("buffer_names", ())])
        expect(params == [n for n, _ in model.named_parameters()],
               "parameter_names(model) should list the names of all parameters (named_parameters), and "
               "nothing else")
        expect(buffers == [n for n, _ in model.named_buffers()],
               "buffer_names(model) should list the names of all buffers (named_buffers), persistent or not, "
               "and nothing else")


def lookup_queries(student, model):
    """The model itself (""), up to three modules that hold a tensor, parameters and buffers, and
    two unknown kinds."""
    rng = student.rng
    modules = [n for n, m in model.named_modules() if n and tensors_of(m)]
    params = [n for n, _ in model.named_parameters()]
    buffers = [n for n, _ in model.named_buffers()]
    queries = ([["", "module"]] + [[p, "module"] for p in rng.sample(modules, min(3, len(modules)))]
               + [[p, "parameter"] for p in rng.sample(params, min(3, len(params)))]
               + [[p, "buffer"] for p in rng.sample(buffers, min(3, len(buffers)))])
    for _ in range(2):   # unknown kinds, at places drawn here
        path = rng.choice([""] + modules + params + buffers)
        queries.insert(rng.randint(0, len(queries)), [path, rng.choice(BAD_KINDS)])
    return queries


def random_state(student, model):
    """New values, drawn here, for every tensor of `model`: the judge knows them all."""
    g = student.generator
    return {name: torch.randn(t.shape, generator=g) if t.is_floating_point()
            else torch.randint(0, 1000, t.shape, generator=g, dtype=t.dtype)
            for name, t in tensors_of(model)}


def expected_after(state, model, path, kind, mark):
    """The model's tensors after `mark` was added to each tensor the object at `path` holds."""
    target = model.get_submodule(path) if kind == "module" else \
        model.get_parameter(path) if kind == "parameter" else model.get_buffer(path)
    held = {id(t) for t in ([target] if isinstance(target, torch.Tensor)
                            else [t for _, t in tensors_of(target)])}
    return {name: state[name] + mark if id(t) in held else state[name]
            for name, t in tensors_of(model)}


def named(value):
    """Whether `value` is a dict keyed by names, as the probe reports tensors."""
    return isinstance(value, dict) and all(type(k) is str for k in value)


def check_returned(answer, model, state, path, kind, call):
    """What lookup returned holds the right values, and a write through it reached the model."""
    target = model.get_submodule(path) if kind == "module" else None
    expect(named(answer["own"]) and (target is None) == ("" in answer["own"]),
           f"{call} should return the {kind}, but it returned a {answer['type']}")
    own = {name: t for name, t in tensors_of(target)} if target is not None else \
        {"": dict(tensors_of(model))[path]}
    expect(sorted(answer["own"]) == sorted(own),
           f"{call} returned a {answer['type']} that is not the {kind} at that path")
    for name in own:
        tensors_equal(answer["own"][name], state[f"{path}.{name}" if path and name else path or name],
                      name=f"a value in what {call} returned")
    if target is not None:
        expect(answer["modules"] == [n for n, _ in target.named_modules()],
               f"{call} returned a module whose submodules are not those at that path")
    after = answer["after"]
    expect(named(after) and sorted(after) == sorted(state),
           f"{call} could not be checked: the report of the model's tensors is incomplete")
    advice = f"Return the {kind} object that is inside the model itself (not a copy)."
    try:
        for name, want in expected_after(state, model, path, kind, answer["mark"]).items():
            tensors_equal(after[name], want, name=f"the model's `{name}` after a change made "
                          f"through what {call} returned")
    except AssertionError as failure:
        hint = advice
        try:  # the process's own account of identity: advice for the message, never the verdict
            expect_same_objects(answer["identity"], ["what it returned"], what=call, hint=advice)
        except AssertionError as diagnosis:
            hint = str(diagnosis)
        raise type(failure)(f"{failure} {hint}") from None


@question("q5", points=1)
def test_lookup_returns_the_object(student):
    for desc in tree_cases(student, ["bn", 1], ["buf", 1]):
        model = build(desc)
        state = random_state(student, model)
        queries = lookup_queries(student, model)
        marks = torch.randint(1, 1000, (len(queries),), generator=student.generator)
        r = student.probe(lookup_on_tree, desc=desc, state=state, queries=queries, marks=marks)
        expect(isinstance(r, list) and len(r) == len(queries), "lookup should answer every call")
        for (path, kind), answer, mark in zip(queries, r, marks.tolist()):
            call = f"lookup(model, {path!r}, {kind!r})"
            expect(isinstance(answer, dict) and set(answer) >= {"outcome", "type", "own", "modules",
                                                                 "after", "identity"},
                   f"{call} could not be checked: the report of your notebook's process is incomplete")
            if kind not in ("module", "parameter", "buffer"):
                # the process's claim: it can only cost the point, which the calls below earn
                expect(answer["outcome"] == "ValueError", "lookup with an unknown kind should raise "
                                                          f"ValueError, but yours gave: {answer['outcome']}")
                continue
            expect(answer["outcome"] == "returned",
                   f"{call} raised {answer['outcome']} instead of returning the {kind}"
                   + (" (the empty path is the model itself)" if path == "" else ""))
            check_returned(dict(answer, mark=mark), model, state, path, kind, call)


@question("q5", points=1)
def test_count_params(student):
    for desc in tree_cases(student, ["linear", 1, 1, True], ["relu"]):
        model = build(desc)
        names = [n for n, _ in model.named_modules()]
        paths = [""] + student.rng.sample(names[1:], min(4, len(names) - 1))
        counts = ask(student, desc, [("count_params", (path,)) for path in paths])
        for path, count in zip(paths, counts):
            expected = sum(p.numel() for p in model.get_submodule(path).parameters())
            expect(count == expected,
                   f"count_params(model, {path!r}) is wrong: it should count every value of every parameter "
                   "in that submodule, including its own submodules (the empty path is the whole model)")

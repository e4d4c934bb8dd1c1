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


@probe(uses=[build, same_objects])
def lookup_on_tree(ns, desc, queries, marks):
    model = build(desc)
    truth = {"module": dict(model.named_modules()), "parameter": dict(model.named_parameters()),
             "buffer": dict(model.named_buffers())}
    found, outcomes = [], []
    for path, kind in queries:
        try:
            found.append(ns.lookup(model, path, kind))
            outcomes.append("returned")
        except ValueError:
            found.append(None)
            outcomes.append("ValueError")
        except Exception as exc:  # the student's answer: report what it raised
            found.append(None)
            outcomes.append(type(exc).__name__)
    identity = [same_objects({"what it returned": (truth[kind][path], obj)}) if kind in truth else {}
                for (path, kind), obj in zip(queries, found)]
    for (path, kind), mark in zip(queries, marks):  # a mark on the real object, after every lookup
        if kind in truth:
            setattr(truth[kind][path], "grader_mark", mark)
    answers = []
    for obj, outcome, mark, same in zip(found, outcomes, marks, identity):
        seen = getattr(obj, "grader_mark", None) if obj is not None else None
        answers.append({"outcome": outcome, "type": type(obj).__name__, "identity": same,
                        "mark": seen.detach().clone() if isinstance(seen, torch.Tensor) else None,
                        "raised": mark.clone() if outcome == "ValueError" else None})
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
    """The model itself (""), up to three modules, parameters and buffers, and two unknown kinds."""
    rng = student.rng
    modules = [n for n, _ in model.named_modules() if n]
    params = [n for n, _ in model.named_parameters()]
    buffers = [n for n, _ in model.named_buffers()]
    queries = ([["", "module"]] + [[p, "module"] for p in rng.sample(modules, min(3, len(modules)))]
               + [[p, "parameter"] for p in rng.sample(params, min(3, len(params)))]
               + [[p, "buffer"] for p in rng.sample(buffers, min(3, len(buffers)))])
    for _ in range(2):   # unknown kinds, at places drawn here
        path = rng.choice([""] + modules + params + buffers)
        queries.insert(rng.randint(0, len(queries)), [path, rng.choice(BAD_KINDS)])
    return queries


@question("q5", points=1)
def test_lookup_returns_the_object(student):
    for desc in tree_cases(student, ["bn", 1], ["buf", 1]):
        model = build(desc)
        queries = lookup_queries(student, model)
        marks = torch.randn(len(queries), 3, generator=student.generator)
        r = student.probe(lookup_on_tree, desc=desc, queries=queries, marks=marks)
        expect(isinstance(r, list) and len(r) == len(queries), "lookup should answer every call")
        for (path, kind), answer, mark in zip(queries, r, marks):
            call = f"lookup(model, {path!r}, {kind!r})"
            if kind not in ("module", "parameter", "buffer"):
                expect(answer["raised"] is not None, "lookup with an unknown kind should raise ValueError, "
                                                     f"but yours gave: {answer['outcome']}")
                tensors_equal(answer["raised"], mark, name=f"the answer to {call} (it should raise ValueError)")
                continue
            expect(answer["outcome"] == "returned",
                   f"{call} raised {answer['outcome']} instead of returning the {kind}"
                   + (" (the empty path is the model itself)" if path == "" else ""))
            expect_same_objects(answer["identity"], ["what it returned"], what=call,
                                hint=f"Return the {kind} object that is inside the model itself.")
            expect(answer["mark"] is not None,
                   f"{call} should return the {kind} object that is inside the model (the very same object, "
                   f"not a copy); yours returned a {answer['type']} that is not that object")
            tensors_equal(answer["mark"], mark,
                          name=f"an attribute set on the {kind} inside the model, read through what {call} "
                               "returned (it should be that very object)")


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

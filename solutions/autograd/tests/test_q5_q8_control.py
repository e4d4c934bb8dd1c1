"""Q5: no_grad and detach.  Q6: freezing.  Q7: clip_grad_norm_.  Q8: manual SGD step."""

import torch
import torch.nn.functional as F

from grader.testing import assert_type, expect, probe, question, tensors_close


@probe
def call_predict(ns, state, x):
    model = nn.Linear(state["weight"].shape[1], state["weight"].shape[0])
    model.load_state_dict(state)
    out = ns.predict(model, x)
    if not isinstance(out, torch.Tensor):
        return {"out": None, "type": type(out).__name__}
    return {"out": out.detach().clone(), "requires_grad": out.requires_grad,
            "has_graph": out.grad_fn is not None, "type": "Tensor"}


@question("q5", points=1)
def test_predict(student):
    d, k, n = student.rng.randint(2, 6), student.rng.randint(1, 4), student.rng.randint(2, 7)
    state = {"weight": torch.randn(k, d, generator=student.generator),
             "bias": torch.randn(k, generator=student.generator)}
    x = torch.randn(n, d, generator=student.generator)
    r = student.probe(call_predict, state=state, x=x)
    expect(r["out"] is not None, f"predict should return a tensor, but it returned {r['type']}")
    expect(not r["requires_grad"] and not r["has_graph"],
           "predict's result still requires grad: compute model(x) inside `with torch.no_grad():`")
    tensors_close(r["out"], x @ state["weight"].T + state["bias"], rtol=1e-4, atol=1e-5,
                  name="predict(model, x)")


@probe
def call_distill(ns, s_state, t_state, x):
    student = nn.Linear(s_state["weight"].shape[1], s_state["weight"].shape[0])
    teacher = nn.Linear(t_state["weight"].shape[1], t_state["weight"].shape[0])
    student.load_state_dict(s_state)
    teacher.load_state_dict(t_state)
    loss = ns.distill_backward(student, teacher, x)
    return {"loss": loss if type(loss) is float else None, "loss_type": type(loss).__name__,
            "student": [None if p.grad is None else p.grad.detach().clone() for p in student.parameters()],
            "teacher_none": [p.grad is None for p in teacher.parameters()]}


@question("q5", points=1)
def test_distill(student):
    d, k, n = student.rng.randint(2, 6), student.rng.randint(1, 4), student.rng.randint(2, 7)
    s = {"weight": torch.randn(k, d, generator=student.generator), "bias": torch.randn(k, generator=student.generator)}
    t = {"weight": torch.randn(k, d, generator=student.generator), "bias": torch.randn(k, generator=student.generator)}
    x = torch.randn(n, d, generator=student.generator)
    r = student.probe(call_distill, s_state=s, t_state=t, x=x)
    expect(all(r["teacher_none"]), "the teacher received gradients: detach the teacher's output "
           "(teacher(x).detach()) so it is a constant target")
    expect(all(g is not None for g in r["student"]), "the student's parameters have no gradient after "
           "distill_backward: do not detach the student's output, and call loss.backward()")
    assert_type(r["loss"], float, name="the value returned by distill_backward")
    ref = torch.nn.Linear(d, k)
    ref.load_state_dict(s)
    loss = F.mse_loss(ref(x), x @ t["weight"].T + t["bias"])
    loss.backward()
    expect(abs(r["loss"] - loss.item()) <= 1e-4 * (1 + abs(loss.item())), "distill_backward returned the wrong loss value")
    tensors_close(r["student"][0], ref.weight.grad, rtol=1e-4, atol=1e-5, name="the student's weight gradient")
    tensors_close(r["student"][1], ref.bias.grad, rtol=1e-4, atol=1e-5, name="the student's bias gradient")


@probe
def call_freeze(ns, sizes, acts):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU() if acts[i] else nn.Tanh())
    model = nn.Sequential(*layers)
    for p in list(model.parameters())[::2]:
        p.requires_grad_(False)          # a messy starting state: the answer must set every flag
    returned = ns.freeze_all_but_last(model)
    params = list(model.parameters())
    trainable = ns.trainable_parameters(model)
    ids = {id(p): i for i, p in enumerate(params)}
    return {"same": returned is model,
            "flags": [p.requires_grad for p in params],
            "trainable_type": type(trainable).__name__,
            "trainable": [ids.get(id(p), -1) for p in trainable] if isinstance(trainable, list) else None}


@question("q6", points=2)
def test_freeze(student):
    depth = student.rng.randint(3, 4)       # at least 3 layers, so "the first" and "all but the last" differ
    sizes = [student.rng.randint(2, 6) for _ in range(depth + 1)]
    acts = [student.rng.random() < 0.5 for _ in range(depth)]
    r = student.probe(call_freeze, sizes=sizes, acts=acts)
    expect(r["same"], "freeze_all_but_last should change the model in place and return it")
    n = 2 * depth
    expected = [False] * (n - 2) + [True, True]
    expect(r["flags"][-2:] == [True, True], "the last layer's weight and bias should require grad "
           "(it is the one we still train)")
    expect(r["flags"] == expected, "every parameter except those of the last layer should have "
           "requires_grad == False (use requires_grad_(False) on the parameters or the modules)")
    expect(r["trainable"] is not None, f"trainable_parameters should return a list, not {r['trainable_type']}")
    expect(r["trainable"] == [n - 2, n - 1], "trainable_parameters should return exactly the parameters "
           "that require grad, in the order of model.parameters()")


@probe
def call_clipped(ns, state, batches, max_norm, lr):
    model = nn.Sequential(nn.Linear(state["0.weight"].shape[1], state["0.weight"].shape[0]), nn.Tanh(),
                          nn.Linear(state["2.weight"].shape[1], 1))
    model.load_state_dict(state)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    norms = []
    for x, y in batches:
        n = ns.clipped_step(model, opt, x, y, max_norm)
        norms.append(n if type(n) is float else None)
    return {"norms": norms, "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}


@question("q7", points=2)
def test_clipped_step(student):
    d, h = student.rng.randint(2, 5), student.rng.randint(2, 6)
    g = student.generator
    state = {"0.weight": torch.randn(h, d, generator=g), "0.bias": torch.randn(h, generator=g),
             "2.weight": torch.randn(1, h, generator=g), "2.bias": torch.randn(1, generator=g)}
    batches = []
    for _ in range(3):
        n = student.rng.randint(4, 9)
        batches.append((torch.randn(n, d, generator=g), 20 * torch.randn(n, 1, generator=g)))
    max_norm, lr = student.rng.uniform(0.2, 0.8), student.rng.uniform(0.05, 0.2)
    r = student.probe(call_clipped, state=state, batches=batches, max_norm=max_norm, lr=lr)
    expect(all(n is not None for n in r["norms"]), "clipped_step should return float(total), a Python float")

    model = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.Tanh(), torch.nn.Linear(h, 1))
    model.load_state_dict(state)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    norms = []
    for x, y in batches:
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)))
        opt.step()
    expect(all(abs(a - b) <= 1e-3 * (1 + b) for a, b in zip(r["norms"], norms)),
           "the norms returned by clipped_step are wrong: return the total norm that clip_grad_norm_ "
           "returns (before clipping), computed from this batch's gradients only (zero_grad first)")
    for key, value in model.state_dict().items():
        tensors_close(r["state"][key], value, rtol=1e-4, atol=1e-5,
                      name=f"the model's {key} after the steps (clip after backward, before optimizer.step())")


@probe
def call_sgd(ns, values, grads, lr):
    params = [v.clone().requires_grad_(True) for v in values]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    ptrs = [p.data_ptr() for p in params]
    objs = list(params)
    ns.sgd_step(params, lr)
    return {"values": [p.detach().clone() for p in objs],
            "same_objects": all(a is b for a, b in zip(objs, params)) and len(params) == len(objs),
            "in_place": [p.data_ptr() for p in objs] == ptrs,
            "leaf": all(p.is_leaf and p.requires_grad for p in objs),
            "grad_reset": all(p.grad is None or not bool(p.grad.any()) for p in objs)}


@question("q8", points=2)
def test_sgd_step(student):
    shapes = [(student.rng.randint(1, 5), student.rng.randint(1, 5)), (student.rng.randint(1, 5),)]
    values = [torch.randn(*s, generator=student.generator) for s in shapes]
    grads = [torch.randn(*s, generator=student.generator) for s in shapes]
    lr = student.rng.uniform(0.01, 0.5)
    r = student.probe(call_sgd, values=values, grads=grads, lr=lr)
    expect(r["leaf"], "after sgd_step the parameters should still be leaf tensors that require grad")
    for i, (v, g) in enumerate(zip(values, grads)):
        tensors_close(r["values"][i], v - lr * g, rtol=1e-5, atol=1e-6,
                      name=f"parameter {i} after sgd_step (update it in place: p -= lr * p.grad, "
                           "under torch.no_grad())")
    expect(r["in_place"], "sgd_step should update each tensor in place (its memory must stay the same)")
    expect(r["grad_reset"], "sgd_step should reset each gradient afterwards (p.grad = None)")

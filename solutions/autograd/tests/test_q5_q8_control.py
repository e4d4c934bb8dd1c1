"""Q5: no_grad and detach.  Q6: freezing.  Q7: clip_grad_norm_.  Q8: manual SGD step."""

import torch
import torch.nn.functional as F

from grader.testing import assert_type, expect, probe, question, tensors_close, valid_tensor


def _close(actual, expected, rtol=1e-4, atol=1e-5) -> bool:
    """Whether the judge-checked tensor `actual` matches `expected` (a hint for the message only)."""
    return bool(torch.allclose(actual, expected, rtol=rtol, atol=atol))


@probe
def call_predict(ns, state, x, shift):
    class GradAware(nn.Linear):
        """An nn.Linear whose output moves by `shift` whenever autograd is recording."""

        def forward(self, inp):
            out = super().forward(inp)
            return out + shift if torch.is_grad_enabled() else out

    model = GradAware(state["weight"].shape[1], state["weight"].shape[0])
    model.load_state_dict(state)
    out = ns.predict(model, x)
    if not isinstance(out, torch.Tensor):
        return {"type": type(out).__name__}
    return {"out": out.detach().clone()}


def _q5_cases(student):
    return student.cases((1, 1, 1), (3, 2, 5),
                         draw=lambda rng: (rng.randint(6, 12), rng.randint(4, 8), rng.randint(9, 20)))


@question("q5", points=1)
def test_predict(student):
    for d, k, n in _q5_cases(student):
        _check_predict(student, d, k, n)


def _check_predict(student, d, k, n):
    g = student.generator
    state = {"weight": torch.randn(k, d, generator=g), "bias": torch.randn(k, generator=g)}
    x = torch.randn(n, d, generator=g)
    shift = torch.rand(n, k, generator=g) + 1.0
    r = student.probe(call_predict, state=state, x=x, shift=shift)
    expect("out" in r, f"predict should return a tensor, but it returned {r.get('type')}")
    out = valid_tensor(r["out"], dtype=torch.float32, shape=(n, k), name="predict(model, x)")
    expected = x @ state["weight"].T + state["bias"]
    expect(not _close(out, expected + shift),
           "predict ran the model while autograd was recording: compute model(x) inside "
           "`with torch.no_grad():`")
    tensors_close(out, expected, rtol=1e-4, atol=1e-5, name="predict(model, x)")


@probe
def call_distill(ns, s_state, t_state, x, mark_seed):
    mark = torch.randn(8, generator=torch.Generator().manual_seed(mark_seed))

    class Teacher(nn.Linear):
        """An nn.Linear that changes `mark` when a gradient flows back into its output."""

        def forward(self, inp):
            out = super().forward(inp)
            if out.requires_grad:
                out.register_hook(lambda grad: mark.mul_(-2.0))
            return out

    student = nn.Linear(s_state["weight"].shape[1], s_state["weight"].shape[0])
    teacher = Teacher(t_state["weight"].shape[1], t_state["weight"].shape[0])
    student.load_state_dict(s_state)
    teacher.load_state_dict(t_state)
    loss = ns.distill_backward(student, teacher, x)
    return {"loss": loss if type(loss) is float else None, "loss_type": type(loss).__name__,
            "student": [None if p.grad is None else p.grad.detach().clone() for p in student.parameters()],
            "mark": mark.clone()}


@question("q5", points=1)
def test_distill(student):
    for d, k, n in _q5_cases(student):
        _check_distill(student, d, k, n)


def _check_distill(student, d, k, n):
    g = student.generator
    s = {"weight": torch.randn(k, d, generator=g), "bias": torch.randn(k, generator=g)}
    t = {"weight": torch.randn(k, d, generator=g), "bias": torch.randn(k, generator=g)}
    x = torch.randn(n, d, generator=g)
    mark_seed = student.rng.randint(0, 2**31)
    r = student.probe(call_distill, s_state=s, t_state=t, x=x, mark_seed=mark_seed)
    mark = torch.randn(8, generator=torch.Generator().manual_seed(mark_seed))
    got_mark = valid_tensor(r["mark"], dtype=torch.float32, shape=(8,), name="the teacher's output")
    expect(torch.equal(got_mark, mark), "the teacher received gradients: detach the teacher's output "
           "(teacher(x).detach()) so it is a constant target")
    expect(all(grad is not None for grad in r["student"]), "the student's parameters have no gradient after "
           "distill_backward: do not detach the student's output, and call loss.backward()")
    assert_type(r["loss"], float, name="the value returned by distill_backward")
    ref = torch.nn.Linear(d, k)
    ref.load_state_dict(s)
    loss = F.mse_loss(ref(x), x @ t["weight"].T + t["bias"])
    loss.backward()
    expect(abs(r["loss"] - loss.item()) <= 1e-5 + 1e-4 * abs(loss.item()),
           "distill_backward returned the wrong loss value")
    tensors_close(r["student"][0], ref.weight.grad, rtol=1e-4, atol=1e-5,
                  name="the student's weight gradient")
    tensors_close(r["student"][1], ref.bias.grad, rtol=1e-4, atol=1e-5, name="the student's bias gradient")


def _sequential(sizes, acts, seed):
    """The probe's model, built the same way: seeded Linear layers of `sizes`, with a ReLU
    (acts[i] true) or a Tanh between consecutive ones."""
    torch.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU() if acts[i] else torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


@probe
def call_freeze(ns, sizes, acts, seed, x, lr):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU() if acts[i] else nn.Tanh())
    model = nn.Sequential(*layers)
    for p in list(model.parameters())[::2]:
        p.requires_grad_(False)          # a messy starting state: the answer must set every flag
    returned = ns.freeze_all_but_last(model)
    trainable = ns.trainable_parameters(model)
    if not isinstance(returned, nn.Module):
        return {"returned": type(returned).__name__}
    out = returned(x)
    if out.requires_grad:                # one SGD step: only the parameters that require grad move
        (out ** 2).sum().backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= lr * p.grad
    return {"out": out.detach().clone(), "params": [p.detach().clone() for p in model.parameters()],
            "trainable": [t.detach().clone() if isinstance(t, torch.Tensor) else None for t in trainable]
            if isinstance(trainable, list) else type(trainable).__name__}


def check_parameter(i, got, before, after, last):
    """Parameter i after one SGD step: moved to `after` if it is in the last layer, else unchanged."""
    got = valid_tensor(got, dtype=torch.float32, shape=before.shape, name=f"parameter {i} of the model")
    if not last:
        tensors_close(got, before, rtol=0, atol=0,
                      name=f"parameter {i} after a training step (every parameter except those of the "
                           "last layer should have requires_grad == False: use requires_grad_(False) "
                           "on the parameters or the modules)")
        return
    expect(not _close(got, before, rtol=0, atol=1e-7) or _close(after, before, rtol=0, atol=1e-7),
           "the last layer's weight and bias should require grad (it is the one we still train); "
           "change `model` in place and return it")
    tensors_close(got, after, rtol=1e-4, atol=1e-5, name=f"parameter {i} after a training step")


@question("q6", points=2)
def test_freeze(student):
    # one Linear alone, the example's three, and a deeper model ("the first" and "all but the last" differ)
    for depth in student.cases(1, 3, draw=lambda rng: rng.randint(5, 6)):
        _check_freeze(student, depth)


def _check_freeze(student, depth):
    sizes = [student.rng.randint(1, 6) for _ in range(depth + 1)]
    acts = [student.rng.random() < 0.5 for _ in range(depth)]
    seed, lr = student.rng.randint(0, 2**31), 0.05
    x = torch.randn(student.rng.randint(3, 8), sizes[0], generator=student.generator)
    r = student.probe(call_freeze, sizes=sizes, acts=acts, seed=seed, x=x, lr=lr)
    expect("out" in r, f"freeze_all_but_last should return the model, but it returned {r.get('returned')}")
    model = _sequential(sizes, acts, seed)
    out = model(x)
    tensors_close(r["out"], out.detach(), rtol=1e-4, atol=1e-5,
                  name="the output of the model freeze_all_but_last returned (return `model` itself)")
    (out ** 2).sum().backward()
    params = list(model.parameters())
    before = [p.detach().clone() for p in params]
    after = [(p - lr * p.grad).detach() for p in params]
    n = len(params)
    expect(type(r["params"]) is list and len(r["params"]) == n, "the model's parameters were replaced")
    for i, got in enumerate(r["params"]):
        check_parameter(i, got, before[i], after[i], last=i >= n - 2)
    expect(type(r["trainable"]) is list,
           f"trainable_parameters should return a list, not {r['trainable']}")
    expect(len(r["trainable"]) == 2, "trainable_parameters should return exactly the parameters "
           "that require grad, in the order of model.parameters()")
    for got, moved in zip(r["trainable"], after[-2:]):
        expect(got is not None, "trainable_parameters should return the model's parameters themselves")
        tensors_close(got, moved, rtol=1e-4, atol=1e-5,
                      name="the parameters trainable_parameters returned (the model's own parameters "
                           "that require grad, in the order of model.parameters())")


@probe
def call_clipped(ns, state, batches, max_norms, lr):
    model = nn.Sequential(nn.Linear(state["0.weight"].shape[1], state["0.weight"].shape[0]), nn.Tanh(),
                          nn.Linear(state["2.weight"].shape[1], 1))
    model.load_state_dict(state)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    norms = []
    for (x, y), max_norm in zip(batches, max_norms):
        n = ns.clipped_step(model, opt, x, y, max_norm)
        norms.append(n if type(n) is float else None)
    return {"norms": norms, "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}


@question("q7", points=2)
def test_clipped_step(student):
    for d, h, n in student.cases((1, 1, 1), (3, 2, 8),
                                 draw=lambda rng: (rng.randint(6, 10), rng.randint(7, 12), rng.randint(12, 30))):
        _check_clipped_step(student, d, h, n)


def _check_clipped_step(student, d, h, n):
    g = student.generator
    state = {"0.weight": torch.randn(h, d, generator=g), "0.bias": torch.randn(h, generator=g),
             "2.weight": torch.randn(1, h, generator=g), "2.bias": torch.randn(1, generator=g)}
    batches, max_norms = [], []
    for scale, limit in [(20.0, student.rng.uniform(0.2, 0.8)), (20.0, student.rng.uniform(0.2, 0.8)),
                         (1.0, 1e4)]:              # the last step's gradients are below max_norm
        batches.append((torch.randn(n, d, generator=g), scale * torch.randn(n, 1, generator=g)))
        max_norms.append(limit)
    lr = student.rng.uniform(0.05, 0.2)
    r = student.probe(call_clipped, state=state, batches=batches, max_norms=max_norms, lr=lr)
    expect(type(r["norms"]) is list and len(r["norms"]) == len(batches) and
           all(type(n) is float for n in r["norms"]),
           "clipped_step should return float(total), a Python float")

    model = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.Tanh(), torch.nn.Linear(h, 1))
    model.load_state_dict(state)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    norms = []
    for (x, y), max_norm in zip(batches, max_norms):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)))
        opt.step()
    expect(all(abs(a - b) <= 1e-5 + 1e-4 * abs(b) for a, b in zip(r["norms"], norms)),
           "the norms returned by clipped_step are wrong: return the total norm that clip_grad_norm_ "
           "returns (before clipping), computed from this batch's gradients only (zero_grad first)")
    for key, value in model.state_dict().items():
        tensors_close(r["state"][key], value, rtol=1e-4, atol=1e-5,
                      name=f"the model's {key} after the steps (clip after backward, before "
                           "optimizer.step())")


@probe
def call_sgd(ns, values, grads, lr):
    params = [v.clone().requires_grad_(True) for v in values]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    objs = list(params)
    aliases = [p.detach() for p in objs]        # share the parameters' memory
    ns.sgd_step(params, lr)
    result = {"values": [p.detach().clone() for p in objs], "aliases": [a.clone() for a in aliases]}
    result["next_grads"] = []
    for p in objs:                               # the next backward: its gradient is 2 p on a fresh .grad
        try:
            (p * p).sum().backward()
        except RuntimeError:
            result["next_grads"].append(None)
            continue
        result["next_grads"].append(None if p.grad is None else p.grad.detach().clone())
    return result


@question("q8", points=2)
def test_sgd_step(student):
    for shapes in student.cases([(1,), (1, 1)], [(2,)],
                                draw=lambda rng: [(rng.randint(3, 7), rng.randint(3, 7)), (rng.randint(6, 12),)]):
        _check_sgd_step(student, shapes)


def _check_sgd_step(student, shapes):
    values = [torch.randn(*s, generator=student.generator) for s in shapes]
    grads = [torch.randn(*s, generator=student.generator) for s in shapes]
    lr = student.rng.uniform(0.01, 0.5)
    r = student.probe(call_sgd, values=values, grads=grads, lr=lr)
    for i, (v, g) in enumerate(zip(values, grads)):
        new = v - lr * g
        tensors_close(r["values"][i], new, rtol=1e-5, atol=1e-6,
                      name=f"parameter {i} after sgd_step (update it in place: p -= lr * p.grad, "
                           "under torch.no_grad())")
        tensors_close(r["aliases"][i], new, rtol=1e-5, atol=1e-6,
                      name=f"the memory of parameter {i} after sgd_step (update each tensor in place: "
                           "its memory must stay the same)")
        expect(r["next_grads"][i] is not None,
               "after sgd_step the parameters should still be leaf tensors that require grad")
        got = valid_tensor(r["next_grads"][i], dtype=torch.float32, shape=v.shape,
                           name=f"the gradient of parameter {i} in the next backward")
        expect(not _close(got, g + 2 * new, rtol=1e-5, atol=1e-6),
               "sgd_step should reset each gradient afterwards (p.grad = None)")
        tensors_close(got, 2 * new, rtol=1e-5, atol=1e-6,
                      name=f"the gradient of parameter {i} in the next backward (the parameters should "
                           "stay leaf tensors that require grad, with their gradient reset)")

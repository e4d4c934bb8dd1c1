"""Q3: RunningMean with a persistent buffer `mean` and a non-persistent buffer `last_mean`."""

import torch

from grader.testing import expect, expect_keys, probe, question, tensors_close

CLOSE = {"rtol": 1e-4, "atol": 1e-5}


@probe
def running_mean_parts(ns, n, momentum, marks):
    m = ns.RunningMean(n, momentum=momentum)
    out = {
        "params": [name for name, _ in m.named_parameters()],
        "buffers": [name for name, _ in m.named_buffers()],
        "state_dict": list(m.state_dict().keys()),
        "initial": [b.detach().clone() for _, b in m.named_buffers()],
    }
    with torch.no_grad():
        m.mean.copy_(marks[0])
        m.last_mean.copy_(marks[1])
    out["buffer_values"] = [b.detach().clone() for _, b in m.named_buffers()]
    out["state_values"] = [t.detach().clone() for t in m.state_dict().values()]
    m.double()
    out["after_double"] = [getattr(m, name).detach().clone() for name in ("mean", "last_mean")]
    return out


@probe
def running_mean_run(ns, n, momentum, batches, training, cs, double):
    m = ns.RunningMean(n, momentum=momentum)
    if double:
        m.double()
    steps = []
    for x, c, mode in zip(batches, cs, training):
        m.train(mode)
        leaf = x.clone().requires_grad_(True)
        x_in = leaf * 1.0                        # the caller's tensor, reachable by autograd
        y = m(x_in)
        step = {"y": y.detach().clone() if isinstance(y, torch.Tensor) else None, "y_type": type(y).__name__,
                "x_after": x_in.detach().clone(),
                "mean": m.mean.detach().clone(), "last_mean": m.last_mean.detach().clone(), "x_grad": None}
        if isinstance(y, torch.Tensor):
            try:
                y.backward(c)
                step["x_grad"] = None if leaf.grad is None else leaf.grad.clone()
            except RuntimeError:                 # no gradient path, or a graph that was freed
                pass
        steps.append(step)
    return steps


def expected_steps(n, momentum, batches, training, dtype):
    mean, last = torch.zeros(n, dtype=dtype), torch.zeros(n, dtype=dtype)
    steps = []
    for x, mode in zip(batches, training):
        if mode:
            last = x.mean(dim=0)
            mean = (1 - momentum) * mean + momentum * last
        steps.append({"y": x - mean, "mean": mean, "last_mean": last})
    return steps


def has_length(value, n) -> bool:
    return isinstance(value, list) and len(value) == n


def compare(actual, expected, batches, cs, what):
    expect(has_length(actual, len(expected)), "RunningMean should run once for every batch")
    for i, (a, e, x, c) in enumerate(zip(actual, expected, batches, cs), 1):
        expect(a["y"] is not None,
               f"RunningMean's forward should return a tensor, but it returned {a['y_type']}")
        tensors_close(a["x_after"], x, **CLOSE,
                      name=f"the input of batch {i} {what} after the forward pass (forward must not change "
                           "the caller's tensor in place)")
        tensors_close(a["mean"], e["mean"], **CLOSE, name=f"the buffer `mean` after batch {i} {what}")
        tensors_close(a["last_mean"], e["last_mean"], **CLOSE,
                      name=f"the buffer `last_mean` after batch {i} {what}")
        tensors_close(a["y"], e["y"], **CLOSE, name=f"RunningMean's output for batch {i} {what}")
        expect(a["x_grad"] is not None,
               f"backward() through RunningMean's output for batch {i} {what} failed: the output should "
               "depend on x (x - self.mean), and the buffers must hold detached values (x.detach())")
        tensors_close(a["x_grad"], c, **CLOSE,
                      name=f"the gradient that reaches the input of batch {i} {what} through RunningMean's "
                           "output (only x - self.mean carries a gradient: the buffers are computed from "
                           "x.detach())")


def run_cases(student):
    """(num_features, batch size, dtype): sizes of 1, the notebook's example (3, 2), float64, far sizes."""
    return student.cases((1, 1, torch.float32), (3, 2, torch.float32), (4, 3, torch.float64),
                         draw=lambda rng: (rng.randint(8, 20), rng.randint(5, 12),
                                           rng.choice([torch.float32, torch.float64])))


def check_run(student, modes, what):
    g = torch.Generator().manual_seed(student.seed)
    for n, size, dtype in run_cases(student):
        momentum = round(student.rng.uniform(0.05, 0.9), 3)
        batches = [(torch.randn(size, n, generator=g) * 3 + 1).to(dtype) for _ in modes]
        cs = [torch.randn(size, n, generator=g).to(dtype) for _ in modes]
        r = student.probe(running_mean_run, n=n, momentum=momentum, batches=batches, training=modes, cs=cs,
                          double=dtype == torch.float64)
        label = f"{what}, RunningMean({n}) on {dtype} batches of {size} rows"
        compare(r, expected_steps(n, momentum, batches, modes, dtype), batches, cs, label)


@question("q3", points=1)
def test_running_mean_buffers(student):
    for n in student.cases(1, 3, draw=lambda rng: rng.randint(10, 30)):
        marks = torch.randn(2, n, generator=student.generator)
        r = student.probe(running_mean_parts, n=n, momentum=0.1, marks=marks)
        expect(r["params"] == [], "RunningMean should have no parameters: `mean` and `last_mean` are buffers, "
                                  "not nn.Parameter")
        expect(r["buffers"] == ["mean", "last_mean"],
               "RunningMean's named_buffers() should list `mean` then `last_mean` (use self.register_buffer)")
        expect_keys(r["state_dict"], ["mean"], what="RunningMean's state_dict()",
                    hint="It should contain only `mean`: `last_mean` must be registered with "
                         "persistent=False.")
        expect(all(has_length(r[key], 2) for key in ("initial", "buffer_values", "after_double")),
               "RunningMean should have the two buffers `mean` and `last_mean`")
        for got, name in zip(r["initial"], ("mean", "last_mean")):
            tensors_close(got, torch.zeros(n), **CLOSE, name=f"the buffer `{name}` of RunningMean({n}) right "
                                                             "after __init__")
        for got, want, name in zip(r["buffer_values"], marks, ("mean", "last_mean")):
            tensors_close(got, want, **CLOSE,
                          name=f"the buffer `{name}` as named_buffers() gives it, after a new value was written "
                               f"into self.{name}")
        expect(has_length(r["state_values"], 1), "RunningMean's state_dict() should contain only `mean`")
        tensors_close(r["state_values"][0], marks[0], **CLOSE,
                      name="state_dict()['mean'] (it should be the buffer itself)")
        for got, want, name in zip(r["after_double"], marks, ("mean", "last_mean")):
            tensors_close(got, want.double(), **CLOSE,
                          name=f"self.{name} after model.double() (registered buffers follow the module "
                               "to float64)")


@question("q3", points=1)
def test_running_mean_training_updates(student):
    check_run(student, [True, True, True], "in training mode")


@question("q3", points=1)
def test_running_mean_eval_keeps_buffers(student):
    check_run(student, [True, False, False], "(batch 1 in training mode, then eval mode)")

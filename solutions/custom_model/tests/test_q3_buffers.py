"""Q3: RunningMean with a persistent buffer `mean` and a non-persistent buffer `last_mean`."""

import torch

from grader.testing import expect, probe, question, tensors_close, tensors_equal


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
def running_mean_run(ns, n, momentum, batches, training):
    m = ns.RunningMean(n, momentum=momentum)
    steps = []
    for x, mode in zip(batches, training):
        m.train(mode)
        y = m(x)
        steps.append({"y": y.detach().clone() if isinstance(y, torch.Tensor) else None,
                      "y_type": type(y).__name__,
                      "mean": m.mean.detach().clone(), "last_mean": m.last_mean.detach().clone()})
    return steps


def expected_steps(n, momentum, batches, training):
    mean, last = torch.zeros(n), torch.zeros(n)
    steps = []
    for x, mode in zip(batches, training):
        if mode:
            last = x.mean(dim=0)
            mean = (1 - momentum) * mean + momentum * last
        steps.append({"y": x - mean, "mean": mean, "last_mean": last})
    return steps


def has_length(value, n) -> bool:
    return isinstance(value, list) and len(value) == n


def compare(actual, expected, what):
    expect(has_length(actual, len(expected)), "RunningMean should run once for every batch")
    for i, (a, e) in enumerate(zip(actual, expected), 1):
        expect(a["y"] is not None,
               f"RunningMean's forward should return a tensor, but it returned {a['y_type']}")
        tensors_close(a["mean"], e["mean"], rtol=1e-4, atol=1e-5,
                      name=f"the buffer `mean` after batch {i} {what}")
        tensors_close(a["last_mean"], e["last_mean"], rtol=1e-4, atol=1e-5,
                      name=f"the buffer `last_mean` after batch {i} {what}")
        tensors_close(a["y"], e["y"], rtol=1e-4, atol=1e-5,
                      name=f"RunningMean's output for batch {i} {what}")


def random_run(student, modes):
    n = student.rng.randint(2, 7)
    momentum = round(student.rng.uniform(0.05, 0.9), 3)
    g = torch.Generator().manual_seed(student.seed)
    batches = [torch.randn(student.rng.randint(2, 6), n, generator=g) * 3 + 1 for _ in modes]
    return n, momentum, batches


@question("q3", points=1)
def test_running_mean_buffers(student):
    n = student.rng.randint(2, 9)
    marks = torch.randn(2, n, generator=student.generator)
    r = student.probe(running_mean_parts, n=n, momentum=0.1, marks=marks)
    expect(r["params"] == [], "RunningMean should have no parameters: `mean` and `last_mean` are buffers, "
                              "not nn.Parameter")
    expect(r["buffers"] == ["mean", "last_mean"],
           "RunningMean's named_buffers() should list `mean` then `last_mean` (use self.register_buffer)")
    expect(r["state_dict"] == ["mean"],
           "RunningMean's state_dict() should contain only `mean`: `last_mean` must be registered with "
           "persistent=False")
    expect(all(has_length(r[key], 2) for key in ("initial", "buffer_values", "after_double")),
           "RunningMean should have the two buffers `mean` and `last_mean`")
    for got, name in zip(r["initial"], ("mean", "last_mean")):
        tensors_equal(got, torch.zeros(n), name=f"the buffer `{name}` right after __init__")
    for got, want, name in zip(r["buffer_values"], marks, ("mean", "last_mean")):
        tensors_equal(got, want, name=f"the buffer `{name}` as named_buffers() gives it, after a new value "
                                      f"was written into self.{name}")
    expect(has_length(r["state_values"], 1), "RunningMean's state_dict() should contain only `mean`")
    tensors_equal(r["state_values"][0], marks[0],
                  name="state_dict()['mean'] (it should be the buffer itself)")
    for got, want, name in zip(r["after_double"], marks, ("mean", "last_mean")):
        tensors_equal(got, want.double(),
                      name=f"self.{name} after model.double() (registered buffers follow the module "
                           "to float64)")


@question("q3", points=1)
def test_running_mean_training_updates(student):
    modes = [True, True, True]
    n, momentum, batches = random_run(student, modes)
    r = student.probe(running_mean_run, n=n, momentum=momentum, batches=batches, training=modes)
    compare(r, expected_steps(n, momentum, batches, modes), "in training mode")


@question("q3", points=1)
def test_running_mean_eval_keeps_buffers(student):
    modes = [True, False, False]
    n, momentum, batches = random_run(student, modes)
    r = student.probe(running_mean_run, n=n, momentum=momentum, batches=batches, training=modes)
    compare(r, expected_steps(n, momentum, batches, modes), "(batch 1 in training mode, then eval mode)")

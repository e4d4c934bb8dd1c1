"""Q3: RunningMean with a persistent buffer `mean` and a non-persistent buffer `last_mean`."""

import torch

from grader.testing import expect, probe, question, tensors_close, tensors_equal


@probe
def running_mean_parts(ns, n, momentum):
    m = ns.RunningMean(n, momentum=momentum)

    def tensor_attr(name):
        value = getattr(m, name, None)
        return value.detach().clone() if isinstance(value, torch.Tensor) else None

    out = {
        "params": [name for name, _ in m.named_parameters()],
        "buffers": [name for name, _ in m.named_buffers()],
        "buffers_require_grad": any(b.requires_grad for _, b in m.named_buffers()),
        "state_dict": list(m.state_dict().keys()),
        "mean": tensor_attr("mean"),
        "last_mean": tensor_attr("last_mean"),
    }
    m.double()
    out["dtypes_after_double"] = [getattr(getattr(m, name, None), "dtype", None) for name in ("mean", "last_mean")]
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


def compare(actual, expected, what):
    for i, (a, e) in enumerate(zip(actual, expected), 1):
        expect(a["y"] is not None, f"RunningMean's forward should return a tensor, but it returned {a['y_type']}")
        tensors_close(a["mean"], e["mean"], rtol=1e-4, atol=1e-5, name=f"the buffer `mean` after batch {i} {what}")
        tensors_close(a["last_mean"], e["last_mean"], rtol=1e-4, atol=1e-5,
                      name=f"the buffer `last_mean` after batch {i} {what}")
        tensors_close(a["y"], e["y"], rtol=1e-4, atol=1e-5, name=f"RunningMean's output for batch {i} {what}")


def random_run(student, modes):
    n = student.rng.randint(2, 7)
    momentum = round(student.rng.uniform(0.05, 0.9), 3)
    g = torch.Generator().manual_seed(student.seed)
    batches = [torch.randn(student.rng.randint(2, 6), n, generator=g) * 3 + 1 for _ in modes]
    return n, momentum, batches


@question("q3", points=1)
def test_running_mean_buffers(student):
    n = student.rng.randint(2, 9)
    r = student.probe(running_mean_parts, n=n, momentum=0.1)
    expect(r["params"] == [], "RunningMean should have no parameters: `mean` and `last_mean` are buffers, "
                              "not nn.Parameter")
    expect(r["buffers"] == ["mean", "last_mean"],
           "RunningMean's named_buffers() should list `mean` then `last_mean` (use self.register_buffer)")
    expect(r["state_dict"] == ["mean"],
           "RunningMean's state_dict() should contain only `mean`: `last_mean` must be registered with "
           "persistent=False")
    expect(not r["buffers_require_grad"], "RunningMean's buffers should not require grad")
    tensors_equal(r["mean"], torch.zeros(n), name="the buffer `mean` right after __init__")
    tensors_equal(r["last_mean"], torch.zeros(n), name="the buffer `last_mean` right after __init__")
    expect(r["dtypes_after_double"] == [torch.float64, torch.float64],
           "after model.double(), both buffers should be float64 (registered buffers follow the module)")


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

"""Q2: bce_loss from logits (stable for large logits) and LogisticRegression.  Q3: accuracies."""

import torch
import torch.nn.functional as F

from grader.testing import assert_type, expect, probe, question, tensors_close


@probe
def bce(ns, logits, targets):
    z = logits.clone().requires_grad_(True)
    loss = ns.bce_loss(z, targets)
    if not isinstance(loss, torch.Tensor):
        return {"type": type(loss).__name__}
    out = {"loss": loss.detach().clone(), "grad": None}
    if loss.requires_grad and loss.dim() == 0:
        loss.backward()
        out["grad"] = z.grad.detach().clone() if z.grad is not None else None
    return out


@probe
def logistic(ns, n_features, weight, bias, x):
    m = ns.LogisticRegression(n_features)
    if not isinstance(m, nn.Module):
        return {"type": type(m).__name__}
    names = [n for n, _ in m.named_parameters()]
    with torch.no_grad():
        m.linear.weight.copy_(weight)
        m.linear.bias.copy_(bias)
    y = m(x)
    return {"names": names, "y": y.detach().clone() if isinstance(y, torch.Tensor) else type(y).__name__}


def check_bce(student, logits, targets, what):
    r = student.probe(bce, logits=logits, targets=targets)
    expect("loss" in r, f"bce_loss should return a tensor, but it returned {r.get('type')}")
    expected = F.binary_cross_entropy_with_logits(logits.double(), targets.double()).to(logits.dtype)
    tensors_close(r["loss"], expected, rtol=1e-4, atol=1e-5,
                  name=f"bce_loss {what} (a 0-dim tensor of the logits' dtype)")
    expect(r["grad"] is not None,
           "bce_loss's result must stay connected to the logits so that backward() works")
    grad = ((torch.sigmoid(logits.double()) - targets.double()) / len(logits)).to(logits.dtype)
    tensors_close(r["grad"], grad, rtol=1e-3, atol=1e-6, name=f"the gradient of bce_loss {what}")


@question("q2", points=1)
def test_bce_loss_ordinary_logits(student):
    # one logit, the notebook's three, many; float32 and float64 logits
    cases = student.cases((1, torch.float32), (3, torch.float32),
                          draw=lambda rng: (rng.randint(50, 200), rng.choice([torch.float32, torch.float64])))
    for n, dtype in cases:
        logits = (torch.randn(n, generator=student.generator, dtype=torch.float64) * 3).to(dtype)
        targets = torch.randint(0, 2, (n,), generator=student.generator)
        check_bce(student, logits, targets.to(dtype), "on ordinary logits")
        check_bce(student, logits, targets, "with integer (int64) targets")
    logits = torch.randn(7, generator=student.generator, dtype=torch.float64) * 3
    check_bce(student, logits, torch.randint(0, 2, (7,), generator=student.generator).float(),
              "for float64 logits and float32 targets")


@question("q2", points=1)
def test_bce_loss_large_logits(student):
    for n in student.cases(1, 2, draw=lambda rng: rng.randint(20, 60)):
        size = torch.rand(n, generator=student.generator) * 280 + 20       # |logit| between 20 and 300
        sign = torch.randint(0, 2, (n,), generator=student.generator) * 2 - 1
        logits = size * sign
        targets = (torch.rand(n, generator=student.generator) < 0.5).float()
        targets[0] = 1.0 - float(logits[0] > 0)                           # at least one confident mistake
        check_bce(student, logits, targets,
                  "on very large logits (compute it from the logits with BCEWithLogitsLoss, not "
                  "sigmoid followed by BCELoss)")


@question("q2", points=1)
def test_logistic_regression(student):
    # a single example with a single feature (squeeze() without a dim gives shape ()), the
    # notebook's (5, 4), and sizes far from it
    cases = student.cases((1, 1), (1, 4), (5, 4), draw=lambda rng: (rng.randint(20, 60), rng.randint(6, 12)))
    for n, n_features in cases:
        x = torch.randn(n, n_features, generator=student.generator)
        weight = torch.randn(1, n_features, generator=student.generator)
        bias = torch.randn(1, generator=student.generator)
        r = student.probe(logistic, n_features=n_features, weight=weight, bias=bias, x=x)
        expect("names" in r, f"LogisticRegression must be a subclass of nn.Module, not {r.get('type')}")
        expect(r["names"] == ["linear.weight", "linear.bias"],
               "LogisticRegression should have exactly one layer, self.linear = nn.Linear(n_features, 1)")
        expected = x @ weight[0] + bias
        tensors_close(r["y"], expected, rtol=1e-4, atol=1e-5,
                      name="LogisticRegression's output (raw logits of shape (N,), no sigmoid, also for "
                           "N == 1)")


@probe
def accuracies(ns, kind, logits, targets):
    fn = ns.binary_accuracy if kind == "binary" else ns.multiclass_accuracy
    value = fn(logits, targets)
    return {"type": type(value).__name__, "value": value if type(value) is float else None}


def check_accuracy(student, kind, logits, targets, expected, what):
    r = student.probe(accuracies, kind=kind, logits=logits, targets=targets)
    expect(type(r["value"]) is float, f"{kind}_accuracy should return a Python float (use .item()), "
                                      f"but it returned {r['type']}")
    expect(abs(r["value"] - expected) < 1e-6, f"{kind}_accuracy gives a wrong value {what}")


@question("q3", points=1)
def test_binary_accuracy(student):
    # the four fixed logits first, alone: a threshold at 0 instead of 0.5 (or a logit compared
    # with 0.5) gets them wrong whatever the random rest would have balanced out
    for n in student.cases(1, 4, draw=lambda rng: rng.randint(100, 300)):
        logits = (torch.rand(n, generator=student.generator) - 0.5) * 2      # many logits in (-1, 1)
        logits[:4] = torch.tensor([0.2, 0.4, 0.3, -0.3])[:n]
        targets = torch.randint(0, 2, (n,), generator=student.generator)
        targets[:4] = torch.tensor([1, 1, 1, 0])[:n]
        expected = ((logits > 0).long() == targets).double().mean().item()
        check_accuracy(student, "binary", logits, targets.float(), expected,
                       "(a logit above 0 means probability above 0.5, i.e. class 1)")
        check_accuracy(student, "binary", logits, targets, expected, "for int64 targets")


@question("q3", points=1)
def test_multiclass_accuracy(student):
    # one example, the notebook's (2, 3), and sizes far from it (never N == C, so that an argmax
    # over the wrong dimension cannot line up)
    cases = student.cases((1, 2), (1, 3), (2, 3),
                          draw=lambda rng: (rng.randint(40, 200), rng.randint(4, 9)))
    for n, n_classes in cases:
        logits = torch.randn(n, n_classes, generator=student.generator)
        targets = torch.randint(0, n_classes, (n,), generator=student.generator)
        expected = (logits.argmax(dim=1) == targets).double().mean().item()
        check_accuracy(student, "multiclass", logits, targets, expected,
                       "(the predicted class is the largest logit of each row)")

"""Q4: the MLP with dropout.  Q5: train_step.  Q6: evaluate with eval() and no_grad()."""

import torch
import torch.nn.functional as F

from grader.testing import expect, probe, question, tensors_close, valid_tensor


# --------------------------------------------------------------------------------------------- Q4
@probe
def mlp_outputs(ns, seed, n_features, n_hidden, n_classes, p_drop, x, mask_seeds):
    torch.manual_seed(seed)
    m = ns.MLP(n_features, n_hidden, n_classes, p_drop=p_drop)
    if not isinstance(m, nn.Module):
        return {"type": type(m).__name__}

    def out(y):
        return y.detach().clone() if isinstance(y, torch.Tensor) else type(y).__name__

    names = [n for n, _ in m.named_parameters()]
    params = {n: p.detach().clone() for n, p in m.named_parameters()}
    m.eval()
    eval_y = out(m(x))
    m.train()
    train_y = []
    for s in mask_seeds:                 # the dropout masks come from these seeds
        torch.manual_seed(s)
        train_y.append(out(m(x)))
    return {"names": names, "params": params, "eval": eval_y, "train": train_y}


def reference_mlp(seed, n_features, n_hidden, n_classes, p_drop):
    """fc1, dropout and fc2 created in this order right after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    fc1 = torch.nn.Linear(n_features, n_hidden)
    torch.nn.Dropout(p_drop)
    fc2 = torch.nn.Linear(n_hidden, n_classes)
    return fc1, fc2


def mlp_case(student, p_drop):
    """The student's MLP answers, and the judge's own outputs: eval mode, then training mode with
    the dropout masks of each seed in `mask_seeds`."""
    rng = student.rng
    n_features, n_hidden, n_classes = rng.randint(2, 6), rng.randint(16, 32), rng.randint(2, 5)
    seed, mask_seeds = rng.randint(0, 2**31), [rng.randint(0, 2**31) for _ in range(2)]
    x = torch.randn(rng.randint(6, 12), n_features, generator=student.generator)
    r = student.probe(mlp_outputs, seed=seed, n_features=n_features, n_hidden=n_hidden,
                      n_classes=n_classes, p_drop=p_drop, x=x, mask_seeds=mask_seeds)
    expect("names" in r, f"MLP must be a subclass of nn.Module, not {r.get('type')}")
    expect(r["names"] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"],
           "MLP should have exactly the layers fc1 and fc2 (nn.Linear), created in that order")
    fc1, fc2 = reference_mlp(seed, n_features, n_hidden, n_classes, p_drop)
    for name, value in (("fc1.weight", fc1.weight), ("fc1.bias", fc1.bias),
                        ("fc2.weight", fc2.weight), ("fc2.bias", fc2.bias)):
        tensors_close(r["params"][name], value.detach(), rtol=0, atol=0,
                      name=f"the initial {name} (create self.fc1 = nn.Linear(n_features, n_hidden), "
                           "self.dropout and self.fc2 = nn.Linear(n_hidden, n_classes), in this order)")
    with torch.no_grad():
        hidden = torch.relu(fc1(x))
        reference = {"eval": fc2(hidden), "train": []}
        for s in mask_seeds:
            torch.manual_seed(s)
            reference["train"].append(fc2(F.dropout(hidden, p_drop, training=True)))
    return r, reference


@question("q4", points=2)
def test_mlp_eval_mode_gives_raw_logits(student):
    r, reference = mlp_case(student, p_drop=0.5)
    tensors_close(r["eval"], reference["eval"], rtol=1e-4, atol=1e-5,
                  name="MLP's output in eval mode (fc2(dropout(relu(fc1(x)))), raw logits without "
                       "softmax, dropout switched off)")


@question("q4", points=1)
def test_mlp_dropout_only_in_training(student):
    r, reference = mlp_case(student, p_drop=0.5)
    expect(type(r["train"]) is list and len(r["train"]) == 2, "MLP should return a tensor in training mode")
    for got, expected in zip(r["train"], reference["train"]):
        got = valid_tensor(got, dtype=torch.float32, shape=expected.shape,
                           name="MLP's output in training mode")
        expect(not torch.allclose(got, reference["eval"], rtol=1e-4, atol=1e-5),
               "In training mode (model.train()) MLP's dropout should be active: with p_drop=0.5 the "
               "output should differ from eval mode. Use the self.dropout layer in forward.")
        tensors_close(got, expected, rtol=1e-4, atol=1e-5,
                      name="MLP's output in training mode (fc2(dropout(relu(fc1(x)))) with the "
                           "self.dropout layer)")
    r0, reference0 = mlp_case(student, p_drop=0.0)
    tensors_close(r0["train"][0], reference0["train"][0], rtol=1e-4, atol=1e-5,
                  name="MLP's output in training mode with p_drop=0")


# --------------------------------------------------------------------------------------------- Q5
@probe
def run_steps(ns, weight, bias, stale_w, stale_b, lr, batches):
    model = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        model.weight.copy_(weight)
        model.bias.copy_(bias)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    model.weight.grad, model.bias.grad = stale_w.clone(), stale_b.clone()   # left from earlier work
    loss_fn = nn.CrossEntropyLoss()
    steps = []
    for xb, yb in batches:
        value = ns.train_step(model, optimizer, loss_fn, xb, yb)
        steps.append({"type": type(value).__name__, "loss": value if type(value) is float else None,
                      "weight": model.weight.detach().clone(), "bias": model.bias.detach().clone()})
    return steps


def reference_steps(weight, bias, lr, batches):
    w, b = weight.clone(), bias.clone()
    out = []
    for xb, yb in batches:
        w_, b_ = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
        loss = F.cross_entropy(xb @ w_.T + b_, yb)
        loss.backward()
        w, b = (w - lr * w_.grad).detach(), (b - lr * b_.grad).detach()
        out.append({"loss": loss.item(), "weight": w, "bias": b})
    return out


def step_case(student):
    rng, g = student.rng, student.generator
    n_in, n_classes = rng.randint(2, 6), rng.randint(2, 5)
    weight, bias = torch.randn(n_classes, n_in, generator=g), torch.randn(n_classes, generator=g)
    batches = [(torch.randn(8, n_in, generator=g), torch.randint(0, n_classes, (8,), generator=g))
               for _ in range(3)]
    lr = rng.choice([0.05, 0.1, 0.2])
    r = student.probe(run_steps, weight=weight, bias=bias, stale_w=torch.randn(n_classes, n_in, generator=g),
                      stale_b=torch.randn(n_classes, generator=g), lr=lr, batches=batches)
    return r, reference_steps(weight, bias, lr, batches)


@question("q5", points=2)
def test_train_step_updates_parameters(student):
    r, expected = step_case(student)
    expect(type(r) is list and len(r) == len(expected), "train_step should be called once per batch")
    for i, (a, e) in enumerate(zip(r, expected), 1):
        tensors_close(a["weight"], e["weight"], rtol=1e-4, atol=1e-5,
                      name=f"the weights after train_step number {i} (zero_grad, forward, loss, "
                           "backward, step: each once, in this order)")
        tensors_close(a["bias"], e["bias"], rtol=1e-4, atol=1e-5,
                      name=f"the bias after train_step number {i}")


@question("q5", points=1)
def test_train_step_returns_loss_as_float(student):
    r, expected = step_case(student)
    expect(type(r) is list and len(r) == len(expected), "train_step should be called once per batch")
    for i, (a, e) in enumerate(zip(r, expected), 1):
        expect(type(a["loss"]) is float, "train_step should return the loss as a Python float "
                                         f"(loss.item()), but it returned {a['type']}")
        expect(abs(a["loss"] - e["loss"]) <= 1e-4 * max(1.0, abs(e["loss"])),
               f"train_step number {i} returned a wrong loss (it should be the loss of the batch "
               "before the update)")


# --------------------------------------------------------------------------------------------- Q6
@probe
def run_evaluate(ns, state, X, y, seed):
    n_features, n_hidden = state["0.weight"].shape[1], state["0.weight"].shape[0]
    model = nn.Sequential(nn.Linear(n_features, n_hidden), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(n_hidden, state["3.weight"].shape[0]))
    model.load_state_dict(state)
    results = []
    for _ in range(2):
        model.train()
        torch.manual_seed(seed)
        value = ns.evaluate(model, X, y)
        pair = isinstance(value, (tuple, list)) and len(value) == 2
        results.append([v if type(v) is float else type(v).__name__ for v in value] if pair
                       else type(value).__name__)
    return {"results": results}


def random_classifier(rng, g):
    """An MLP with dropout and random weights, its state, and data (X, y) for it."""
    n_features, n_hidden, n_classes = rng.randint(2, 6), rng.randint(16, 32), rng.randint(2, 5)
    net = torch.nn.Sequential(torch.nn.Linear(n_features, n_hidden), torch.nn.ReLU(),
                              torch.nn.Dropout(0.5), torch.nn.Linear(n_hidden, n_classes))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    n = rng.randint(30, 60)
    X, y = torch.randn(n, n_features, generator=g), torch.randint(0, n_classes, (n,), generator=g)
    net.eval()
    return net, {k: v.clone() for k, v in net.state_dict().items()}, X, y


def loss_and_accuracy(logits, y):
    return F.cross_entropy(logits, y).item(), (logits.argmax(dim=1) == y).double().mean().item()


def evaluate_case(student):
    net, state, X, y = random_classifier(student.rng, student.generator)
    r = student.probe(run_evaluate, state=state, X=X, y=y, seed=student.seed % 10_000)
    with torch.no_grad():
        loss, acc = loss_and_accuracy(net(X), y)
    return r, loss, acc


def check_pair(value) -> None:
    """`value`, what the probe reported of evaluate's result, is a pair of two Python floats."""
    expect(isinstance(value, list), "evaluate should return a tuple (loss, accuracy), but it returned "
                                    f"{value}")
    expect(all(type(v) is float for v in value),
           "evaluate should return two Python floats (use .item()), but it returned "
           f"({', '.join(v if isinstance(v, str) else type(v).__name__ for v in value)})")


def matches(value, loss, acc) -> bool:
    return abs(value[0] - loss) <= 1e-4 * max(1.0, loss) and abs(value[1] - acc) < 1e-5


@question("q6", points=2)
def test_evaluate_values(student):
    r, loss, acc = evaluate_case(student)
    expect(type(r["results"]) is list and len(r["results"]) == 2,
           "evaluate should return (loss, accuracy)")
    for value in r["results"]:
        check_pair(value)
        expect(abs(value[0] - loss) <= 1e-4 * max(1.0, loss),
               "evaluate returned a wrong loss: it should be the mean cross-entropy of the raw logits with "
               "the model in eval mode (dropout off)")
        expect(abs(value[1] - acc) < 1e-5,
               "evaluate returned a wrong accuracy (eval mode, argmax of each row)")


@probe
def run_evaluate_modes(ns, state, X, y, train_shift, grad_shift):
    class ModeAware(nn.Module):
        """A classifier whose logits move by train_shift in training mode and by grad_shift
        while autograd is recording."""

        def __init__(self):
            super().__init__()
            n_features, n_hidden = state["0.weight"].shape[1], state["0.weight"].shape[0]
            self.net = nn.Sequential(nn.Linear(n_features, n_hidden), nn.ReLU(), nn.Dropout(0.5),
                                     nn.Linear(n_hidden, state["3.weight"].shape[0]))
            self.net.load_state_dict(state)

        def forward(self, x):
            out = self.net(x)
            if self.training:
                out = out + train_shift
            if torch.is_grad_enabled():
                out = out + grad_shift
            return out

    model = ModeAware()
    model.train()
    value = ns.evaluate(model, X, y)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return [v if type(v) is float else type(v).__name__ for v in value]
    return type(value).__name__


@question("q6", points=1)
def test_evaluate_uses_eval_and_no_grad(student):
    g = student.generator
    net, state, X, y = random_classifier(student.rng, g)
    with torch.no_grad():
        logits = net(X)
    train_shift = 3 * torch.randn(logits.shape, generator=g)
    grad_shift = 3 * torch.randn(logits.shape, generator=g)
    value = student.probe(run_evaluate_modes, state=state, X=X, y=y, train_shift=train_shift,
                          grad_shift=grad_shift)
    check_pair(value)
    expect(not any(matches(value, *loss_and_accuracy(logits + train_shift + extra, y))
                   for extra in (0, grad_shift)),
           "evaluate ran the model in training mode: call model.eval() before the forward pass")
    expect(not matches(value, *loss_and_accuracy(logits + grad_shift, y)),
           "evaluate ran the model with gradient tracking on: do the forward pass inside "
           "`with torch.no_grad():`")
    expect(matches(value, *loss_and_accuracy(logits, y)),
           "evaluate returned a wrong loss or accuracy: run the model once on all of X in eval mode "
           "under torch.no_grad(), and return the mean cross-entropy and the fraction of correct "
           "argmax predictions")

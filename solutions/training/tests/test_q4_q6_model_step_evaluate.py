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


def mlp_case(student, p_drop, sizes):
    """The student's MLP answers, and the judge's own outputs: eval mode, then training mode with
    the dropout masks of each seed in `mask_seeds`."""
    rng = student.rng
    n_features, n_hidden, n_classes, n = sizes
    seed, mask_seeds = rng.randint(0, 2**31), [rng.randint(0, 2**31) for _ in range(2)]
    x = torch.randn(n, n_features, generator=student.generator)
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


def mlp_sizes(student):
    """(n_features, n_hidden, n_classes, N): all 1, the notebook's MLP(4, 16, 3) on 8 rows, and
    sizes far from it (never 3 classes)."""
    return student.cases((1, 1, 1, 1), (4, 16, 3, 8),
                         draw=lambda rng: (rng.randint(6, 12), rng.randint(40, 64),
                                           rng.choice([2, *range(4, 10)]), rng.randint(20, 60)))


@question("q4", points=2)
def test_mlp_eval_mode_gives_raw_logits(student):
    for sizes in mlp_sizes(student):
        r, reference = mlp_case(student, 0.5, sizes)
        tensors_close(r["eval"], reference["eval"], rtol=1e-4, atol=1e-5,
                      name="MLP's output in eval mode (fc2(dropout(relu(fc1(x)))), raw logits without "
                           "softmax, dropout switched off)")


@question("q4", points=1)
def test_mlp_dropout_only_in_training(student):
    for sizes in mlp_sizes(student):
        r, reference = mlp_case(student, 0.5, sizes)
        expect(type(r["train"]) is list and len(r["train"]) == 2, "MLP should return a tensor in training mode")
        for got, expected in zip(r["train"], reference["train"]):
            got = valid_tensor(got, dtype=torch.float32, shape=expected.shape,
                               name="MLP's output in training mode")
            if not torch.allclose(expected, reference["eval"], rtol=1e-4, atol=1e-5):
                expect(not torch.allclose(got, reference["eval"], rtol=1e-4, atol=1e-5),
                       "In training mode (model.train()) MLP's dropout should be active: with p_drop=0.5 "
                       "the output should differ from eval mode. Use the self.dropout layer in forward.")
            tensors_close(got, expected, rtol=1e-4, atol=1e-5,
                          name="MLP's output in training mode (fc2(dropout(relu(fc1(x)))) with the "
                               "self.dropout layer)")
    r0, reference0 = mlp_case(student, 0.0, (4, 16, 3, 8))
    tensors_close(r0["train"][0], reference0["train"][0], rtol=1e-4, atol=1e-5,
                  name="MLP's output in training mode with p_drop=0")


# --------------------------------------------------------------------------------------------- Q5
@probe
def run_steps(ns, weight, bias, stale_w, stale_b, lr, momentum, smoothing, eval_shift, batches):
    class ModeLinear(nn.Module):
        """A linear classifier whose logits move by eval_shift in eval mode."""

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(weight.shape[1], weight.shape[0])

        def forward(self, x):
            out = self.linear(x)
            return out if self.training else out + eval_shift

    model = ModeLinear()
    with torch.no_grad():
        model.linear.weight.copy_(weight)
        model.linear.bias.copy_(bias)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    model.linear.weight.grad, model.linear.bias.grad = stale_w.clone(), stale_b.clone()   # left from earlier work
    loss_fn = nn.CrossEntropyLoss(label_smoothing=smoothing)
    steps = []
    for xb, yb in batches:
        model.eval()                         # as an evaluation between two steps leaves it
        value = ns.train_step(model, optimizer, loss_fn, xb, yb)
        steps.append({"type": type(value).__name__, "loss": value if type(value) is float else None,
                      "weight": model.linear.weight.detach().clone(), "bias": model.linear.bias.detach().clone()})
    return steps


def reference_steps(weight, bias, lr, momentum, smoothing, batches):
    """SGD with momentum (PyTorch's rule: the buffer starts as the first gradient, then
    buf = momentum * buf + grad) on cross-entropy with label smoothing, in training mode."""
    w, b = weight.clone(), bias.clone()
    buf_w = buf_b = None
    out = []
    for xb, yb in batches:
        w_, b_ = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
        loss = F.cross_entropy(xb @ w_.T + b_, yb, label_smoothing=smoothing)
        loss.backward()
        if buf_w is None:
            buf_w, buf_b = w_.grad.clone(), b_.grad.clone()
        else:
            buf_w, buf_b = momentum * buf_w + w_.grad, momentum * buf_b + b_.grad
        w, b = (w - lr * buf_w).detach(), (b - lr * buf_b).detach()
        out.append({"loss": loss.item(), "weight": w, "bias": b})
    return out


def step_cases(student):
    """(n_in, n_classes, batch size, label smoothing, momentum): one feature and a batch of one with
    plain cross-entropy and SGD, the notebook's (3, 2, 4), and sizes far from it."""
    return student.cases((1, 2, 1, 0.0, 0.0), (3, 2, 4, 0.0, 0.0),
                         draw=lambda rng: (rng.randint(6, 12), rng.randint(5, 8), rng.randint(30, 60),
                                           rng.uniform(0.1, 0.3), rng.uniform(0.5, 0.9)))


def step_case(student, n_in, n_classes, batch, smoothing, momentum):
    rng, g = student.rng, student.generator
    weight, bias = torch.randn(n_classes, n_in, generator=g), torch.randn(n_classes, generator=g)
    batches = [(torch.randn(batch, n_in, generator=g), torch.randint(0, n_classes, (batch,), generator=g))
               for _ in range(3)]
    lr = rng.uniform(0.15, 0.4)
    eval_shift = 4 * torch.randn(n_classes, generator=g)
    r = student.probe(run_steps, weight=weight, bias=bias, stale_w=torch.randn(n_classes, n_in, generator=g),
                      stale_b=torch.randn(n_classes, generator=g), lr=lr, momentum=momentum,
                      smoothing=smoothing, eval_shift=eval_shift, batches=batches)
    return r, reference_steps(weight, bias, lr, momentum, smoothing, batches)


@question("q5", points=2)
def test_train_step_updates_parameters(student):
    for case in step_cases(student):
        r, expected = step_case(student, *case)
        expect(type(r) is list and len(r) == len(expected), "train_step should be called once per batch")
        for i, (a, e) in enumerate(zip(r, expected), 1):
            tensors_close(a["weight"], e["weight"], rtol=1e-4, atol=1e-5,
                          name=f"the weights after train_step number {i} (model.train(), zero_grad, forward, "
                               "loss with the given loss_fn, backward, step of the given optimizer: each "
                               "once, in this order)")
            tensors_close(a["bias"], e["bias"], rtol=1e-4, atol=1e-5,
                          name=f"the bias after train_step number {i}")


@question("q5", points=1)
def test_train_step_returns_loss_as_float(student):
    for case in step_cases(student):
        r, expected = step_case(student, *case)
        expect(type(r) is list and len(r) == len(expected), "train_step should be called once per batch")
        for i, (a, e) in enumerate(zip(r, expected), 1):
            expect(type(a["loss"]) is float, "train_step should return the loss as a Python float "
                                             f"(loss.item()), but it returned {a['type']}")
            expect(abs(a["loss"] - e["loss"]) <= 1e-4 * max(1.0, abs(e["loss"])),
                   f"train_step number {i} returned a wrong loss (it should be the loss of the batch, "
                   "computed with the given loss_fn in training mode, before the update)")


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


def random_classifier(rng, g, sizes):
    """An MLP with dropout and random weights, its state, and data (X, y) for it."""
    n_features, n_hidden, n_classes, n = sizes
    net = torch.nn.Sequential(torch.nn.Linear(n_features, n_hidden), torch.nn.ReLU(),
                              torch.nn.Dropout(0.5), torch.nn.Linear(n_hidden, n_classes))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    X, y = torch.randn(n, n_features, generator=g), torch.randint(0, n_classes, (n,), generator=g)
    net.eval()
    return net, {k: v.clone() for k, v in net.state_dict().items()}, X, y


def loss_and_accuracy(logits, y):
    return F.cross_entropy(logits, y).item(), (logits.argmax(dim=1) == y).double().mean().item()


def evaluate_sizes(student):
    """(n_features, n_hidden, n_classes, N): one feature and one row, the notebook's 50 rows of 4
    features and 3 classes, and sizes far from it."""
    return student.cases((1, 4, 2, 1), (4, 32, 3, 50),
                         draw=lambda rng: (rng.randint(6, 10), rng.randint(40, 64), rng.randint(4, 9),
                                           rng.randint(100, 300)))


def evaluate_case(student, sizes):
    net, state, X, y = random_classifier(student.rng, student.generator, sizes)
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
    for sizes in evaluate_sizes(student):
        r, loss, acc = evaluate_case(student, sizes)
        expect(type(r["results"]) is list and len(r["results"]) == 2,
               "evaluate should return (loss, accuracy)")
        for value in r["results"]:
            check_pair(value)
            expect(abs(value[0] - loss) <= 1e-4 * max(1.0, loss),
                   "evaluate returned a wrong loss: it should be the mean cross-entropy of the raw logits "
                   "with the model in eval mode (dropout off)")
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
    for sizes in evaluate_sizes(student):
        net, state, X, y = random_classifier(student.rng, g, sizes)
        with torch.no_grad():
            logits = net(X)
        train_shift = 3 * torch.randn(logits.shape, generator=g)
        grad_shift = 3 * torch.randn(logits.shape, generator=g)
        value = student.probe(run_evaluate_modes, state=state, X=X, y=y, train_shift=train_shift,
                              grad_shift=grad_shift)
        check_pair(value)
        right = loss_and_accuracy(logits, y)
        # a wrong mode is named only where its result differs from the right one (a single very
        # confident row can give the same loss with and without a shift)
        wrong = [loss_and_accuracy(logits + shift, y) for shift in (train_shift, train_shift + grad_shift)]
        expect(not any(matches(value, *w) and not matches(list(right), *w) for w in wrong),
               "evaluate ran the model in training mode: call model.eval() before the forward pass")
        wrong = loss_and_accuracy(logits + grad_shift, y)
        expect(not (matches(value, *wrong) and not matches(list(right), *wrong)),
               "evaluate ran the model with gradient tracking on: do the forward pass inside "
               "`with torch.no_grad():` (calling .detach() afterwards is not the same)")
        expect(matches(value, *right),
               "evaluate returned a wrong loss or accuracy: run the model once on all of X in eval mode "
               "under torch.no_grad(), and return the mean cross-entropy and the fraction of correct "
               "argmax predictions")

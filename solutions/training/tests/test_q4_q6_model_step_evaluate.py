"""Q4: the MLP with dropout.  Q5: train_step.  Q6: evaluate with eval() and no_grad()."""

import torch
import torch.nn.functional as F

from grader.testing import assert_type, expect, probe, question, tensors_close


# --------------------------------------------------------------------------------------------- Q4
@probe
def mlp_outputs(ns, seed, n_features, n_hidden, n_classes, p_drop, x):
    torch.manual_seed(seed)
    m = ns.MLP(n_features, n_hidden, n_classes, p_drop=p_drop)

    def out(y):
        return y.detach().clone() if isinstance(y, torch.Tensor) else type(y).__name__

    m.eval()
    eval_y = out(m(x))
    m.train()
    train_y = [out(m(x)), out(m(x))]
    return {"is_module": isinstance(m, nn.Module), "names": [n for n, _ in m.named_parameters()],
            "params": {n: p.detach().clone() for n, p in m.named_parameters()},
            "eval": eval_y, "train": train_y}


def mlp_case(student, p_drop):
    rng = student.rng
    n_features, n_hidden, n_classes = rng.randint(2, 6), rng.randint(16, 32), rng.randint(2, 5)
    x = torch.randn(rng.randint(6, 12), n_features, generator=student.generator)
    r = student.probe(mlp_outputs, seed=student.seed % 10_000, n_features=n_features, n_hidden=n_hidden,
                      n_classes=n_classes, p_drop=p_drop, x=x)
    expect(r["is_module"], "MLP must be a subclass of nn.Module")
    expect(r["names"] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"],
           "MLP should have exactly the layers fc1 and fc2 (nn.Linear), created in that order")
    p = r["params"]
    expect(tuple(p["fc1.weight"].shape) == (n_hidden, n_features) and tuple(p["fc2.weight"].shape) == (n_classes, n_hidden),
           "fc1 should be nn.Linear(n_features, n_hidden) and fc2 nn.Linear(n_hidden, n_classes)")
    reference = torch.relu(x @ p["fc1.weight"].T + p["fc1.bias"]) @ p["fc2.weight"].T + p["fc2.bias"]
    return r, reference


@question("q4", points=2)
def test_mlp_eval_mode_gives_raw_logits(student):
    r, reference = mlp_case(student, p_drop=0.5)
    tensors_close(r["eval"], reference, rtol=1e-4, atol=1e-5,
                  name="MLP's output in eval mode (fc2(dropout(relu(fc1(x)))), raw logits without "
                       "softmax, dropout switched off)")


@question("q4", points=1)
def test_mlp_dropout_only_in_training(student):
    r, reference = mlp_case(student, p_drop=0.5)
    for y in r["train"]:
        expect(isinstance(y, torch.Tensor) and y.shape == reference.shape,
               "MLP should return a tensor of shape (N, n_classes) in training mode too")
    expect(not torch.allclose(r["train"][0], reference, atol=1e-5) and
           not torch.allclose(r["train"][0], r["train"][1], atol=1e-5),
           "In training mode (model.train()) MLP's dropout should be active: with p_drop=0.5 two "
           "forward passes should differ. Use the self.dropout layer in forward.")
    r0, reference0 = mlp_case(student, p_drop=0.0)
    tensors_close(r0["train"][0], reference0, rtol=1e-4, atol=1e-5,
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
        steps.append({"type": type(value).__name__,
                      "loss": float(value) if isinstance(value, (float, int, torch.Tensor)) and
                      (not isinstance(value, torch.Tensor) or value.numel() == 1) else None,
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
    for i, (a, e) in enumerate(zip(r, expected), 1):
        tensors_close(a["weight"], e["weight"], rtol=1e-4, atol=1e-5,
                      name=f"the weights after train_step number {i} (zero_grad, forward, loss, "
                           "backward, step: each once, in this order)")
        tensors_close(a["bias"], e["bias"], rtol=1e-4, atol=1e-5, name=f"the bias after train_step number {i}")


@question("q5", points=1)
def test_train_step_returns_loss_as_float(student):
    r, expected = step_case(student)
    for i, (a, e) in enumerate(zip(r, expected), 1):
        expect(a["type"] == "float", f"train_step should return the loss as a Python float (loss.item()), "
                                     f"but it returned {a['type']}")
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
    seen = []
    model[3].register_forward_hook(
        lambda m, args, out: seen.append({"grad": torch.is_grad_enabled(), "dropout_training": model[2].training}))
    results = []
    for _ in range(2):
        model.train()
        torch.manual_seed(seed)
        value = ns.evaluate(model, X, y)
        if isinstance(value, (tuple, list)) and len(value) == 2:
            results.append([v if type(v) is float else type(v).__name__ for v in value])
        else:
            results.append(type(value).__name__)
    return {"results": results, "seen": seen}


def evaluate_case(student):
    rng, g = student.rng, student.generator
    n_features, n_hidden, n_classes = rng.randint(2, 6), rng.randint(16, 32), rng.randint(2, 5)
    net = torch.nn.Sequential(torch.nn.Linear(n_features, n_hidden), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                              torch.nn.Linear(n_hidden, n_classes))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    n = rng.randint(30, 60)
    X, y = torch.randn(n, n_features, generator=g), torch.randint(0, n_classes, (n,), generator=g)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    r = student.probe(run_evaluate, state=state, X=X, y=y, seed=student.seed % 10_000)
    net.eval()
    with torch.no_grad():
        logits = net(X)
    return r, F.cross_entropy(logits, y).item(), (logits.argmax(dim=1) == y).double().mean().item()


@question("q6", points=2)
def test_evaluate_values(student):
    r, loss, acc = evaluate_case(student)
    for value in r["results"]:
        expect(isinstance(value, list), f"evaluate should return a tuple (loss, accuracy), but it returned {value}")
        expect(all(type(v) is float for v in value),
               "evaluate should return two Python floats (use .item()), but it returned "
               f"({', '.join(v if isinstance(v, str) else type(v).__name__ for v in value)})")
        expect(abs(value[0] - loss) <= 1e-4 * max(1.0, loss),
               "evaluate returned a wrong loss: it should be the mean cross-entropy of the raw logits with "
               "the model in eval mode (dropout off)")
        expect(abs(value[1] - acc) < 1e-5, "evaluate returned a wrong accuracy (eval mode, argmax of each row)")


@question("q6", points=1)
def test_evaluate_uses_eval_and_no_grad(student):
    r, loss, acc = evaluate_case(student)
    expect(len(r["seen"]) > 0, "evaluate should run the model on X")
    expect(all(not s["dropout_training"] for s in r["seen"]),
           "evaluate ran the model in training mode: call model.eval() before the forward pass")
    expect(all(not s["grad"] for s in r["seen"]),
           "evaluate ran the model with gradient tracking on: do the forward pass inside "
           "`with torch.no_grad():`")

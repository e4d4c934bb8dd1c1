"""Q9: linear regression with nn.Linear, MSELoss and SGD.  Q10: coefficients from state_dict.
Q11: saving and loading a state_dict."""

import torch

from grader.testing import assert_type, expect, probe, question, tensors_close


@probe
def call_fit(ns, x, y, lr, epochs, scramble):
    import warnings
    torch.manual_seed(scramble)          # other code has drawn random numbers before the call
    torch.rand(scramble % 7 + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ns.fit_linear(x, y, lr=lr, epochs=epochs)
    if not isinstance(model, nn.Linear):
        return {"type": type(model).__name__}
    return {"weight": model.weight.detach().clone(), "bias": model.bias.detach().clone()}


def _reference_fit(x, y, lr, epochs):
    """The training the question describes, done here: the trained (weight, bias)."""
    torch.manual_seed(0)
    model = torch.nn.Linear(x.shape[1], 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x).squeeze(1), y).backward()
        optimizer.step()
    return model.weight.detach(), model.bias.detach()


@question("q9", points=3)
def test_fit_linear(student):
    # (N, D, lr, epochs): a few epochs are compared with the same training done here, many with the
    # least-squares solution
    cases = student.cases((1, 1, 0.05, 4), (100, 2, 0.1, 300),
                          draw=lambda rng: (rng.randint(150, 400), rng.randint(6, 9),
                                            rng.uniform(0.02, 0.08), rng.randint(3, 8)))
    cases.append((student.rng.randint(60, 150), student.rng.randint(3, 4), 0.1, 300))
    for n, d, lr, epochs in cases:
        _check_fit(student, n, d, lr, epochs)


def _check_fit(student, n, d, lr, epochs):
    g = student.generator
    x = torch.randn(n, d, generator=g)
    w = torch.randn(d, generator=g) * 3
    b = torch.randn(1, generator=g).item() * 2
    y = x @ w + b + 0.05 * torch.randn(n, generator=g)
    r = student.probe(call_fit, x=x, y=y, lr=lr, epochs=epochs, scramble=student.rng.randint(1, 2**31))
    expect("weight" in r, f"fit_linear should return the trained nn.Linear, but it returned {r.get('type')}")
    if epochs < 50:
        weight, bias = _reference_fit(x, y, lr, epochs)
        tensors_close(r["weight"], weight, rtol=1e-4, atol=1e-5,
                      name=f"the weight after {epochs} epochs with lr={lr:.3g} (call torch.manual_seed(0) "
                           "inside fit_linear, use the lr and epochs it is given, zero_grad, step, and "
                           "compare prediction and target of the same shape)")
        tensors_close(r["bias"], bias, rtol=1e-4, atol=1e-5, name=f"the bias after {epochs} epochs")
        return
    design = torch.cat([x, torch.ones(n, 1)], dim=1).double()
    solution = torch.linalg.lstsq(design, y.double().unsqueeze(1)).solution.squeeze(1).float()
    tensors_close(r["weight"], solution[:d].unsqueeze(0), rtol=0, atol=5e-3,
                  name="the trained weight (check zero_grad, step and that prediction and target "
                       "have the same shape)")
    tensors_close(r["bias"], solution[d:], rtol=0, atol=5e-3, name="the trained bias")


@probe
def call_coefficients(ns, sizes, state):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    model.load_state_dict(state)
    out = ns.last_layer_coefficients(model)
    if not isinstance(out, dict):
        return {"type": type(out).__name__}
    w, b = out.get("weight"), out.get("bias")
    plain = (int, float, bool, str, type(None))
    return {"keys": sorted(str(k) for k in out),
            "weight": [v if type(v) in plain else type(v).__name__ for v in w] if isinstance(w, list)
            else type(w).__name__,
            "bias": b if type(b) in plain else type(b).__name__}


@question("q10", points=2)
def test_coefficients(student):
    # one Linear(1, 1) alone, the example's two layers, and deeper and wider models
    for sizes in student.cases([1, 1], [4, 3, 1],
                               draw=lambda rng: [rng.randint(2, 9) for _ in range(rng.randint(3, 5))] + [1]):
        _check_coefficients(student, sizes)


def _check_coefficients(student, sizes):
    depth = len(sizes) - 1
    state = {}
    for i in range(depth):
        state[f"{2 * i}.weight"] = torch.randn(sizes[i + 1], sizes[i], generator=student.generator)
        state[f"{2 * i}.bias"] = torch.randn(sizes[i + 1], generator=student.generator)
    r = student.probe(call_coefficients, sizes=sizes, state=state)
    expect("keys" in r, f"last_layer_coefficients should return a dict, but it returned {r.get('type')}")
    expect(r["keys"] == ["bias", "weight"], "the dict should have exactly the keys 'weight' and 'bias'")
    weight = r["weight"]
    expect(type(weight) is list and all(type(v) is float for v in weight),
           "'weight' should be a list of Python floats (use .tolist())")
    assert_type(r["bias"], float, name="'bias'")
    last = 2 * (depth - 1)
    expected_w = state[f"{last}.weight"].flatten()
    expect(len(weight) == expected_w.numel(), "'weight' has the wrong number of values: read the "
           "weight of the last layer (its key starts with the last layer's position)")
    tensors_close(torch.tensor(weight, dtype=torch.float32), expected_w, rtol=1e-4, atol=1e-5,
                  name="'weight' (the last layer's weight)")
    bias = state[f"{last}.bias"].item()
    expect(abs(r["bias"] - bias) <= 1e-5 + 1e-4 * abs(bias), "'bias' is not the last layer's bias")


@probe
def call_save_load(ns, sizes, seed_a, seed_b, path, delta, x):
    import os
    torch.manual_seed(seed_a)
    a = nn.Linear(*sizes)
    torch.manual_seed(seed_b)
    b = nn.Linear(*sizes)
    result = {}
    try:
        ns.save_weights(a, path)
        try:
            content = torch.load(path, weights_only=True)     # a plain state_dict loads like this
        except Exception as exc:
            return {"file": type(exc).__name__}
        if not isinstance(content, dict):
            return {"file": type(content).__name__}
        result["file"] = {str(k): v.detach().clone() if isinstance(v, torch.Tensor) else type(v).__name__
                          for k, v in content.items()}
        returned = ns.load_weights(b, path)
        result["b"] = {k: v.detach().clone() for k, v in b.state_dict().items()}
        with torch.no_grad():
            b.weight.add_(delta)         # a change that only the model `b` itself shows
        if isinstance(returned, nn.Module):
            result["returned"] = returned(x).detach().clone()
        else:
            result["returned"] = type(returned).__name__
    finally:
        if os.path.exists(path):
            os.remove(path)
    return result


def check_state(got, expected, what):
    """`got`, a state dict the probe read, holds exactly the tensors of `expected`."""
    expect(type(got) is dict and sorted(got) == sorted(expected),
           f"the tensors {what} should be those of model.state_dict(): 'weight' and 'bias'")
    for key, value in expected.items():
        tensors_close(got[key], value.detach(), rtol=1e-4, atol=1e-5, name=f"'{key}' {what}")


@question("q11", points=2)
def test_save_load(student):
    for d, k in student.cases((1, 1), (3, 2), draw=lambda rng: (rng.randint(8, 16), rng.randint(5, 10))):
        _check_save_load(student, d, k)


def _check_save_load(student, d, k):
    seed_a, seed_b = student.rng.randint(0, 2**31), student.rng.randint(0, 2**31)
    delta = torch.randn(k, d, generator=student.generator)
    x = torch.randn(student.rng.randint(2, 6), d, generator=student.generator)
    r = student.probe(call_save_load, sizes=[d, k], seed_a=seed_a, seed_b=seed_b,
                      path=f"weights_{student.seed}.pt", delta=delta, x=x)
    torch.manual_seed(seed_a)
    a = torch.nn.Linear(d, k)
    expect(type(r.get("file")) is dict,
           "the file save_weights wrote should hold model.state_dict() (a dict of tensors saved with "
           "torch.save), not the whole model")
    check_state(r["file"], a.state_dict(), "in the file save_weights wrote (save model.state_dict())")
    check_state(r["b"], a.state_dict(), "of the model after load_weights (copy the saved tensors into the "
                "model with load_state_dict)")
    expect(type(r["returned"]) is torch.Tensor, "load_weights should return the model, but it returned "
           f"{r['returned']}")
    with torch.no_grad():
        expected = x @ (a.weight + delta).T + a.bias
    tensors_close(r["returned"], expected, rtol=1e-4, atol=1e-5,
                  name="the output of the model load_weights returned (return `model` itself)")

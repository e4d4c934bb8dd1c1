"""Q9: linear regression with nn.Linear, MSELoss and SGD.  Q10: coefficients from state_dict.
Q11: saving and loading a state_dict."""

import torch

from grader.testing import assert_type, expect, probe, question, tensors_close


@probe
def call_fit(ns, x, y):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ns.fit_linear(x, y, lr=0.1, epochs=300)
    if not isinstance(model, nn.Linear):
        return {"type": type(model).__name__, "ok": False}
    return {"ok": True, "type": type(model).__name__,
            "weight": model.weight.detach().clone(), "bias": model.bias.detach().clone()}


@question("q9", points=3)
def test_fit_linear(student):
    n, d = student.rng.randint(60, 150), student.rng.randint(2, 4)
    g = student.generator
    x = torch.randn(n, d, generator=g)
    w = torch.randn(d, generator=g) * 3
    b = torch.randn(1, generator=g).item() * 2
    y = x @ w + b + 0.05 * torch.randn(n, generator=g)
    r = student.probe(call_fit, x=x, y=y)
    expect(r["ok"], f"fit_linear should return the trained nn.Linear, but it returned {r['type']}")
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
        return {"ok": False, "type": type(out).__name__}
    w, b = out.get("weight"), out.get("bias")
    return {"ok": True, "type": "dict", "keys": sorted(str(k) for k in out),
            "weight_type": type(w).__name__, "bias_type": type(b).__name__,
            "weight": w if isinstance(w, list) and all(type(v) is float for v in w) else None,
            "bias": b if type(b) is float else None}


@question("q10", points=2)
def test_coefficients(student):
    depth = student.rng.randint(3, 4)       # never the 2 layers of the public example
    sizes = [student.rng.randint(2, 6) for _ in range(depth)] + [1]
    state = {}
    for i in range(depth):
        state[f"{2 * i}.weight"] = torch.randn(sizes[i + 1], sizes[i], generator=student.generator)
        state[f"{2 * i}.bias"] = torch.randn(sizes[i + 1], generator=student.generator)
    r = student.probe(call_coefficients, sizes=sizes, state=state)
    expect(r["ok"], f"last_layer_coefficients should return a dict, but it returned {r['type']}")
    expect(r["keys"] == ["bias", "weight"], "the dict should have exactly the keys 'weight' and 'bias'")
    expect(r["weight"] is not None, "'weight' should be a list of Python floats (use .tolist()), "
           f"but it is {r['weight_type']}")
    assert_type(r["bias"], float, name="'bias'")
    last = 2 * (depth - 1)
    expected_w = state[f"{last}.weight"].flatten()
    expect(len(r["weight"]) == expected_w.numel(), "'weight' has the wrong number of values: read the "
           "weight of the last layer (its key starts with the last layer's position)")
    tensors_close(torch.tensor(r["weight"]), expected_w, name="'weight' (the last layer's weight)")
    expect(abs(r["bias"] - state[f"{last}.bias"].item()) < 1e-6, "'bias' is not the last layer's bias")


@probe
def call_save_load(ns, state_a, state_b, path):
    import os
    a = nn.Linear(state_a["weight"].shape[1], state_a["weight"].shape[0])
    a.load_state_dict(state_a)
    b = nn.Linear(state_b["weight"].shape[1], state_b["weight"].shape[0])
    b.load_state_dict(state_b)
    result = {"saved": False}
    try:
        ns.save_weights(a, path)
        result["saved"] = os.path.exists(path)
        if not result["saved"]:
            return result
        try:
            content = torch.load(path, weights_only=True)
            result["is_dict"] = isinstance(content, dict)
            result["keys"] = sorted(str(k) for k in content) if isinstance(content, dict) else None
        except Exception:
            result["is_dict"] = False
        returned = ns.load_weights(b, path)
        result["returned_model"] = returned is b
        result["returned_type"] = type(returned).__name__
        result["b"] = {k: v.detach().clone() for k, v in b.state_dict().items()}
    finally:
        if os.path.exists(path):
            os.remove(path)
    return result


@question("q11", points=2)
def test_save_load(student):
    d, k = student.rng.randint(2, 6), student.rng.randint(1, 4)
    g = student.generator
    state_a = {"weight": torch.randn(k, d, generator=g), "bias": torch.randn(k, generator=g)}
    state_b = {"weight": torch.randn(k, d, generator=g), "bias": torch.randn(k, generator=g)}
    r = student.probe(call_save_load, state_a=state_a, state_b=state_b, path=f"weights_{student.seed}.pt")
    expect(r["saved"], "save_weights did not write a file at the given path")
    expect(r["is_dict"] and r["keys"] == ["bias", "weight"],
           "the saved file should hold model.state_dict() (a dict of tensors), not the whole model")
    expect(r["returned_model"], f"load_weights should return the model, but it returned {r['returned_type']}")
    for key in ("weight", "bias"):
        tensors_close(r["b"][key], state_a[key], name=f"the loaded model's {key} "
                      "(copy the saved tensors into the model with load_state_dict)")

"""Q7: get_device and predict.  Q8: make_model seeds before creating the MLP.  Q9: train_model."""

import math

import torch

from grader.testing import assert_tensor, expect, probe, question, tensors_equal


# --------------------------------------------------------------------------------------------- Q7
@probe
def device_with_cuda(ns):
    original = torch.cuda.is_available
    answers = {}
    try:
        for available in (True, False):
            torch.cuda.is_available = lambda available=available: available
            answers[str(available)] = ns.get_device()
    finally:
        torch.cuda.is_available = original
    return {k: str(v) if isinstance(v, (str, torch.device)) else type(v).__name__ for k, v in answers.items()}


@question("q7", points=1)
def test_get_device(student):
    r = student.probe(device_with_cuda)
    expect(r["True"] == "cuda", "get_device() should return 'cuda' when torch.cuda.is_available() is true "
                                "(check it inside the function, each time it is called)")
    expect(r["False"] == "cpu", "get_device() should return 'cpu' when no GPU is available")


@probe
def predict_on_other_device(ns, logits, X):
    class ElsewhereModel(nn.Module):
        """Its parameters live on the 'meta' device; it records where its inputs were."""

        def __init__(self):
            super().__init__()
            self.anchor = nn.Parameter(torch.zeros(3, device="meta"))
            self.seen = []

        def forward(self, x):
            self.seen.append(str(x.device))
            return logits.clone()

    model = ElsewhereModel()
    preds = ns.predict(model, X)
    return {"seen": model.seen, "preds": preds.detach().clone() if isinstance(preds, torch.Tensor)
            and preds.device.type == "cpu" else type(preds).__name__,
            "preds_device": str(preds.device) if isinstance(preds, torch.Tensor) else None}


@question("q7", points=1)
def test_predict_moves_inputs_to_the_models_device(student):
    n, n_classes = student.rng.randint(5, 12), student.rng.randint(2, 5)
    logits = torch.randn(n, n_classes, generator=student.generator)
    X = torch.randn(n, 3, generator=student.generator)
    r = student.probe(predict_on_other_device, logits=logits, X=X)
    expect(len(r["seen"]) >= 1, "predict should call the model on X")
    expect(all(d == "meta" for d in r["seen"]),
           "predict called the model with inputs on a different device than the model's parameters: "
           "move X to next(model.parameters()).device first (the model may live on a device other "
           "than get_device())")
    expect(r["preds_device"] == "cpu", "predict should return its result on the CPU (.cpu())")
    tensors_equal(r["preds"], logits.argmax(dim=1), name="predict's result")


@probe
def predict_real(ns, state, X):
    model = nn.Sequential(nn.Linear(X.shape[1], state["0.weight"].shape[0]), nn.ReLU(), nn.Dropout(0.6),
                          nn.Linear(state["0.weight"].shape[0], state["3.weight"].shape[0]))
    model.load_state_dict(state)
    if torch.cuda.is_available():
        model = model.to("cuda")
    model.train()
    preds = ns.predict(model, X)
    if isinstance(preds, torch.Tensor):
        return {"preds": preds.detach().clone() if preds.device.type == "cpu" else None,
                "device": str(preds.device)}
    return {"preds": type(preds).__name__, "device": None}


@question("q7", points=1)
def test_predict_classes(student):
    g = student.generator
    n_features, n_hidden, n_classes = student.rng.randint(2, 6), 24, student.rng.randint(3, 5)
    net = torch.nn.Sequential(torch.nn.Linear(n_features, n_hidden), torch.nn.ReLU(), torch.nn.Dropout(0.6),
                              torch.nn.Linear(n_hidden, n_classes))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    X = torch.randn(student.rng.randint(30, 50), n_features, generator=g)
    r = student.probe(predict_real, state={k: v.clone() for k, v in net.state_dict().items()}, X=X)
    expect(r["device"] in (None, "cpu"), "predict should return its result on the CPU (.cpu())")
    net.eval()
    with torch.no_grad():
        expected = net(X).argmax(dim=1)
    assert_tensor(r["preds"], dtype=torch.int64, shape=expected.shape,
                  name="predict's result (the argmax class index of each row)")
    tensors_equal(r["preds"], expected,
                  name="predict's result (run the model in eval mode, so dropout is off, and take the "
                       "argmax of each row)")


# --------------------------------------------------------------------------------------------- Q8
@probe
def seeded_models(ns, seed, other_seed, noise_seed, sizes):
    def params(m):
        if not isinstance(m, nn.Module):
            return type(m).__name__
        return {n: p.detach().clone() for n, p in m.named_parameters()}

    torch.manual_seed(noise_seed)
    torch.rand(5)
    a = params(ns.make_model(seed, *sizes))
    torch.rand(17)
    b = params(ns.make_model(seed, *sizes))
    c = params(ns.make_model(other_seed, *sizes))
    return {"a": a, "b": b, "c": c}


def seed_case(student):
    rng = student.rng
    sizes = [rng.randint(2, 6), rng.randint(8, 24), rng.randint(2, 5)]
    seed = rng.randint(1, 10_000)
    r = student.probe(seeded_models, seed=seed, other_seed=seed + rng.randint(1, 99),
                      noise_seed=rng.randint(0, 10_000), sizes=sizes)
    for value in r.values():
        expect(isinstance(value, dict), f"make_model should return an nn.Module (your MLP), but it returned {value}")
    return r, seed, sizes


@question("q8", points=1)
def test_same_seed_same_model(student):
    r, seed, sizes = seed_case(student)
    a, b, c = r["a"], r["b"], r["c"]
    expect(list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a),
           "make_model with the same seed gave different weights: call torch.manual_seed(seed) "
           "first, then create the model")
    expect(any(not torch.equal(a[k], c[k]) for k in a),
           "make_model with different seeds gave the same weights: seed with the `seed` argument")


@question("q8", points=1)
def test_seed_then_create(student):
    r, seed, (n_features, n_hidden, n_classes) = seed_case(student)
    torch.manual_seed(seed)
    fc1, fc2 = torch.nn.Linear(n_features, n_hidden), torch.nn.Linear(n_hidden, n_classes)
    expected = {"fc1.weight": fc1.weight, "fc1.bias": fc1.bias, "fc2.weight": fc2.weight, "fc2.bias": fc2.bias}
    expect(list(r["a"]) == list(expected), "make_model should return your MLP(n_features, n_hidden, n_classes, p_drop)")
    for name, value in expected.items():
        tensors_equal(r["a"][name], value.detach(),
                      name=f"{name} of make_model's model (call torch.manual_seed(seed) right before creating "
                           "the MLP)")


# --------------------------------------------------------------------------------------------- Q9
@probe
def train_and_predict(ns, X_train, y_train, X_test, n_classes, seed):
    import time

    start = time.perf_counter()
    model = ns.train_model(X_train, y_train, n_classes, seed=seed)
    elapsed = time.perf_counter() - start
    if not isinstance(model, nn.Module):
        return {"type": type(model).__name__}
    params = list(model.parameters())
    device = params[0].device if params else torch.device("cpu")
    model.eval()
    with torch.no_grad():
        logits = model(X_test.to(device))
    return {"type": "Module", "seconds": elapsed, "shape": list(logits.shape),
            "logits": logits.detach().float().cpu(), "preds": logits.argmax(dim=1).cpu()}


def rings(student, n, n_classes, n_noise, gen_seed):
    """Concentric noisy rings, one per class, plus pure-noise features, standardised."""
    g = torch.Generator().manual_seed(gen_seed)
    y = torch.randint(0, n_classes, (n,), generator=g)
    radius = 1.0 + y.double() + torch.randn(n, generator=g, dtype=torch.float64) * 0.12
    angle = torch.rand(n, generator=g, dtype=torch.float64) * 2 * math.pi
    X = torch.cat([torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1),
                   torch.randn(n, n_noise, generator=g, dtype=torch.float64)], dim=1)
    X = X[:, torch.randperm(X.shape[1], generator=g)]
    return X, y


def training_data(student, n_train, n_test):
    rng = student.rng
    n_classes, n_noise, gen_seed = rng.randint(2, 4), rng.randint(0, 2), rng.randint(0, 2**31)
    X, y = rings(student, n_train + n_test, n_classes, n_noise, gen_seed)
    X_train, X_test = X[:n_train], X[n_train:]
    mean, std = X_train.mean(dim=0), X_train.std(dim=0)
    X_train, X_test = ((X_train - mean) / std).float(), ((X_test - mean) / std).float()
    return X_train, y[:n_train], X_test, y[n_train:], n_classes


@question("q9", points=3)
def test_train_model_reaches_target_accuracy(student):
    X_train, y_train, X_test, y_test, n_classes = training_data(student, 400, 400)
    r = student.probe(train_and_predict, X_train=X_train, y_train=y_train, X_test=X_test, n_classes=n_classes,
                      seed=student.rng.randint(0, 1000))
    expect(r["type"] == "Module", f"train_model should return the trained model (an nn.Module), but it "
                                  f"returned {r['type']}")
    expect(r["shape"] == [len(X_test), n_classes],
           "the model returned by train_model should map (M, n_features) inputs to (M, n_classes) logits")
    accuracy = (r["preds"] == y_test).double().mean().item()
    expect(accuracy >= 0.9,
           f"the trained model reached {accuracy:.1%} accuracy on held-out data, below the 90% required "
           "(check the loss, the optimizer steps and the model; a linear model cannot separate these classes)")


@question("q9", points=1)
def test_train_model_is_reproducible(student):
    X_train, y_train, X_test, y_test, n_classes = training_data(student, 200, 200)
    seed = student.rng.randint(0, 1000)
    first = student.probe(train_and_predict, X_train=X_train, y_train=y_train, X_test=X_test,
                          n_classes=n_classes, seed=seed)
    second = student.probe(train_and_predict, X_train=X_train, y_train=y_train, X_test=X_test,
                           n_classes=n_classes, seed=seed)
    for r in (first, second):
        expect(r["type"] == "Module", f"train_model should return the trained model (an nn.Module), but it "
                                      f"returned {r['type']}")
    expect(first["logits"].shape == second["logits"].shape and
           torch.allclose(first["logits"], second["logits"], rtol=1e-3, atol=1e-4),
           "train_model with the same data and seed gave different models: create the model with "
           "make_model(seed, ...) so that its initial weights (and dropout) are seeded")

"""Q7-Q9: seeded random_split, train/validation DataLoaders, WeightedRandomSampler."""

import torch
from torch.utils.data import random_split

from grader.testing import expect, probe, question, tensors_close, valid_tensor


@probe
def split(ns, n, val_fraction, seed):
    torch.manual_seed(seed + 12345)
    parts = ns.split_dataset(list(range(n)), val_fraction, seed)
    if not isinstance(parts, tuple):
        return {"parts": type(parts).__name__}
    return {"parts": tuple([p[i] for i in range(len(p))] for p in parts)}   # the items: 0..n-1 are indices


def draw_split(rng):
    """A size and fraction where round() and int() differ (so truncation shows)."""
    while True:
        n = rng.choice([rng.randint(20, 60), rng.randint(500, 2000)])
        frac = rng.choice([0.15, 0.25, 0.3, 0.35, 0.45])
        if (n * frac) % 1 > 0.55:
            return n, frac


@question("q7", points=2)
def test_seeded_split(student):
    # one sample (0.6 of it rounds to 1), the notebook's 235 rows and 0.2, then drawn
    for n, frac in student.cases((1, 0.6), (2, 0.5), (235, 0.2), draw=draw_split):
        check_split(student, n, frac)


def check_split(student, n, frac):
    rng = student.rng
    seed = rng.randint(0, 10_000)
    n_val = round(n * frac)
    expected = random_split(list(range(n)), [n - n_val, n_val], generator=torch.Generator().manual_seed(seed))
    r = student.probe(split, n=n, val_fraction=frac, seed=seed)
    expect(type(r["parts"]) is tuple and len(r["parts"]) == 2,
           "split_dataset should return the tuple (train_subset, val_subset) made by random_split")
    train, val = r["parts"]
    expect((len(train), len(val)) == (n - n_val, n_val),
           "the sizes of the subsets are wrong: n_val = round(len(dataset) * val_fraction), train first")
    expect(train == list(expected[0].indices) and val == list(expected[1].indices),
           "the split is not the one random_split gives with generator=torch.Generator().manual_seed(seed)")


@probe
def loaders(ns, n_train, n_val, batch_size):
    train_ds = torch.utils.data.TensorDataset(torch.arange(n_train))
    val_ds = torch.utils.data.TensorDataset(torch.arange(100, 100 + n_val))
    tl, vl = ns.make_loaders(train_ds, val_ds, batch_size)
    torch.manual_seed(0)
    val_epochs = [[b[0].tolist() for b in vl] for _ in range(2)]
    train_epochs = [[b[0].tolist() for b in tl] for _ in range(3)]
    return {"val": val_epochs, "train": train_epochs}


def draw_loaders(rng):
    """(n_train, n_val, batch_size): both sizes leave an incomplete last batch."""
    batch_size = rng.choice([rng.randint(3, 6), rng.randint(40, 64)])
    return (batch_size * rng.randint(3, 6) + rng.randint(1, batch_size - 1),
            batch_size * rng.randint(2, 4) + rng.randint(1, batch_size - 1), batch_size)


# batches of one (7 training samples: 3 epochs in one order would be a 1 in 5040**2 chance), the
# notebook's 188 / 47 samples in batches of 32, then drawn
LOADER_CASES = ((7, 1, 1), (188, 47, 32))


def loader_cases(student):
    return student.cases(*LOADER_CASES, draw=draw_loaders)


def run_loaders(student, n_train, n_val, batch_size):
    r = student.probe(loaders, n_train=n_train, n_val=n_val, batch_size=batch_size)
    expect(all(len(b) == batch_size for e in [*r["val"], *r["train"]] for b in e[:-1]),
           "both loaders should use the given batch_size")
    return r, n_train, n_val, batch_size


@question("q8", points=2)
def test_val_loader(student):
    for case in loader_cases(student):
        check_val_loader(student, *case)


def check_val_loader(student, n_train, n_val, batch_size):
    r, _, n_val, batch_size = run_loaders(student, n_train, n_val, batch_size)
    expected = list(range(100, 100 + n_val))
    expected = [expected[i:i + batch_size] for i in range(0, n_val, batch_size)]
    samples = [sorted(x for b in e for x in b) for e in r["val"]]
    expect(r["val"][0] == r["val"][1] and [x for b in r["val"][0] for x in b] == sorted(samples[0]),
           "the validation loader should not shuffle (shuffle=False): it must give the same order every epoch")
    expect(samples[0] == [x for b in expected for x in b],
           "the validation loader should keep the last, smaller batch (drop_last=False)")
    expect(r["val"] == [expected, expected], "the validation loader should give every validation sample, in order")


@question("q8", points=1)
def test_train_loader(student):
    for case in loader_cases(student):
        check_train_loader(student, *case)


def check_train_loader(student, n_train, n_val, batch_size):
    r, n_train, _, batch_size = run_loaders(student, n_train, n_val, batch_size)
    expect(len({str(e) for e in r["train"]}) > 1,
           "the training loader should shuffle (shuffle=True): a new order every epoch")
    expect(all(len(b) == batch_size for e in r["train"] for b in e),
           "the training loader should drop the last incomplete batch (drop_last=True)")
    expect(all(len(e) == n_train // batch_size and len({x for b in e for x in b}) == len(e) * batch_size
               and {x for b in e for x in b} <= set(range(n_train)) for e in r["train"]),
           "each training epoch should give distinct samples in full batches")


@probe
def balanced(ns, labels, batch_size, seed):
    ds = torch.utils.data.TensorDataset(torch.arange(len(labels)))
    loader = ns.make_balanced_loader(ds, labels, batch_size, seed)
    weights = getattr(getattr(loader, "sampler", None), "weights", None)
    return {"weights": weights if isinstance(weights, torch.Tensor) else None,
            "drawn": [b[0].tolist() for b in loader]}


def check_weights(r, labels):
    """The sampler's weights, checked against 1 / class size before any use."""
    expect(r["weights"] is not None,
           "make_balanced_loader should return a DataLoader whose sampler is a WeightedRandomSampler")
    w = r["weights"]
    expect(w.dim() == 1 and tuple(w.shape) == (len(labels),),
           "the sampler needs one weight per sample (not one per class)")
    w = valid_tensor(w, dtype=torch.float64, name="the sampler's weights")
    expect(bool((w >= 0).all()) and float(w.sum()) > 0, "the sampler's weights should be positive")
    expected = 1.0 / torch.bincount(labels)[labels].double()
    tensors_close(w / w.sum(), expected / expected.sum(), rtol=1e-5, atol=1e-7,
                  name="the sampler's weights (normalised): each sample should weigh 1 / size of its class")
    return w


def draw_counts(rng):
    """(samples per class, batch size): 2 to 4 classes, or many larger ones."""
    if rng.random() < 0.5:
        return [rng.randint(2, 15) for _ in range(rng.randint(2, 4))], rng.randint(3, 8)
    return [rng.randint(10, 80) for _ in range(rng.randint(5, 8))], rng.randint(16, 64)


# one sample of one class in batches of one, the notebook's 200 / 35 in batches of 50, three classes
COUNT_CASES = (([1], 1), ([200, 35], 50), ([6, 2, 9], 4))


def labels_of(rng, counts):
    labels = [c for c, k in enumerate(counts) for _ in range(k)]
    rng.shuffle(labels)
    return torch.tensor(labels)


@question("q9", points=2)
def test_sampler_weights(student):
    for counts, batch_size in student.cases(*COUNT_CASES, draw=draw_counts):
        check_sampler(student, labels_of(student.rng, counts), batch_size)


def check_sampler(student, labels, batch_size):
    rng = student.rng
    r = student.probe(balanced, labels=labels, batch_size=batch_size, seed=rng.randint(0, 999))
    check_weights(r, labels)
    expect(all(len(b) == batch_size for b in r["drawn"][:-1]) and 0 < len(r["drawn"][-1]) <= batch_size,
           "the loader should use the given batch_size")
    drawn = [i for b in r["drawn"] for i in b]
    expect(len(drawn) == len(labels) and set(drawn) <= set(range(len(labels))),
           "the sampler should draw num_samples=len(labels) indices with replacement=True")


@question("q9", points=1)
def test_sampler_seeded(student):
    for counts, batch_size in student.cases(*COUNT_CASES, draw=draw_counts):
        check_seeded(student, labels_of(student.rng, counts), batch_size)


def check_seeded(student, labels, batch_size):
    rng = student.rng
    seed = rng.randint(0, 999)
    r = student.probe(balanced, labels=labels, batch_size=batch_size, seed=seed)
    weights = check_weights(r, labels)
    expected = torch.multinomial(weights, len(labels), True, generator=torch.Generator().manual_seed(seed)).tolist()
    drawn = [i for b in r["drawn"] for i in b]
    expect(drawn == expected, "the sampler should draw with generator=torch.Generator().manual_seed(seed), so "
           "the same seed gives the same batches")

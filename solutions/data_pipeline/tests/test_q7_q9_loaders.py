"""Q7-Q9: seeded random_split, train/validation DataLoaders, WeightedRandomSampler."""

import torch
from torch.utils.data import random_split

from grader.testing import expect, probe, question, tensors_close


@probe
def split(ns, n, val_fraction, seed):
    torch.manual_seed(seed + 12345)
    parts = ns.split_dataset(list(range(n)), val_fraction, seed)
    return {"n_parts": len(parts) if isinstance(parts, tuple) else -1,
            "types": [type(p).__name__ for p in parts] if isinstance(parts, tuple) else [],
            "indices": [list(p.indices) for p in parts] if isinstance(parts, tuple) else []}


@question("q7", points=2)
def test_seeded_split(student):
    rng = student.rng
    while True:
        n, frac = rng.randint(20, 60), rng.choice([0.15, 0.2, 0.25, 0.3, 0.35])
        if (n * frac) % 1 > 0.55:
            break
    seed = rng.randint(0, 10_000)
    n_val = round(n * frac)
    expected = random_split(list(range(n)), [n - n_val, n_val], generator=torch.Generator().manual_seed(seed))
    r = student.probe(split, n=n, val_fraction=frac, seed=seed)
    expect(r["n_parts"] == 2 and r["types"] == ["Subset", "Subset"],
           "split_dataset should return the tuple (train_subset, val_subset) made by random_split")
    train, val = r["indices"]
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
    return {"types": [type(tl).__name__, type(vl).__name__],
            "batch_size": [tl.batch_size, vl.batch_size], "drop_last": [tl.drop_last, vl.drop_last],
            "samplers": [type(tl.sampler).__name__, type(vl.sampler).__name__],
            "val": val_epochs, "train": train_epochs}


def run_loaders(student):
    rng = student.rng
    batch_size = rng.randint(3, 6)
    n_train = batch_size * rng.randint(3, 6) + rng.randint(1, batch_size - 1)
    n_val = batch_size * rng.randint(2, 4) + rng.randint(1, batch_size - 1)
    r = student.probe(loaders, n_train=n_train, n_val=n_val, batch_size=batch_size)
    expect(r["types"] == ["DataLoader", "DataLoader"], "make_loaders should return two DataLoaders")
    expect(r["batch_size"] == [batch_size, batch_size], "both loaders should use the given batch_size")
    return r, n_train, n_val, batch_size


@question("q8", points=2)
def test_val_loader(student):
    r, _, n_val, batch_size = run_loaders(student)
    expected = list(range(100, 100 + n_val))
    expected = [expected[i:i + batch_size] for i in range(0, n_val, batch_size)]
    expect(r["samplers"][1] == "SequentialSampler" and r["val"][0] == r["val"][1],
           "the validation loader should not shuffle (shuffle=False): it must give the same order every epoch")
    expect(not r["drop_last"][1], "the validation loader should keep the last, smaller batch (drop_last=False)")
    expect(r["val"][0] == expected, "the validation loader should give every validation sample, in order")


@question("q8", points=1)
def test_train_loader(student):
    r, n_train, _, batch_size = run_loaders(student)
    expect(r["samplers"][0] == "RandomSampler" and len({str(e) for e in r["train"]}) > 1,
           "the training loader should shuffle (shuffle=True): a new order every epoch")
    expect(r["drop_last"][0] and all(len(b) == batch_size for e in r["train"] for b in e),
           "the training loader should drop the last incomplete batch (drop_last=True)")
    expect(all(len(e) == n_train // batch_size and len({x for b in e for x in b}) == len(e) * batch_size
               for e in r["train"]), "each training epoch should give distinct samples in full batches")


@probe
def balanced(ns, labels, batch_size, seed):
    ds = torch.utils.data.TensorDataset(torch.arange(len(labels)))
    loader = ns.make_balanced_loader(ds, labels, batch_size, seed)
    s = loader.sampler
    is_wrs = isinstance(s, torch.utils.data.WeightedRandomSampler)
    return {"loader": type(loader).__name__, "sampler": type(s).__name__, "batch_size": loader.batch_size,
            "weights": s.weights if is_wrs else None, "num_samples": s.num_samples if is_wrs else None,
            "replacement": s.replacement if is_wrs else None,
            "drawn": [b[0].tolist() for b in loader]}


@question("q9", points=2)
def test_sampler_weights(student):
    rng = student.rng
    n_classes = rng.randint(2, 4)
    counts = [rng.randint(2, 15) for _ in range(n_classes)]
    labels = [c for c, k in enumerate(counts) for _ in range(k)]
    rng.shuffle(labels)
    labels = torch.tensor(labels)
    batch_size = rng.randint(3, 8)
    r = student.probe(balanced, labels=labels, batch_size=batch_size, seed=rng.randint(0, 999))
    expect(r["loader"] == "DataLoader" and r["sampler"] == "WeightedRandomSampler",
           "make_balanced_loader should return a DataLoader whose sampler is a WeightedRandomSampler")
    expect(r["batch_size"] == batch_size, "the loader should use the given batch_size")
    w = r["weights"]
    expect(w is not None and tuple(w.shape) == (len(labels),),
           "the sampler needs one weight per sample (not one per class)")
    expected = 1.0 / torch.bincount(labels)[labels].double()
    tensors_close(w / w.sum(), expected / expected.sum(), rtol=1e-5, atol=1e-7,
                  name="the sampler's weights (normalised): each sample should weigh 1 / size of its class")
    expect(r["num_samples"] == len(labels) and r["replacement"] is True,
           "the sampler should draw num_samples=len(labels) indices with replacement=True")


@question("q9", points=1)
def test_sampler_seeded(student):
    rng = student.rng
    labels = torch.tensor([0] * rng.randint(10, 20) + [1] * rng.randint(2, 5))
    seed = rng.randint(0, 999)
    r = student.probe(balanced, labels=labels, batch_size=4, seed=seed)
    expect(r["weights"] is not None, "the loader's sampler should be a WeightedRandomSampler")
    weights = torch.as_tensor(r["weights"], dtype=torch.double)
    expected = torch.multinomial(weights, len(labels), True, generator=torch.Generator().manual_seed(seed)).tolist()
    drawn = [i for b in r["drawn"] for i in b]
    expect(drawn == expected, "the sampler should draw with generator=torch.Generator().manual_seed(seed), so "
           "the same seed gives the same batches")

"""Q1-Q3: TabularDataset over a judge-made CSV, StandardScaler, scaling fitted on train only."""

import torch

from grader.testing import assert_tensor, expect, probe, question, tensors_close, tensors_equal

FEATURE_POOL = ["age", "income", "heart_rate", "glucose", "weight_kg", "height_cm", "sleep_hours",
                "systolic_bp", "visits", "creatinine"]


# (train rows, test rows, feature columns): the smallest table, patients.csv's sizes, then drawn ones
TABLE_CASES = ((1, 1, 1), (235, 65, 5))


def draw_table(rng):
    return rng.choice([(rng.randint(9, 20), rng.randint(2, 9), rng.randint(2, 4)),
                       (rng.randint(60, 120), rng.randint(1, 3), rng.randint(7, 10))])


def make_table(rng, n_train=None, n_test=None, shift_test=False, n_features=None):
    """A random table: (csv text, feature names, {"train"|"test": (rows, labels)})."""
    names = rng.sample(FEATURE_POOL, n_features or rng.randint(2, 5))
    n_train = n_train or rng.randint(9, 20)
    n_test = n_test or rng.randint(4, 9)
    splits = ["train"] * n_train + ["test"] * n_test
    rng.shuffle(splits)
    scales = [10 ** rng.randint(-1, 4) for _ in names]
    header = ["patient_id"] + names[:1] + ["notes"] + names[1:] + ["split", "label"]
    header = header if len(names) > 1 else ["patient_id", "notes", names[0], "split", "label"]
    lines, rows = [",".join(header)], {"train": ([], []), "test": ([], [])}
    for i, split in enumerate(splits):
        offset = 5.0 if (shift_test and split == "test") else 0.0
        values = [round(rng.gauss(offset, 1.0) * s + 2 * s, 2) for s in scales]
        label = rng.randint(0, 1)
        note = rng.choice(["feels fine", "Chest pain and tired", "no complaints", "walks daily"])
        cells = ([repr(values[0]), note] + [repr(v) for v in values[1:]] if len(values) > 1
                 else [note, repr(values[0])])
        lines.append(",".join([f"X{i:03d}"] + cells + [split, str(label)]))
        rows[split][0].append(values)
        rows[split][1].append(label)
    return "\n".join(lines) + "\n", names, rows


def same_values(got, want) -> bool:
    """Whether tensor `got` holds `want`'s values (any numeric dtype, NaN never matching)."""
    return bool(torch.allclose(got.double(), want.double(), rtol=1e-5, atol=1e-3))


@probe
def tabular(ns, csv_text, filename, train, indices, shift):
    def plain(item):
        if not isinstance(item, tuple):
            return None
        return [v.clone() if isinstance(v, torch.Tensor) else v for v in item]

    with open(filename, "w") as f:
        f.write(csv_text)
    ds = ns.TabularDataset(filename, train=train)
    try:                                     # a list concatenates with a list; a pandas Index adds elementwise
        names = list(ds.feature_names + ["<end>"])
    except Exception:
        names = None
    out = {"len": len(ds), "names": names,
           "data": ds.data.clone() if isinstance(ds.data, torch.Tensor) else ds.data, "labels": ds.labels,
           "items": [plain(ds[i]) for i in indices]}
    try:                                     # a Dataset subclass concatenates with +
        out["concat"] = plain((ds + ds)[len(ds)])
    except Exception:
        out["concat"] = None
    if isinstance(ds.data, torch.Tensor) and ds.data.is_floating_point():
        ds.data.add_(shift)                  # __getitem__ reading self.data sees this
    out["after"] = [plain(ds[i]) for i in indices[:2]]
    return out


def check_tabular(student, train):
    for n_train, n_test, n_features in student.cases(*TABLE_CASES, draw=draw_table):
        check_table(student, train, n_train, n_test, n_features)


def check_table(student, train, n_train, n_test, n_features):
    csv_text, names, rows = make_table(student.rng, n_train, n_test, n_features=n_features)
    split = "train" if train else "test"
    x = torch.tensor(rows[split][0], dtype=torch.float64).float()
    y = torch.tensor(rows[split][1], dtype=torch.int64)
    n = len(y)
    indices = [0, n - 1] + [student.rng.randrange(n) for _ in range(3)]
    shift = student.rng.randint(100, 900) + 0.5
    r = student.probe(tabular, csv_text=csv_text, filename=f"judge_{student.seed % 1000}.csv",
                      train=train, indices=indices, shift=shift)
    concat = r["concat"]
    expect(concat is not None and len(concat) == 2 and isinstance(concat[0], torch.Tensor)
           and concat[0].shape == x[0].shape and same_values(concat[0], x[0]),
           "TabularDataset should subclass torch.utils.data.Dataset (so that, for example, ds + ds "
           "concatenates two datasets)")
    expect(r["names"] == names + ["<end>"],
           "feature_names should be a list (not a pandas Index) of every column except patient_id, notes, "
           "split and label, in the order of the file (the hidden tests use tables with other columns)")
    expect(r["len"] == n, f"len() of the {split} dataset is not the number of {split} rows of the file "
           "(check __len__ and the row selection with the train flag)")
    tensors_close(r["data"], x, name=f"the {split} dataset's self.data")
    tensors_equal(r["labels"], y, name=f"the {split} dataset's self.labels")
    for i, item in zip(indices, r["items"]):
        expect(item is not None and len(item) == 2, "dataset[idx] should return a tuple (features, label)")
        tensors_close(item[0], x[i], name=f"the features of dataset[{i}]")
        tensors_equal(item[1], y[i], name=f"the label of dataset[{i}]")
    own = all(item is not None and len(item) == 2 and isinstance(item[0], torch.Tensor)
              and item[0].shape == x[i].shape and same_values(item[0], x[i] + shift)
              for i, item in zip(indices, r["after"]))
    expect(own, "dataset[idx] does not return row idx of the dataset's own self.data "
           "(does __getitem__ read a global variable instead of self?)")


@question("q1", points=2)
def test_train_split(student):
    check_tabular(student, train=True)


@question("q1", points=1)
def test_test_split(student):
    check_tabular(student, train=False)


@probe
def scaler_run(ns, x, z):
    s = ns.StandardScaler()
    fitted = s.fit(x)
    out = {"mean": s.mean, "std": s.std, "transform": s.transform(x), "inverse": s.inverse_transform(z)}
    try:                                     # only the fitted scaler itself (return self) can do this
        out["chained"] = fitted.transform(x)
    except Exception:
        out["chained"] = None
    out["x_after"] = x.clone()
    return out


# (rows, columns, dtype): one row and one column, the notebook's 2 x 3, float64, then drawn ones
SCALER_CASES = ((1, 1, "float32"), (2, 3, "float32"), (6, 4, "float64"))


def draw_scaler(rng):
    return rng.choice([(rng.randint(5, 12), rng.randint(2, 5), "float32"),
                       (rng.randint(150, 300), rng.randint(12, 20), rng.choice(["float32", "float64"]))])


def scaler_input(student, n, f, dtype):
    rng, g = student.rng, student.generator
    scale = torch.tensor([10.0 ** rng.randint(-2, 4) for _ in range(f)])
    x = (torch.randn(n, f, generator=g) * scale + 3.0).to(getattr(torch, dtype))
    x[:, rng.randrange(f)] = float(rng.randint(-5, 5))
    return x, torch.randn(n, f, generator=g).to(x.dtype)


@question("q2", points=2)
def test_scaler_fit_transform(student):
    for n, f, dtype in student.cases(*SCALER_CASES, draw=draw_scaler):
        check_scaler(student, *scaler_input(student, n, f, dtype))


def check_scaler(student, x, z):
    r = student.probe(scaler_run, x=x, z=z)
    mean = x.mean(dim=0)
    std = x.std(dim=0, unbiased=False)
    std = torch.where(std == 0, torch.ones_like(std), std)
    chained = r["chained"]
    expect(isinstance(chained, torch.Tensor) and chained.shape == x.shape
           and same_values(chained, (x - mean) / std),
           "fit should return the scaler itself (return self)")
    expect(torch.equal(r["x_after"], x), "fit or transform changed x in place")
    tensors_close(r["mean"], mean, rtol=1e-4, atol=1e-4, name="scaler.mean (one mean per column)")
    assert_tensor(r["std"], dtype=std.dtype, shape=std.shape, name="scaler.std")
    expect(bool(torch.isfinite(r["std"]).all()) and bool((r["std"] != 0).all()),
           "scaler.std should replace the std of a constant column (0) by 1")
    tensors_close(r["std"], std, rtol=1e-4, atol=1e-4,
                  name="scaler.std (the population std of each column: divide by N, not N-1)")
    tensors_close(r["transform"], (x - mean) / std, rtol=1e-4, atol=1e-4, name="transform(x)")


@question("q2", points=1)
def test_scaler_inverse(student):
    for n, f, dtype in student.cases(*SCALER_CASES, draw=draw_scaler):
        x, z = scaler_input(student, n, f, dtype)
        r = student.probe(scaler_run, x=x, z=z)
        mean, std = x.mean(dim=0), x.std(dim=0, unbiased=False)
        std = torch.where(std == 0, torch.ones_like(std), std)
        tensors_close(r["inverse"], z * std + mean, rtol=1e-4, atol=1e-4,
                      name="inverse_transform(z) (it should undo transform)")


@probe
def scaled(ns, csv_text, filename):
    with open(filename, "w") as f:
        f.write(csv_text)
    train_ds, test_ds, scaler = ns.make_scaled_datasets(filename)
    return {"mean": scaler.mean, "std": scaler.std, "train": train_ds.data, "test": test_ds.data}


@question("q3", points=2)
def test_scaler_fitted_on_train_only(student):
    for n_train, n_test, n_features in student.cases(*TABLE_CASES, draw=draw_table):
        check_scaled(student, n_train, n_test, n_features)


def check_scaled(student, n_train, n_test, n_features):
    csv_text, names, rows = make_table(student.rng, n_train, n_test, shift_test=True, n_features=n_features)
    train = torch.tensor(rows["train"][0], dtype=torch.float64).float()
    test = torch.tensor(rows["test"][0], dtype=torch.float64).float()
    r = student.probe(scaled, csv_text=csv_text, filename=f"judge_q3_{student.seed % 1000}.csv")
    mean, std = train.mean(dim=0), train.std(dim=0, unbiased=False)
    std = torch.where(std == 0, torch.ones_like(std), std)
    both = torch.cat([train, test])
    expect(not torch.allclose(r["mean"], both.mean(dim=0), rtol=1e-4),
           "the scaler was fitted on all rows (train and test): fit it on the training split only")
    tensors_close(r["mean"], mean, rtol=1e-4, atol=1e-4, name="the scaler's mean (fitted on the train split)")
    tensors_close(r["std"], std, rtol=1e-4, atol=1e-4, name="the scaler's std (fitted on the train split)")
    tensors_close(r["train"], (train - mean) / std, rtol=1e-4, atol=1e-4, name="train_ds.data after scaling")
    tensors_close(r["test"], (test - mean) / std, rtol=1e-4, atol=1e-4,
                  name="test_ds.data after scaling (with the scaler fitted on train)")

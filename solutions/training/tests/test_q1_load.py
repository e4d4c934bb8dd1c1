"""Q1: load_penguins reads a CSV into standardised float32 inputs and int64 class labels."""

import torch

from grader.testing import assert_tensor, expect, probe, question, tensors_close, tensors_equal

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
SPECIES = ["Adelie", "Chinstrap", "Gentoo"]
MEANS = {"Adelie": (38.8, 18.3, 190.0, 3700.0), "Chinstrap": (48.8, 18.4, 195.8, 3733.0),
         "Gentoo": (47.5, 15.0, 217.2, 5076.0)}
SPREAD = (2.5, 1.0, 6.0, 450.0)


@probe
def load_csv(ns, text):
    import os
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".csv")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    try:
        result = ns.load_penguins(path)
    finally:
        os.remove(path)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return {"type": type(result).__name__}
    X, y = result
    return {"X": X.detach().clone() if isinstance(X, torch.Tensor) else type(X).__name__,
            "y": y.detach().clone() if isinstance(y, torch.Tensor) else type(y).__name__}


def make_csv(student, n, integers):
    """A penguin table of `n` rows with the columns in a shuffled order and the species mixed up;
    with `integers`, flipper length and body mass are written as integers (as in penguins.csv)."""
    rng = student.rng
    species = [rng.choice(SPECIES) for _ in range(n)]
    species[rng.randrange(n)] = "Chinstrap"  # the first species in the file is rarely Adelie
    species[0] = rng.choice(["Chinstrap", "Gentoo"])
    rows = []
    for s in species:
        values = [round(rng.gauss(mu, sd), 1) for mu, sd in zip(MEANS[s], SPREAD)]
        if integers:
            values[2:] = [int(round(v)) for v in values[2:]]
        rows.append({"species": s, "island": rng.choice(["Biscoe", "Dream", "Torgersen"]),
                     "sex": rng.choice(["male", "female"]), **dict(zip(FEATURES, values))})
    if n == 2:                               # two rows must differ in every column (std > 0)
        for c, step in zip(FEATURES, (1.5, 0.7, 4, 300)):
            if abs(rows[0][c] - rows[1][c]) < step / 2:
                rows[1][c] = rows[0][c] + step
    columns = ["species", "island", "sex", *FEATURES]
    while columns[-4:] == FEATURES or columns.index("bill_length_mm") == 3:
        rng.shuffle(columns)
    text = ",".join(columns) + "\n" + "".join(",".join(str(r[c]) for c in columns) + "\n" for r in rows)
    raw = torch.tensor([[r[c] for c in FEATURES] for r in rows], dtype=torch.float64).to(torch.float32)
    X = (raw - raw.mean(dim=0)) / raw.std(dim=0)
    y = torch.tensor([SPECIES.index(s) for s in species], dtype=torch.int64)
    return text, X, y


def csv_cases(student):
    """Two rows (the fewest a standard deviation allows), the notebook's 300 with integer columns
    as in penguins.csv, and drawn sizes far from it."""
    return student.cases((2, False), (300, True),
                         draw=lambda rng: (rng.choice([rng.randint(3, 30), rng.randint(500, 900)]),
                                           rng.random() < 0.5))


def loaded(student, n, integers):
    text, X, y = make_csv(student, n, integers)
    r = student.probe(load_csv, text=text)
    expect("X" in r, f"load_penguins should return a tuple (X, y), but it returned {r.get('type')}")
    return r, X, y


@question("q1", points=1)
def test_labels_are_int64_class_indices(student):
    for n, integers in csv_cases(student):
        r, X, y = loaded(student, n, integers)
        assert_tensor(r["y"], dtype=torch.int64, shape=y.shape,
                      name="y (class labels for CrossEntropyLoss must be int64 class indices)")
        tensors_equal(r["y"], y, name="y (the index of each row's species in SPECIES, rows in file order)")


@question("q1", points=1)
def test_inputs_are_standardised_float32(student):
    for n, integers in csv_cases(student):
        r, X, y = loaded(student, n, integers)
        assert_tensor(r["X"], dtype=torch.float32, shape=X.shape, name="X")
        tensors_close(r["X"], X, rtol=1e-4, atol=1e-4,
                      name="X (the FEATURES columns, picked by name, each standardised with its mean and "
                           "unbiased standard deviation)")

"""Builds data_pipeline.ipynb, the otter-assign master notebook of this assignment.

    .venv/bin/python solutions/data_pipeline/build_notebook.py

Each question is written once (explanation, solution, public tests) and turned into otter's
raw-cell layout; the points are checked against assignment.toml.  The data file patients.csv is
made by make_data.py (seeded).
"""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "data_pipeline.ipynb"

CONFIG = """\
# ASSIGNMENT CONFIG
name: data_pipeline
requirements: null
export_cell: false
generate: false
run_tests: false
init_cell: true
check_all_cell: false
environment: null
files: []
tests:
  files: false"""

INTRO = """\
# Data pipelines: `Dataset`, scaling, vocabularies, `collate_fn` and `DataLoader`

Before a model can learn, the data has to be read, cleaned, scaled, batched and shuffled. In this
assignment you build that pipeline (데이터 파이프라인) yourself:

* a custom `Dataset` (커스텀 데이터셋) over a CSV table, `patients.csv`, which sits next to this notebook,
* a standard scaler (표준화, 정규화) fitted on the training split only (데이터 누수 = data leakage),
* a vocabulary (어휘 사전) for short texts and a padding `collate_fn` (패딩),
* a seeded train/validation split (`random_split`), `DataLoader`s and a `WeightedRandomSampler`
  for imbalanced classes (클래스 불균형).

**How this notebook is graded**

* Every question says exactly which names to define (classes, functions, their arguments, what they
  return, with dtypes). Keep those names and signatures: the grader calls them.
* The public tests under each answer check one small example on `patients.csv`. The hidden tests
  use other tables (other columns, other sizes), other sentences and other seeds, so write code that
  works in general, not just for the example.
* Questions 3 and 5 build on earlier answers: `make_scaled_datasets` (question 3) calls your
  `TabularDataset` and `StandardScaler`, and `TextDataset` (question 5) calls your `encode`, so a bug
  there can also cost points in question 3 or 5; every other question is graded on its own.
* Where a float result is compared, the question states the tolerance: a value passes when
  `torch.allclose(yours, expected, rtol=..., atol=...)` holds with the numbers it gives.
* Where an `int` is asked for, a Python `int` and a `numpy.int64` both count; a float (`2.0`) does not.
* Printing inside your functions (to debug) is fine: no check depends on what your code prints.
* Before you submit, restart the kernel and run all cells from top to bottom.
* You may import `torch`, `pandas`, `numpy`, `matplotlib` (for your own plots) and the standard
  library; nothing else is installed where the notebook is graded."""

SETUP = """\
from collections import Counter

import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, TensorDataset, WeightedRandomSampler, random_split

torch.manual_seed(0)"""


def q(name, points, explanation, solution, tests, example=None):
    """`example`: an ordinary code cell after the question, for names later questions use (the public
    test cells run apart from the notebook, so what they define is not seen elsewhere)."""
    return {"name": name, "points": points, "explanation": explanation,
            "solution": solution, "tests": tests, "example": example}


QUESTIONS = []

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q1", 3, [r"""
## Question 1: a `Dataset` over a CSV table

A `torch.utils.data.Dataset` (데이터셋) is any object with two methods:

* `__len__(self)`: how many samples there are; `len(dataset)` calls it, and a `DataLoader` uses it
  to know which indices exist (0 .. len-1). Off by one here means a sample is never seen, or an
  `IndexError` in the middle of an epoch.
* `__getitem__(self, idx)`: sample number `idx`; `dataset[idx]` calls it.

Load the file **once** in `__init__` and keep what you need **on `self`** (e.g. `self.data`).
`__getitem__` must read from `self`, never from a global variable of the notebook: a second dataset
(e.g. the test split, or another file) would otherwise return the first one's rows.

`patients.csv` has these columns:

| column | meaning | use |
|---|---|---|
| `patient_id` | an id like `P0001` | drop (an id is not a feature) |
| `age`, `income`, `cholesterol`, `bmi`, `steps_per_day` | numbers on very different scales | features |
| `notes` | free text written by a nurse | drop here (used in question 4) |
| `split` | `"train"` or `"test"` | selects the rows |
| `label` | 0 or 1 | the target |
""", r"""
**Implement** `class TabularDataset(Dataset)`:

* `__init__(self, path, train=True)`: read the CSV at `path` (`pd.read_csv`); keep the rows whose
  `split` is `"train"` when `train` is true, else the rows whose `split` is `"test"` (in file order).
  The feature columns are **all columns except** `patient_id`, `notes`, `split` and `label`, in the
  order of the file (other files may have other feature columns, e.g. more or fewer of them, down to
  a single one, and a split may have a single row).
  Store
  * `self.feature_names`: the list of feature column names,
  * `self.data`: a `torch.float32` tensor of shape `(N, F)` (N kept rows, F features),
  * `self.labels`: a `torch.int64` tensor of shape `(N,)`.
* `__len__(self)`: the number N of kept rows.
* `__getitem__(self, idx)`: the tuple `(self.data[idx], self.labels[idx])`: a float32 tensor of
  shape `(F,)` and an int64 scalar tensor.

`self.data` and the features are compared with `rtol=1e-5, atol=1e-6` (the float32 values of the
file's numbers); `feature_names` must be a Python `list` (not a pandas `Index`), and the labels must be
equal.
"""], """\
class TabularDataset(Dataset):
    def __init__(self, path, train=True):
        # BEGIN SOLUTION
        df = pd.read_csv(path)
        df = df[df["split"] == ("train" if train else "test")]
        features = df.drop(columns=["patient_id", "notes", "split", "label"])
        self.feature_names = list(features.columns)
        self.data = torch.tensor(features.to_numpy(dtype="float64"), dtype=torch.float32)
        self.labels = torch.tensor(df["label"].to_numpy(), dtype=torch.int64)
        # END SOLUTION

    def __len__(self):
        return len(self.labels)  # SOLUTION

    def __getitem__(self, idx):
        return self.data[idx], self.labels[idx]  # SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):   # what your code prints is not checked
    q1_train = TabularDataset("patients.csv", train=True)
    q1_test = TabularDataset("patients.csv", train=False)
    q1_sizes = len(q1_train) + len(q1_test)
    q1_x, q1_y = q1_train[0]
    q1_last = q1_test[len(q1_test) - 1][0]
assert type(q1_train.feature_names) is list
assert q1_train.feature_names == ["age", "income", "cholesterol", "bmi", "steps_per_day"]
assert q1_sizes == 300
assert q1_x.dtype == torch.float32 and q1_x.shape == (5,)
assert q1_y.dtype == torch.int64 and q1_y.shape == ()
assert torch.equal(q1_last, q1_test.data[-1])"""], example="""\
# The two splits of patients.csv; later questions use them.
train_ds = TabularDataset("patients.csv", train=True)
test_ds = TabularDataset("patients.csv", train=False)"""))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q2", 3, [r"""
## Question 2: a standard scaler in torch

`income` is in the tens of thousands while `bmi` is around 26: without scaling, the large column
dominates the gradients. A standard scaler (표준화, z-score) shifts and scales every column:
$z = (x - \mu) / \sigma$, with the column mean $\mu$ and the **population** standard deviation
$\sigma$ (모표준편차: divide by N, not N-1; in torch `x.std(dim=0, unbiased=False)` or
`correction=0`). Statistics are computed per column, i.e. over `dim=0` (the rows).

A constant column has $\sigma = 0$ and dividing by it gives `nan`/`inf`; use 1 instead for such
columns, so the column just becomes 0 after centering.
""", r"""
**Implement** `class StandardScaler` (a plain class, not a module):

* `fit(self, x)`: `x` is a float tensor of shape `(N, F)` (float32 or float64, N and F at least 1).
  Store `self.mean` and `self.std`, tensors of shape `(F,)` and of the same dtype as `x`: the column means and population standard deviations, with every std that
  is exactly 0 replaced by 1. Return `self` (so `StandardScaler().fit(x)` gives the scaler).
* `transform(self, x)`: return `(x - self.mean) / self.std` (same shape as `x`).
* `inverse_transform(self, z)`: undo `transform`: return `z * self.std + self.mean`.

Do not change `x` in place. `mean`, `std` and the results are compared with `rtol=1e-4, atol=1e-4`.
"""], """\
class StandardScaler:
    def fit(self, x):
        # BEGIN SOLUTION
        self.mean = x.mean(dim=0)
        std = x.std(dim=0, unbiased=False)
        self.std = torch.where(std == 0, torch.ones_like(std), std)
        return self
        # END SOLUTION

    def transform(self, x):
        return (x - self.mean) / self.std  # SOLUTION

    def inverse_transform(self, z):
        return z * self.std + self.mean  # SOLUTION""", ["""\
import contextlib, io
q2_x = torch.tensor([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0]])
with contextlib.redirect_stdout(io.StringIO()):   # what your code prints is not checked
    q2_scaler = StandardScaler().fit(q2_x)
    q2_z = q2_scaler.transform(q2_x)
    q2_back = q2_scaler.inverse_transform(q2_z)
assert torch.allclose(q2_scaler.mean, torch.tensor([2.0, 20.0, 5.0]), rtol=1e-4, atol=1e-4)
assert torch.allclose(q2_scaler.std, torch.tensor([1.0, 10.0, 1.0]), rtol=1e-4, atol=1e-4)
assert torch.allclose(q2_z, torch.tensor([[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]]), rtol=1e-4, atol=1e-4)
assert torch.allclose(q2_back, q2_x, rtol=1e-4, atol=1e-4)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q3", 2, [r"""
## Question 3: scale without leaking the test set

The test split stands for data the model has never seen. If the scaler's mean and std are computed
on **all** rows, information from the test rows leaks into training (데이터 누수, data leakage) and
the test score looks better than it will be on new data. The rule: **fit on the training split only,
then transform both splits with that same scaler.**
""", r"""
**Implement** `make_scaled_datasets(path)`:

* build `train_ds = TabularDataset(path, train=True)` and `test_ds = TabularDataset(path, train=False)`,
* fit a `StandardScaler` on `train_ds.data` only,
* replace `train_ds.data` and `test_ds.data` by their transformed versions (float32),
* return the tuple `(train_ds, test_ds, scaler)`.

The scaler's `mean` and `std` and both datasets' `data` are compared with `rtol=1e-4, atol=1e-4`.
"""], """\
def make_scaled_datasets(path):
    # BEGIN SOLUTION
    train_ds = TabularDataset(path, train=True)
    test_ds = TabularDataset(path, train=False)
    scaler = StandardScaler().fit(train_ds.data)
    train_ds.data = scaler.transform(train_ds.data)
    test_ds.data = scaler.transform(test_ds.data)
    return train_ds, test_ds, scaler
    # END SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):   # what your code prints is not checked
    q3_train, q3_test, q3_scaler = make_scaled_datasets("patients.csv")
    q3_raw = TabularDataset("patients.csv").data
assert torch.allclose(q3_train.data.mean(dim=0), torch.zeros(5), rtol=1e-4, atol=1e-4)
assert torch.allclose(q3_train.data.std(dim=0, unbiased=False), torch.ones(5), rtol=1e-4, atol=1e-4)
assert torch.allclose(q3_scaler.mean, q3_raw.mean(dim=0), rtol=1e-4, atol=1e-4)
assert q3_test.data.dtype == torch.float32"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q4", 3, [r"""
## Question 4: a vocabulary (어휘 사전) for short texts

A model cannot read words; it reads integers. A vocabulary maps every token (토큰) to an index.
Two indices are reserved:

* `<pad>` = 0: the filler used to make short sentences as long as the longest one in a batch (패딩),
* `<unk>` = 1: any token that is not in the vocabulary (unknown word, 미등록 단어), e.g. a word
  seen only in the test set, or too rare to keep.

Here a sentence is tokenized by lower-casing it and splitting on whitespace:
`sentence.lower().split()`. `collections.Counter` counts tokens.
""", r"""
**Implement**

* `tokenize(sentence)`: the list `sentence.lower().split()`.
* `build_vocab(sentences, min_freq=1)`: a `dict` from token (str) to index (`int`). It starts with
  `{"<pad>": 0, "<unk>": 1}`; then come the tokens of all the sentences that occur **at least
  `min_freq` times** in total, sorted by **decreasing count, ties in alphabetical order**, with the
  indices 2, 3, 4, ...
* `encode(sentence, vocab)`: a 1-D `torch.int64` tensor with the index of each token of
  `tokenize(sentence)`, using 1 (`<unk>`) for tokens not in `vocab` (an empty sentence gives an
  empty int64 tensor).
"""], """\
def tokenize(sentence):
    return sentence.lower().split()  # SOLUTION


def build_vocab(sentences, min_freq=1):
    # BEGIN SOLUTION
    counts = Counter(token for sentence in sentences for token in tokenize(sentence))
    vocab = {"<pad>": 0, "<unk>": 1}
    for token, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if count >= min_freq:
            vocab[token] = len(vocab)
    return vocab
    # END SOLUTION


def encode(sentence, vocab):
    # BEGIN SOLUTION
    return torch.tensor([vocab.get(token, 1) for token in tokenize(sentence)], dtype=torch.int64)
    # END SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):   # what your code prints is not checked
    q4_toy = build_vocab(["the cat sat", "The dog sat", "a cat"])
    q4_min2 = build_vocab(["the cat sat", "The dog sat", "a cat"], min_freq=2)
    q4_bird = encode("The bird sat", q4_toy)
    q4_empty = encode("", q4_toy)
assert q4_toy == {"<pad>": 0, "<unk>": 1, "cat": 2, "sat": 3, "the": 4, "a": 5, "dog": 6}
assert q4_min2 == {"<pad>": 0, "<unk>": 1, "cat": 2, "sat": 3, "the": 4}
assert torch.equal(q4_bird, torch.tensor([4, 1, 3]))
assert q4_empty.dtype == torch.int64"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q5", 2, [r"""
## Question 5: a text `Dataset`

Now wrap the notes of `patients.csv` into a dataset whose items are (token indices, label). Each
item has its own length: the notes are not all equally long, which is why question 6 needs a
`collate_fn`.
""", r"""
**Implement** `class TextDataset(Dataset)`:

* `__init__(self, sentences, labels, vocab)`: `sentences` a list of str, `labels` a list of ints
  (same length), `vocab` a dict from question 4; keep them on `self`.
* `__len__(self)`: the number of sentences.
* `__getitem__(self, idx)`: the tuple `(encode(sentence, vocab), label)` for sentence number `idx`,
  where the label is an int64 scalar tensor (`torch.tensor(label, dtype=torch.int64)`). Use the
  dataset's own `vocab`, not a global one.
"""], """\
class TextDataset(Dataset):
    def __init__(self, sentences, labels, vocab):
        # BEGIN SOLUTION
        self.sentences = list(sentences)
        self.labels = list(labels)
        self.vocab = vocab
        # END SOLUTION

    def __len__(self):
        return len(self.sentences)  # SOLUTION

    def __getitem__(self, idx):
        # BEGIN SOLUTION
        return encode(self.sentences[idx], self.vocab), torch.tensor(self.labels[idx], dtype=torch.int64)
        # END SOLUTION""", ["""\
import contextlib, io
import pandas as pd
q5_patients = pd.read_csv("patients.csv")
with contextlib.redirect_stdout(io.StringIO()):   # what your code prints is not checked
    q5_vocab = build_vocab(q5_patients["notes"], min_freq=2)
    q5_ds = TextDataset(list(q5_patients["notes"]), list(q5_patients["label"]), q5_vocab)
    q5_len = len(q5_ds)
    q5_tokens, q5_label = q5_ds[0]
    q5_expected = encode(q5_patients["notes"][0], q5_vocab)
assert q5_len == 300
assert torch.equal(q5_tokens, q5_expected)
assert q5_label.dtype == torch.int64 and q5_label.shape == ()"""], example="""\
# The nurses' notes of patients.csv as a text dataset; question 6 batches it.
patients = pd.read_csv("patients.csv")
note_vocab = build_vocab(patients["notes"], min_freq=2)
notes_ds = TextDataset(list(patients["notes"]), list(patients["label"]), note_vocab)"""))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q6", 3, [r"""
## Question 6: a padding `collate_fn`

A `DataLoader` takes `batch_size` items from the dataset and hands the **list** of items to its
`collate_fn`, which must turn them into batch tensors. The default one stacks tensors, which fails
when the items have different lengths. Your `collate_fn` pads (패딩) every sequence with `<pad>` = 0
at the end, up to the length of the **longest sequence in this batch** (not a fixed maximum: that
wastes memory and computation, and truncates longer texts), and also returns the true lengths
(so that a model can ignore the padding later, e.g. with `pack_padded_sequence`).

`torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=0)` does the padding, or
write it with `torch.zeros` and a loop.
""", r"""
**Implement** `pad_collate(batch)`: `batch` is a list of B tuples `(tokens, label)` as returned by
`TextDataset` (tokens a 1-D int64 tensor, possibly of length 0, at least one non-empty; label an
int64 scalar tensor). Return the tuple `(padded, lengths, labels)`:

* `padded`: int64, shape `(B, L)` with `L` the longest length in the batch; row `i` starts with the
  tokens of item `i`, the rest is 0;
* `lengths`: int64, shape `(B,)`, the length of each item before padding;
* `labels`: int64, shape `(B,)`.

Keep the order of the items.
"""], """\
def pad_collate(batch):
    # BEGIN SOLUTION
    sequences = [tokens for tokens, _ in batch]
    lengths = torch.tensor([len(tokens) for tokens in sequences], dtype=torch.int64)
    padded = torch.zeros(len(batch), int(lengths.max()), dtype=torch.int64)
    for i, tokens in enumerate(sequences):
        padded[i, :len(tokens)] = tokens
    labels = torch.stack([label for _, label in batch]).to(torch.int64)
    return padded, lengths, labels
    # END SOLUTION""", ["""\
import contextlib, io
q6_batch = [(torch.tensor([5, 6, 7]), torch.tensor(1)), (torch.tensor([8]), torch.tensor(0))]
q6_items = [(torch.tensor([3, 4]), torch.tensor(0)), (torch.tensor([2, 9, 9, 5]), torch.tensor(1))] * 4
with contextlib.redirect_stdout(io.StringIO()):   # what your code prints is not checked
    q6_padded, q6_lengths, q6_labels = pad_collate(q6_batch)
    q6_loader = DataLoader(q6_items, batch_size=8, collate_fn=pad_collate)
    q6_lp, q6_ll, q6_lb = next(iter(q6_loader))
assert torch.equal(q6_padded, torch.tensor([[5, 6, 7], [8, 0, 0]]))
assert torch.equal(q6_lengths, torch.tensor([3, 1])) and torch.equal(q6_labels, torch.tensor([1, 0]))
assert q6_lp.shape == (8, 4) and torch.equal(q6_ll, torch.tensor([2, 4] * 4))"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q7", 2, [r"""
## Question 7: a seeded train/validation split

`random_split(dataset, [n_train, n_val], generator=...)` shuffles the indices and cuts them into
two `Subset`s. Without a generator it uses the global random state, so the split changes with
everything that ran before; with `torch.Generator().manual_seed(seed)` it is reproducible (재현성):
the same seed always gives the same split, whatever else the notebook did.
""", r"""
**Implement** `split_dataset(dataset, val_fraction, seed)`:

* `n_val = round(len(dataset) * val_fraction)` (Python's `round`), `n_train = len(dataset) - n_val`;
* return the tuple `(train_subset, val_subset)` from **one call**
  `random_split(dataset, [n_train, n_val], generator=torch.Generator().manual_seed(seed))`
  (in that order: train first).
"""], """\
def split_dataset(dataset, val_fraction, seed):
    # BEGIN SOLUTION
    n_val = round(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    generator = torch.Generator().manual_seed(seed)
    train_subset, val_subset = random_split(dataset, [n_train, n_val], generator=generator)
    return train_subset, val_subset
    # END SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):   # what your code prints is not checked
    q7_fit, q7_val = split_dataset(list(range(235)), 0.2, seed=42)
    q7_again = split_dataset(list(range(235)), 0.2, seed=42)[1]
assert len(q7_fit) == 188 and len(q7_val) == 47
assert sorted(q7_fit.indices + q7_val.indices) == list(range(235))
assert q7_again.indices == q7_val.indices"""], example="""\
# 20% of the training rows become the validation set; question 8 uses both parts.
fit_ds, val_ds = split_dataset(train_ds, 0.2, seed=42)"""))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q8", 3, [r"""
## Question 8: training and validation `DataLoader`s

* **Training** loader: `shuffle=True`, so every epoch sees the samples in a new order (the model
  must not learn the order); `drop_last=True`, so every batch has exactly `batch_size` samples
  (a tiny last batch gives a noisy gradient step, and breaks BatchNorm with one sample).
* **Validation** loader: `shuffle=False` and `drop_last=False`: evaluation must see **every**
  sample, and in a fixed order so that results are comparable between epochs and predictions line
  up with the rows. Shuffling the validation set buys nothing and makes it harder to debug.
""", r"""
**Implement** `make_loaders(train_ds, val_ds, batch_size)`: return the tuple
`(train_loader, val_loader)` of two `DataLoader`s with that `batch_size`: the first over `train_ds`
with `shuffle=True, drop_last=True`, the second over `val_ds` with `shuffle=False, drop_last=False`.
"""], """\
def make_loaders(train_ds, val_ds, batch_size):
    # BEGIN SOLUTION
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=batch_size, shuffle=False, drop_last=False)
    return train_loader, val_loader
    # END SOLUTION""", ["""\
import contextlib, io
q8_fit = TensorDataset(torch.randn(188, 5), torch.zeros(188, dtype=torch.int64))
q8_val = TensorDataset(torch.randn(47, 5), torch.zeros(47, dtype=torch.int64))
with contextlib.redirect_stdout(io.StringIO()):   # what your code prints is not checked
    q8_train_loader, q8_val_loader = make_loaders(q8_fit, q8_val, batch_size=32)
    q8_sizes = (len(q8_train_loader), len(q8_val_loader))
    q8_xb, q8_yb = next(iter(q8_val_loader))
assert q8_sizes == (188 // 32, 2)
assert q8_xb.shape == (32, 5) and q8_yb.shape == (32,)
assert torch.equal(q8_xb[0], q8_val[0][0])"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q9", 3, [r"""
## Question 9: balancing classes with `WeightedRandomSampler`

When one class is rare (클래스 불균형), random batches contain few of its samples. A
`WeightedRandomSampler(weights, num_samples, replacement=True, generator=...)` draws `num_samples`
indices, index `i` with probability proportional to `weights[i]` (one weight **per sample**, not per
class). Giving every sample the weight `1 / (number of samples of its class)` makes every class
equally likely in each draw. A `DataLoader` given a `sampler` must not also get `shuffle=True` (the
sampler decides the order).
""", r"""
**Implement** `make_balanced_loader(dataset, labels, batch_size, seed)`:

* `labels`: a 1-D int64 tensor with the class (0, 1, 2, ...) of every sample of `dataset`;
* the weight of sample `i` is `1 / count(labels[i])` (`torch.bincount` counts the classes);
* the sampler: `WeightedRandomSampler(weights, num_samples=len(labels), replacement=True,
  generator=torch.Generator().manual_seed(seed))`;
* return `DataLoader(dataset, batch_size=batch_size, sampler=sampler)`.

The sampler's weights are compared after dividing them by their sum (so float32 or float64 weights,
or any positive multiple of them, pass), with `rtol=1e-5, atol=1e-7`.
"""], """\
def make_balanced_loader(dataset, labels, batch_size, seed):
    # BEGIN SOLUTION
    counts = torch.bincount(labels)
    weights = 1.0 / counts[labels].double()
    sampler = WeightedRandomSampler(weights, num_samples=len(labels), replacement=True,
                                    generator=torch.Generator().manual_seed(seed))
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
    # END SOLUTION""", ["""\
import contextlib, io
q9_labels = torch.tensor([0] * 200 + [1] * 35)
q9_ds = TensorDataset(torch.arange(235), q9_labels)
with contextlib.redirect_stdout(io.StringIO()):   # what your code prints is not checked
    q9_loader = make_balanced_loader(q9_ds, q9_labels, batch_size=50, seed=0)
    q9_drawn = torch.cat([yb for _, yb in q9_loader])
assert type(q9_loader.sampler) is WeightedRandomSampler and len(q9_loader.sampler) == 235
assert len(q9_drawn) == 235 and abs(q9_drawn.float().mean().item() - 0.5) < 0.1"""]))


# ---------------------------------------------------------------------------------------------
def dedent(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def build() -> nbformat.NotebookNode:
    raw, md, code = nbformat.v4.new_raw_cell, nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [raw(CONFIG), md(INTRO), code(SETUP)]
    for question in QUESTIONS:
        cells.append(raw(f"# BEGIN QUESTION\nname: {question['name']}\npoints: {question['points']}"))
        cells.extend(md(dedent(text)) for text in question["explanation"])
        cells += [raw("# BEGIN SOLUTION"), code(question["solution"]), raw("# END SOLUTION"),
                  raw("# BEGIN TESTS")]
        cells.extend(code(test) for test in question["tests"])
        cells += [raw("# END TESTS"), raw("# END QUESTION")]
        if question["example"]:
            cells.append(code(question["example"]))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def check_points() -> None:
    """The points here must be those of assignment.toml, question by question."""
    declared = tomllib.loads((HERE / "assignment.toml").read_text(encoding="utf-8"))["questions"]
    here = [(q["name"], q["points"]) for q in QUESTIONS]
    there = [(q["id"], q["points"]) for q in declared]
    if here != there:
        raise SystemExit(f"points differ from assignment.toml:\n  notebook: {here}\n  toml:     {there}")


if __name__ == "__main__":
    check_points()
    notebook = build()
    nbformat.validate(notebook)
    nbformat.write(notebook, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(HERE.parent.parent)} ({len(notebook.cells)} cells)")

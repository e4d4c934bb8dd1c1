"""Builds training.ipynb, the otter-assign master notebook of the `training` assignment.

    .venv/bin/python solutions/training/make_data.py      # penguins.csv (already committed)
    .venv/bin/python solutions/training/build_notebook.py

Each question below is written once (explanation, solution, public tests) and turned into otter's
raw-cell layout.  The points are checked against assignment.toml so the two never drift apart.
"""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "training.ipynb"

CONFIG = """\
# ASSIGNMENT CONFIG
name: training
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
# Training classifiers: losses, accuracy, `train()`/`eval()`, devices and seeds

In this assignment you train two classifiers (분류기) on a small penguin data set,
`penguins.csv` (300 penguins, 3 species, 4 body measurements):

* logistic regression (로지스틱 회귀) for a yes/no question, with `BCEWithLogitsLoss`,
* a small multi-layer perceptron (MLP, 다층 퍼셉트론) for the three species, with
  `CrossEntropyLoss` (교차 엔트로피),

and you write the pieces every training loop (학습 루프) needs: one optimisation step, evaluation
with `eval()` and `torch.no_grad()`, accuracy (정확도), device-agnostic code (`cpu` / `cuda`) and
reproducible results with seeds (시드, 재현성).

**How this notebook is graded**

* Every question says exactly which names to define (functions, classes, their arguments and what
  they return, including dtypes). Keep those names and signatures: the grader calls them.
* The public tests under each answer check one small, fixed example. The grader runs hidden tests
  with other sizes, other random inputs, other models and other data (for the last question, data
  your code never saw), so write code that works in general, not just for the example.
* Each question is graded on its own: an error in one answer does not cost you the others, and no
  question's hidden tests call a function that another question asks for, except where a question
  says it builds on an earlier one: Question 8 builds on your `MLP` (Question 4), and Question 9 on
  your `MLP`, `train_step`, `get_device` and `make_model` (Questions 4, 5, 7 and 8), so a bug there
  can also cost points in Question 8 or 9.
* Where a float result is compared, the question states the tolerance: a tensor passes when
  `torch.allclose(yours, expected, rtol=..., atol=...)` holds with the numbers it gives, a Python
  number when `abs(yours - expected)` is within the bound it gives.
* Where a question asks for a Python `float`, it means exactly that type: a `numpy.float64`, a NumPy
  array or a tensor is not accepted (`.item()` or `float(...)` gives a `float`).
* `model.zero_grad()` and `optimizer.zero_grad()` are equally accepted wherever the optimizer holds
  all of the model's parameters (both reset every `.grad`).
* Where a question says to run something under `torch.no_grad()`, calling `.detach()` on a result
  computed with autograd recording does not satisfy it: the grader checks that the forward pass ran
  with autograd off (`torch.inference_mode()` counts as off too).
* Your code may print (for debugging) anywhere: the checks do not look at what it prints.
* The grader may run your notebook on a machine with or without a GPU: your code must work on both.
* Before you submit, restart the kernel and run all cells from top to bottom. The whole notebook
  should run in well under a minute on a laptop CPU.
* You may import the standard library, `numpy`, `torch` and `pandas` (the last two are imported
  below); do not install or import other packages."""

SETUP = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
import pandas as pd

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
SPECIES = ["Adelie", "Chinstrap", "Gentoo"]      # class 0, 1, 2

torch.manual_seed(0)"""


def q(name, points, explanation, solution, tests):
    return {"name": name, "points": points, "explanation": explanation,
            "solution": solution, "tests": tests}


QUESTIONS = []

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q1", 2, [r"""
## Question 1: loading the data as tensors

A model needs a float tensor of inputs (특성, features) and a tensor of class labels (레이블).
Two details matter for training:

* **Standardise** each feature column (표준화): subtract the column's mean and divide by its standard
  deviation. Body mass is in grams (thousands) and bill depth in millimetres (tens); without
  standardisation the large column dominates and gradient descent trains badly.
* Class labels for `CrossEntropyLoss` are **integer class indices** with dtype `torch.int64`
  (`torch.long`), not floats and not strings.

Pick columns **by name** (`df[FEATURES]`), not by position: another file may order its columns
differently.
""", r"""
**Implement** `load_penguins(path)`:

* read the CSV file at `path` with `pd.read_csv` (columns include `species` and the four names in
  `FEATURES`; there may be other columns, in any order);
* `X`: a `torch.float32` tensor of shape `(N, 4)`, the columns of `FEATURES` in that order,
  standardised per column as `(X - X.mean(dim=0)) / X.std(dim=0)` (`torch.std`'s default, the
  unbiased standard deviation, same as pandas' `.std()`);
* `y`: a `torch.int64` tensor of shape `(N,)`, the index of each row's species in `SPECIES`
  (`"Adelie"` → 0, `"Chinstrap"` → 1, `"Gentoo"` → 2);
* return the tuple `(X, y)`, rows in file order (a list `[X, y]` is accepted too).

The file may hold any number of rows from 2 up (the standard deviation needs two), and its
measurement columns may be written as integers or as decimals. `X` is compared with
`rtol=1e-4, atol=1e-4`, `y` exactly.
"""], """\
def load_penguins(path):
    # BEGIN SOLUTION
    df = pd.read_csv(path)
    X = torch.tensor(df[FEATURES].to_numpy(), dtype=torch.float32)
    X = (X - X.mean(dim=0)) / X.std(dim=0)
    y = torch.tensor([SPECIES.index(s) for s in df["species"]], dtype=torch.int64)
    return X, y
    # END SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    X_all, y_all = load_penguins("penguins.csv")
assert type(X_all) is torch.Tensor and type(y_all) is torch.Tensor
assert X_all.shape == (300, 4) and X_all.dtype == torch.float32
assert y_all.shape == (300,) and y_all.dtype == torch.int64
assert torch.allclose(X_all.mean(dim=0), torch.zeros(4), atol=1e-5)
assert torch.allclose(X_all.std(dim=0), torch.ones(4), atol=1e-5)
assert y_all[:4].tolist() == [1, 0, 1, 1]      # Chinstrap, Adelie, Chinstrap, Chinstrap"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q2", 3, [r"""
## Question 2: logistic regression and `BCEWithLogitsLoss`

Logistic regression (로지스틱 회귀) for a yes/no question is one linear layer with **one** output,
the *logit* $z$ (any real number). The probability of "yes" is $\sigma(z) = 1/(1+e^{-z})$, and the
binary cross-entropy loss (이진 교차 엔트로피) for a target $t \in \{0, 1\}$ is
$-[t \log \sigma(z) + (1-t) \log(1-\sigma(z))]$, averaged over the batch.

PyTorch has two ways to compute it:

* `nn.BCELoss()` expects **probabilities** in $[0, 1]$: you must apply `torch.sigmoid` first.
  Given raw logits it raises an error (values outside $[0, 1]$).
* `nn.BCEWithLogitsLoss()` (or `F.binary_cross_entropy_with_logits`) takes the **raw logits** and
  applies the sigmoid inside, in a numerically stable way (수치 안정성).

Why it matters: for a large logit, e.g. $z = 40$, `torch.sigmoid(z)` in float32 is exactly `1.0`,
so $\log(1 - \sigma(z)) = \log 0$. `BCELoss` clamps the log at $-100$, so a very confident wrong
answer (say $z = 300$ for target 0) costs 100 instead of 300, and its gradient is wrong (vanishes).
`BCEWithLogitsLoss` computes the exact value. Rule: the model outputs logits, the loss takes logits.

Both losses need **float** targets of the same shape as the logits, so the model should return
shape `(N,)`, not `(N, 1)` (`squeeze(1)` removes the size-1 dimension).
""", r"""
**Implement**

* `bce_loss(logits, targets)`: `logits` is a `float32` or `float64` tensor of shape `(N,)` (raw,
  any size, `N >= 1`), `targets` a tensor of shape `(N,)` of 0s and 1s (float or integer dtype).
  Return the mean binary cross-entropy as a 0-dim tensor of the logits' dtype that autograd can
  differentiate, computed **stably from the logits** (convert the targets to the logits' dtype).
  The loss is compared with `rtol=1e-4, atol=1e-5`, its gradient with respect to the logits with
  `rtol=1e-3, atol=1e-6`.
* `class LogisticRegression(nn.Module)`:
  * `__init__(self, n_features)`: one layer, `self.linear = nn.Linear(n_features, 1)`;
  * `forward(self, x)`: `x` has shape `(N, n_features)`; return the **logits**, shape `(N,)`
    (no sigmoid), compared with `rtol=1e-4, atol=1e-5`. `N` and `n_features` may be 1: for a batch
    of one example the result still has shape `(1,)` (`squeeze()` without a dimension would remove
    both size-1 dimensions).
"""], """\
def bce_loss(logits, targets):
    # BEGIN SOLUTION
    return nn.BCEWithLogitsLoss()(logits, targets.to(logits.dtype))
    # END SOLUTION


class LogisticRegression(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        # BEGIN SOLUTION
        self.linear = nn.Linear(n_features, 1)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return self.linear(x).squeeze(1)
        # END SOLUTION""", ["""\
import contextlib, io
logits = torch.tensor([0.0, 2.0, -1.0])
targets = torch.tensor([1.0, 1.0, 0.0])
expected = -(torch.log(torch.sigmoid(logits)) * targets
             + torch.log(1 - torch.sigmoid(logits)) * (1 - targets)).mean()
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    loss = bce_loss(logits, targets)
    confident = bce_loss(torch.tensor([300.0, 0.0]), torch.tensor([0.0, 1.0]))
assert torch.allclose(loss, expected, rtol=1e-4, atol=1e-5)
# a very confident wrong answer: the exact loss is about 300 / 2 = 150
assert abs(confident.item() - (300 + 0.6931) / 2) < 0.01""", """\
import contextlib, io
x = torch.randn(5, 4)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    logreg = LogisticRegression(4)
    out = logreg(x)
assert [n for n, _ in logreg.named_parameters()] == ["linear.weight", "linear.bias"]
assert out.shape == (5,)
assert torch.allclose(out, x @ logreg.linear.weight[0] + logreg.linear.bias, rtol=1e-4, atol=1e-5)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q3", 2, [r"""
## Question 3: accuracy (정확도)

Accuracy is the fraction of examples whose predicted class equals the target.

* **Binary**, from logits: predict 1 when the probability $\sigma(z) > 0.5$. Since
  $\sigma(z) > 0.5$ exactly when $z > 0$, threshold (임계값) the **logit at 0** (or the
  probability at 0.5). Thresholding a logit at 0.5 is a common bug: a logit of 0.3 means
  probability 0.57, i.e. class 1.
* **Several classes**, from logits of shape `(N, C)`: the predicted class is the index of the
  largest logit in each **row**, `logits.argmax(dim=1)`. Softmax does not change which entry is
  largest, so it is not needed.

`.item()` turns a 0-dim tensor into a Python number.
""", r"""
**Implement** two functions, each returning a Python `float` between 0 and 1 (exactly that type;
a `numpy.float64` or a tensor does not count), compared within `1e-6`:

* `binary_accuracy(logits, targets)`: `logits` shape `(N,)`, `targets` shape `(N,)` of 0/1 (float or
  integer dtype); an example counts as predicted 1 when its logit is `> 0`.
* `multiclass_accuracy(logits, targets)`: `logits` shape `(N, C)` with `C >= 2`, `targets` an
  `int64` tensor of shape `(N,)` of class indices.

`N` may be 1.
"""], """\
def binary_accuracy(logits, targets):
    # BEGIN SOLUTION
    preds = (logits > 0).long()
    return (preds == targets.long()).float().mean().item()
    # END SOLUTION


def multiclass_accuracy(logits, targets):
    # BEGIN SOLUTION
    return (logits.argmax(dim=1) == targets).float().mean().item()
    # END SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    bin_acc = binary_accuracy(torch.tensor([0.3, -2.0, 1.5, -0.1]), torch.tensor([1.0, 0.0, 0.0, 0.0]))
    acc = multiclass_accuracy(torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.5, 3.0]]), torch.tensor([0, 1]))
assert type(bin_acc) is float and abs(bin_acc - 0.75) < 1e-6
assert type(acc) is float and abs(acc - 0.5) < 1e-6"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q4", 3, [r"""
## Question 4: an MLP with dropout, returning raw logits

For $C$ classes the model outputs $C$ numbers per example, the logits. `nn.CrossEntropyLoss`
(교차 엔트로피) takes these **raw logits** and applies `log_softmax` inside. So the model must
**not** end with `softmax`: softmax followed by `CrossEntropyLoss` applies softmax twice, which
squashes the gradients and slows or stalls training. (Use softmax only when you want
probabilities to look at.)

Dropout (드롭아웃) randomly zeroes each hidden value with probability `p` during training and
scales the others by `1/(1-p)`; it helps against overfitting (과적합). It must only be active in
training: `model.train()` switches it on, `model.eval()` switches it off (then `nn.Dropout` is the
identity). An `nn.Dropout` layer follows the module's mode automatically; `F.dropout(x, p)` does
**not** (its `training` argument defaults to `True`), which is why we use the module.
""", r"""
**Implement** `class MLP(nn.Module)`:

* `__init__(self, n_features, n_hidden, n_classes, p_drop=0.2)`: create, **in this order**,
  `self.fc1 = nn.Linear(n_features, n_hidden)`, `self.dropout = nn.Dropout(p_drop)`,
  `self.fc2 = nn.Linear(n_hidden, n_classes)` (the order decides which random numbers each layer's
  initial weights get; Question 8 relies on it);
* `forward(self, x)`: `x` has shape `(N, n_features)`; return `fc2(dropout(relu(fc1(x))))`, the raw
  logits of shape `(N, n_classes)` (no softmax).

Any of the sizes may be 1. The initial weights are compared exactly, the outputs (in eval mode, and
in training mode with the dropout masks drawn after a seed) with `rtol=1e-4, atol=1e-5`.
"""], """\
class MLP(nn.Module):
    def __init__(self, n_features, n_hidden, n_classes, p_drop=0.2):
        super().__init__()
        # BEGIN SOLUTION
        self.fc1 = nn.Linear(n_features, n_hidden)
        self.dropout = nn.Dropout(p_drop)
        self.fc2 = nn.Linear(n_hidden, n_classes)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return self.fc2(self.dropout(torch.relu(self.fc1(x))))
        # END SOLUTION""", ["""\
import contextlib, io
x = torch.randn(8, 4)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    mlp = MLP(4, 16, 3, p_drop=0.5)
    _ = mlp.eval()
    eval_out = mlp(x)
    _ = mlp.train()
    train_out = mlp(x)
assert [n for n, _ in mlp.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
reference = torch.relu(x @ mlp.fc1.weight.T + mlp.fc1.bias) @ mlp.fc2.weight.T + mlp.fc2.bias
assert torch.allclose(eval_out, reference, rtol=1e-4, atol=1e-5)       # eval: no dropout, raw logits
assert not torch.allclose(train_out, reference, rtol=1e-4, atol=1e-5)  # train: dropout is active"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q5", 3, [r"""
## Question 5: one training step

One step of gradient descent (경사 하강법) always has the same five parts:

1. `model.train()`: training mode (dropout on);
2. `optimizer.zero_grad()`: clear the old gradients. PyTorch **adds** each new gradient to
   `.grad` (기울기 누적), so without this every step also uses all the previous gradients;
3. `loss = loss_fn(model(xb), yb)`: forward pass and loss;
4. `loss.backward()`: compute the gradients;
5. `optimizer.step()`: update the parameters with them.

To report the loss, use `loss.item()` (a Python float). Keeping the loss tensor itself (e.g.
appending it to a list) keeps its whole computation graph alive.
""", r"""
**Implement** `train_step(model, optimizer, loss_fn, xb, yb)`: do the five parts above on the batch
`(xb, yb)`, exactly once each and in that order, and return the loss **before** the update as a
Python `float`. Do not create a new optimizer or loss inside; use the ones you are given (the grader
passes other losses than plain cross-entropy, e.g. with `label_smoothing`, and optimizers with other
learning rates and momentum). The model may arrive in eval mode (after an evaluation), so
`model.train()` comes first; `model.zero_grad()` instead of `optimizer.zero_grad()` is fine. The
batch may hold a single example. The returned loss must be within `1e-4 * max(1, abs(loss))` of the
correct one, the parameters after the step within `rtol=1e-4, atol=1e-5`.
"""], """\
def train_step(model, optimizer, loss_fn, xb, yb):
    # BEGIN SOLUTION
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()
    # END SOLUTION""", ["""\
_ = torch.manual_seed(1)
lin = nn.Linear(3, 2)
opt = torch.optim.SGD(lin.parameters(), lr=0.1)
xb, yb = torch.randn(4, 3), torch.tensor([0, 1, 1, 0])
w0 = lin.weight.detach().clone().requires_grad_()
b0 = lin.bias.detach().clone().requires_grad_()
expected_loss = F.cross_entropy(xb @ w0.T + b0, yb)
expected_loss.backward()                          # the gradients one correct step uses
lin.weight.grad = torch.ones_like(lin.weight)     # a stale gradient left over from an earlier step
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    loss_value = train_step(lin, opt, nn.CrossEntropyLoss(), xb, yb)
assert type(loss_value) is float and abs(loss_value - expected_loss.item()) <= 1e-4 * max(1.0, expected_loss.item())
assert torch.allclose(lin.weight, w0 - 0.1 * w0.grad, rtol=1e-4, atol=1e-5)
assert torch.allclose(lin.bias, b0 - 0.1 * b0.grad, rtol=1e-4, atol=1e-5)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q6", 3, [r"""
## Question 6: evaluation with `eval()` and `torch.no_grad()`

When you measure a model (검증, 평가) two things must be switched off:

* **dropout** (and batch norm's batch statistics): call `model.eval()`. Otherwise every evaluation
  randomly drops units, the numbers are noisy and worse than the real model;
* **gradient tracking**: wrap the forward pass in `with torch.no_grad():`. Evaluation never calls
  `backward()`, and tracking builds a graph that only wastes memory and time.

These are independent: `eval()` does not turn off gradients and `no_grad()` does not turn off
dropout. You need both. (Remember to call `model.train()` again before training more; `train_step`
from Question 5 already does.) `.detach()` on the output afterwards is not the same as `no_grad()`:
the graph has already been built by then.
""", r"""
**Implement** `evaluate(model, X, y)` for a classifier `model` that returns logits of shape
`(N, C)`; `X` is `(N, n_features)` float, `y` an `int64` tensor `(N,)` of class indices. Put the
model in eval mode and run it once on all of `X` under `torch.no_grad()`; return the tuple
`(loss, accuracy)` of two Python `float`s: the mean cross-entropy of the logits and the fraction
of correct `argmax` predictions. Compute the accuracy here (do not call your Question 3 functions).
Afterwards the model may stay in eval mode or get back the mode it had; both are accepted. `N` may
be 1. The loss must be within `1e-4 * max(1, loss)` of the correct one, the accuracy within `1e-5`.
"""], """\
def evaluate(model, X, y):
    # BEGIN SOLUTION
    model.eval()
    with torch.no_grad():
        logits = model(X)
        loss = F.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    return loss, accuracy
    # END SOLUTION""", ["""\
_ = torch.manual_seed(2)
net = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3))
X, y = torch.randn(50, 4), torch.randint(0, 3, (50,))
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    _ = net.train()
    loss1, acc1 = evaluate(net, X, y)
    _ = net.train()
    loss2, acc2 = evaluate(net, X, y)
_ = net.eval()
with torch.no_grad():
    logits = net(X)
assert type(loss1) is float and type(acc1) is float
assert loss1 == loss2 and acc1 == acc2          # no dropout during evaluation: same result twice
assert abs(loss1 - F.cross_entropy(logits, y).item()) <= 1e-4 * max(1.0, loss1)
assert abs(acc1 - (logits.argmax(dim=1) == y).float().mean().item()) < 1e-5"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q7", 3, [r"""
## Question 7: device-agnostic code (`cpu` or `cuda`)

The same notebook should run on a laptop without a GPU and on a machine with one. The usual
pattern:

```python
device = "cuda" if torch.cuda.is_available() else "cpu"
model = model.to(device)        # moves the parameters (and buffers)
xb = xb.to(device)              # tensors: .to returns a moved copy, assign it!
```

A model and its inputs must be on the **same** device, otherwise PyTorch raises
`Expected all tensors to be on the same device`. When you only have the model (for example inside
a helper function), ask it where it lives: `next(model.parameters()).device`. To turn results into
NumPy or plain Python values, bring them back with `.cpu()` first.
""", r"""
**Implement**

* `get_device()`: return the string `"cuda"` if `torch.cuda.is_available()` is true **at the time
  of the call**, else `"cpu"`.
* `predict(model, X)`: the predicted classes of a classifier (logits `(N, C)`). Do not move the
  model; move `X` to the device of the model's parameters (`next(model.parameters()).device`, which
  need not be the one `get_device()` returns), run the model in eval mode under `torch.no_grad()`,
  and return the `argmax` class indices as an `int64` tensor of shape `(N,)` **on the CPU**
  (shape `(1,)` for a single example), compared exactly. Afterwards the model may stay in eval mode
  or get back the mode it had.
"""], """\
def get_device():
    # BEGIN SOLUTION
    return "cuda" if torch.cuda.is_available() else "cpu"
    # END SOLUTION


def predict(model, X):
    # BEGIN SOLUTION
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        logits = model(X.to(device))
    return logits.argmax(dim=1).cpu()
    # END SOLUTION""", ["""\
assert get_device() in ("cpu", "cuda")
net = nn.Linear(4, 3).to(get_device())
X = torch.randn(6, 4)                       # on the CPU
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    preds = predict(net, X)
assert preds.dtype == torch.int64 and preds.shape == (6,) and preds.device.type == "cpu"
assert torch.equal(preds, (X @ net.weight.detach().cpu().T + net.bias.detach().cpu()).argmax(dim=1))"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q8", 2, [r"""
## Question 8: seeds and reproducibility (재현성)

A new layer's initial weights are random numbers from PyTorch's random number generator (난수
생성기). `torch.manual_seed(s)` resets that generator, so everything drawn **after** it is the same
every time you run the code with the same `s`. Seed **before** you create the model: seeding after
`MLP(...)` only fixes what comes later (dropout masks, shuffling), not the initial weights.

(On a GPU a few operations are not bit-for-bit deterministic even with a seed; on the CPU the same
seed gives identical results.)
""", r"""
**Implement** `make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2)`: call
`torch.manual_seed(seed)`, then create and return `MLP(n_features, n_hidden, n_classes, p_drop)`
(your class from Question 4), passing `p_drop` on. Two calls with the same arguments must return
models with identical weights (compared exactly), whatever random numbers were drawn before the
call. This question builds on your `MLP`: a bug in Question 4 can also cost points here.
"""], """\
def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
    # BEGIN SOLUTION
    torch.manual_seed(seed)
    return MLP(n_features, n_hidden, n_classes, p_drop)
    # END SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    a = make_model(0, 4, 8, 3)
    _ = torch.rand(10)                           # draw some other random numbers in between
    b = make_model(0, 4, 8, 3)
    c = make_model(1, 4, 8, 3)
assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
assert not torch.equal(a.fc1.weight, c.fc1.weight)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q9", 4, [r"""
## Question 9: a complete training function

Now put everything together. A training function creates a model, an optimizer (최적화기) and a
loss, then repeats `train_step` for a number of epochs (에폭). On a few hundred rows you can use
the whole training set as one batch (full-batch training) or a `DataLoader` with mini-batches
(미니배치); both are fine here.

Good defaults for small tabular problems: `torch.optim.Adam(model.parameters(), lr=0.01)`,
`nn.CrossEntropyLoss()`, a hidden layer of 32 to 64 units and 200 to 500 full-batch steps.

The hidden test calls your function on **data you have never seen** (a few hundred rows, a
handful of standardised features, 2 to 4 classes whose boundaries are *not* straight lines, so a
purely linear model is not enough), with a fixed seed, then measures the accuracy of the returned
model on separate held-out rows (검증 데이터) of the same kind. It needs **at least 90 %**.
""", r"""
**Implement** `train_model(X, y, n_classes, seed=0)`:

* `X`: float32 `(N, n_features)`, `y`: int64 `(N,)` class indices in `0 .. n_classes - 1` (both on
  the CPU);
* create the model with `make_model(seed, X.shape[1], n_hidden, n_classes)` (Question 8; your choice
  of `n_hidden`), move it and the data to `get_device()`, and train it with your `train_step`;
* return the trained model (any device). It must map `(M, n_features)` inputs to `(M, n_classes)`
  logits;
* the same arguments must give the same trained model (on the CPU, the logits of two runs on the
  same inputs agree within `rtol=1e-3, atol=1e-4`);
* it must finish within **10 seconds** on one CPU core for 500 rows (the grader stops it at 30 s).

The hidden tests call it with 1 to 6 features, 2 to 4 classes and from a single row up to a few
hundred. This question builds on your `MLP`, `train_step`, `get_device` and `make_model`
(Questions 4, 5, 7 and 8): a bug in one of them can also cost points here. Its tests never call
your `evaluate` or `predict`: they measure the returned model themselves, in eval mode.
"""], """\
def train_model(X, y, n_classes, seed=0):
    # BEGIN SOLUTION
    device = get_device()
    model = make_model(seed, X.shape[1], 64, n_classes).to(device)
    X, y = X.to(device), y.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(300):
        train_step(model, optimizer, loss_fn, X, y)
    return model
    # END SOLUTION""", ["""\
import contextlib, io
df = pd.read_csv("penguins.csv")          # the data is built here, not with your load_penguins
X_pen = torch.tensor(df[FEATURES].to_numpy(), dtype=torch.float32)
X_pen = (X_pen - X_pen.mean(dim=0)) / X_pen.std(dim=0)
y_pen = torch.tensor([SPECIES.index(s) for s in df["species"]], dtype=torch.int64)
split = torch.randperm(300, generator=torch.Generator().manual_seed(0))
train_idx, test_idx = split[:200], split[200:]
held_out = []                             # the predictions of each trained model, measured here
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    for run in range(2):
        trained = train_model(X_pen[train_idx], y_pen[train_idx], 3, seed=0)
        _ = trained.eval()
        with torch.no_grad():
            logits = trained(X_pen[test_idx].to(next(trained.parameters()).device)).cpu()
        held_out.append(logits.argmax(dim=1))
assert logits.shape == (100, 3)
assert (held_out[0] == y_pen[test_idx]).float().mean().item() >= 0.9
assert torch.equal(held_out[0], held_out[1])    # same arguments, same trained model"""]))


# ---------------------------------------------------------------------------------------------
DEMO_MD = """\
## Putting it together (not graded)

Logistic regression answers "is this penguin a Gentoo?" (labels 0/1 as floats for
`BCEWithLogitsLoss`); the MLP from `train_model` tells all three species apart."""

DEMO = """\
demo_split = torch.randperm(len(y_all), generator=torch.Generator().manual_seed(0))
demo_train, demo_test = demo_split[:200], demo_split[200:]
is_gentoo = (y_all == SPECIES.index("Gentoo")).float()

torch.manual_seed(0)
logreg = LogisticRegression(4)
logreg_opt = torch.optim.SGD(logreg.parameters(), lr=0.5)
for step in range(100):
    logreg_opt.zero_grad()
    demo_loss = bce_loss(logreg(X_all[demo_train]), is_gentoo[demo_train])
    demo_loss.backward()
    logreg_opt.step()
with torch.no_grad():
    print("logistic regression, Gentoo or not:",
          binary_accuracy(logreg(X_all[demo_test]), is_gentoo[demo_test]))

species_model = train_model(X_all[demo_train], y_all[demo_train], 3, seed=0)
print("MLP, three species (loss, accuracy):",
      evaluate(species_model, X_all[demo_test].to(get_device()), y_all[demo_test].to(get_device())))"""


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
        if question["name"] == "q1":
            cells.append(code('X_all, y_all = load_penguins("penguins.csv")'))
    cells += [md(DEMO_MD), code(DEMO)]
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

"""Builds autograd.ipynb, the otter-assign master notebook of this assignment.

    .venv/bin/python solutions/autograd/build_notebook.py
"""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "autograd.ipynb"

CONFIG = """\
# ASSIGNMENT CONFIG
name: autograd
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
# Autograd: gradients, optimizers, saving and loading

In this assignment you use PyTorch's automatic differentiation (자동 미분, autograd):

* `backward` on a scalar loss and on a non-scalar output (`gradient=`),
* how gradients accumulate (기울기 누적) and how `zero_grad` resets them,
* `retain_grad` for intermediate (non-leaf) tensors, `no_grad` and `detach`,
* freezing parameters (파라미터 고정), gradient clipping (그래디언트 클리핑),
* a manual SGD step, a small linear regression (선형 회귀) with `nn.Linear`, `nn.MSELoss` and an
  optimizer, reading its coefficients from `state_dict`, and saving / loading weights.

**How this notebook is graded**

* Every question says exactly which functions to define, their arguments and what they return.
  Keep those names and signatures: the grader calls them.
* The public tests under each answer check one small, fixed example. The grader runs hidden tests
  with other shapes, random values and other models, so write code that works in general; do not
  hard-code the example's numbers.
* Each question is graded on its own: an error in one answer does not cost you the others, and no
  question's hidden tests call a function that another question asks for.
* Unless a question says otherwise, a float result is compared with the grader's reference as
  `torch.allclose(result, reference, rtol=1e-4, atol=1e-5)` (for a Python number: within
  `1e-5 + 1e-4 * abs(reference)`).
* Where a question asks for a Python `float`, it means exactly that type: a `numpy.float64`, a NumPy
  array or a tensor is not accepted (`.item()` or `float(...)` gives a `float`).
* `model.zero_grad()` and `optimizer.zero_grad()` are equally accepted wherever the optimizer holds
  all of the model's parameters (both reset every `.grad` to `None`).
* Where a question says to compute something under `torch.no_grad()`, calling `.detach()` on a
  result computed with autograd recording does not satisfy it: the grader checks that the code ran
  with autograd off.
* Your code may print (for debugging) anywhere: the checks do not look at what it prints.
* Before you submit, restart the kernel and run all cells from top to bottom.
* You may import the standard library, `numpy`, `torch` and `matplotlib` (for your own plots); do
  not install or import other packages."""

SETUP = """\
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)"""


def q(name, points, explanation, solution, tests):
    return {"name": name, "points": points, "explanation": explanation,
            "solution": solution, "tests": tests}


QUESTIONS = []

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q1", 2, [r"""
## Question 1: `backward` on a scalar loss

A tensor created with `requires_grad=True` (or made so with `.requires_grad_(True)`) is a **leaf**
(리프 텐서): autograd records every operation done with it. Calling `.backward()` on a **scalar**
(one single value, e.g. a loss) computes the gradient (기울기) of that scalar with respect to every
leaf and stores it in the leaf's `.grad`.

A tensor that you receive without `requires_grad` gets no gradient. To differentiate with respect to
it, make your own leaf copy: `w = w.detach().clone().requires_grad_(True)`.
""", r"""
**Implement** `loss_grad(w, x, y)`:

* `x`: float32 tensor of shape `(N, D)`, `w`: shape `(D,)`, `y`: shape `(N,)`; none requires grad.
* Make a leaf copy of `w` that requires grad, compute the mean squared error
  `loss = ((x @ w - y) ** 2).mean()`, call `loss.backward()`.
* Return the gradient of `loss` with respect to `w`: a float32 tensor of shape `(D,)`.
"""], """\
def loss_grad(w, x, y):
    # BEGIN SOLUTION
    w = w.detach().clone().requires_grad_(True)
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()
    return w.grad
    # END SOLUTION""", ["""\
import contextlib, io
x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
w = torch.tensor([0.5, -1.0])
y = torch.tensor([1.0, 0.0])
with contextlib.redirect_stdout(io.StringIO()):
    g = loss_grad(w, x, y)
assert g.shape == (2,)
assert torch.allclose(g, 2 * x.T @ (x @ w - y) / 2, rtol=1e-4, atol=1e-5)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q2", 2, [r"""
## Question 2: `backward` on a non-scalar output (`gradient=`)

`backward()` without arguments only works on a scalar. For an output `y` with many values, PyTorch
raises `RuntimeError: grad can be implicitly created only for scalar outputs`. You then have to say
how much each value of `y` counts: `y.backward(gradient=v)`, where `v` has the same shape as `y`,
computes the gradient of `(y * v).sum()` (a vector-Jacobian product, 야코비안-벡터 곱).
`y.sum().backward()` is the special case where `v` is all ones.
""", r"""
**Implement** `weighted_grad(x, v)`:

* `x` and `v`: floating-point tensors (float32 or float64) of the same shape and dtype, with any
  number of dimensions (a dimension may have size 1), no grad.
* Make a leaf copy of `x` that requires grad, compute the element-wise `y = torch.sin(x) * x`
  (same shape as `x`), call `y.backward(gradient=v)`.
* Return the gradient stored in your copy of `x` (same shape and dtype as `x`).
"""], """\
def weighted_grad(x, v):
    # BEGIN SOLUTION
    x = x.detach().clone().requires_grad_(True)
    y = torch.sin(x) * x
    y.backward(gradient=v)
    return x.grad
    # END SOLUTION""", ["""\
import contextlib, io
x = torch.tensor([0.0, 1.0, 2.0])
v = torch.tensor([1.0, 2.0, -1.0])
with contextlib.redirect_stdout(io.StringIO()):
    g = weighted_grad(x, v)
assert g.dtype == x.dtype and g.shape == x.shape
assert torch.allclose(g, v * (torch.cos(x) * x + torch.sin(x)), rtol=1e-4, atol=1e-5)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q3", 2, [r"""
## Question 3: gradients accumulate; `zero_grad` resets them

Each `backward()` **adds** to `.grad`; it does not overwrite it (기울기 누적). That is why a training
loop calls `optimizer.zero_grad()` (or `model.zero_grad()`) before every `backward()`. Forgetting
it mixes the gradients of all earlier batches into the current one.

Sometimes accumulation is what you want: to simulate one big batch with several small ones, call
`backward()` on each small batch and zero the gradients only once, at the start.

`model.zero_grad()` sets every parameter's `.grad` to `None`. Store a copy with `.clone()` when you
keep a gradient for later.
""", r"""
**Implement** two functions. `model` is any `nn.Module`; `batches` is a list of one or more `(x, y)` pairs
with `model(x)` and `y` of the same shape; the loss of one batch is `F.mse_loss(model(x), y)`.

* `batch_grads(model, batches)`: for each batch in order: `model.zero_grad()`, compute the loss,
  `backward()`, and record `[p.grad.clone() for p in model.parameters()]`. Return the list of these
  lists (one per batch): the gradient of **each batch alone**.
* `accumulated_grads(model, batches)`: call `model.zero_grad()` **once**, then `backward()` the loss
  of every batch without zeroing in between. Return `[p.grad.clone() for p in model.parameters()]`:
  the **sum** of the gradients of all batches.
"""], """\
def batch_grads(model, batches):
    # BEGIN SOLUTION
    result = []
    for x, y in batches:
        model.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        result.append([p.grad.clone() for p in model.parameters()])
    return result
    # END SOLUTION


def accumulated_grads(model, batches):
    # BEGIN SOLUTION
    model.zero_grad()
    for x, y in batches:
        loss = F.mse_loss(model(x), y)
        loss.backward()
    return [p.grad.clone() for p in model.parameters()]
    # END SOLUTION""", ["""\
import contextlib, io
_ = torch.manual_seed(0)
model = nn.Linear(3, 1)
batches = [(torch.randn(4, 3), torch.randn(4, 1)) for _ in range(3)]
with contextlib.redirect_stdout(io.StringIO()):
    each = batch_grads(model, batches)
    total = accumulated_grads(model, batches)
assert len(each) == 3 and len(each[0]) == 2
assert torch.allclose(total[0], each[0][0] + each[1][0] + each[2][0], rtol=1e-4, atol=1e-5)
assert torch.allclose(total[1], each[0][1] + each[1][1] + each[2][1], rtol=1e-4, atol=1e-5)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q4", 2, [r"""
## Question 4: gradients of intermediate tensors (`retain_grad`)

Only **leaf** tensors keep their `.grad` after `backward()`. A tensor computed from others (a
non-leaf, 중간 텐서) such as a hidden activation has `.grad == None` (PyTorch warns when you read
it). Call `h.retain_grad()` on it **before** `backward()` to keep its gradient too.
""", r"""
**Implement** `hidden_grads(x, w1, w2)`:

* `x`: `(N, D)`, `w1`: `(D, H)`, `w2`: `(H, 1)`, float32, no grad.
* Make a leaf copy of `w1` that requires grad (`w2` stays as it is), then compute
  `h = x @ w1`, call `h.retain_grad()`, then `out = torch.tanh(h) @ w2` and
  `loss = (out ** 2).sum()`, and call `loss.backward()`.
* Return the tuple `(h_grad, w1_grad)`: the gradient of `loss` with respect to `h` (shape
  `(N, H)`) and with respect to `w1` (shape `(D, H)`).
"""], """\
def hidden_grads(x, w1, w2):
    # BEGIN SOLUTION
    w1 = w1.detach().clone().requires_grad_(True)
    h = x @ w1
    h.retain_grad()
    out = torch.tanh(h) @ w2
    loss = (out ** 2).sum()
    loss.backward()
    return h.grad, w1.grad
    # END SOLUTION""", ["""\
import contextlib, io
x = torch.tensor([[1.0, -1.0]])
w1 = torch.tensor([[0.5, 0.0], [0.0, 0.5]])
w2 = torch.tensor([[1.0], [2.0]])
with contextlib.redirect_stdout(io.StringIO()):
    h_grad, w1_grad = hidden_grads(x, w1, w2)
assert h_grad is not None and h_grad.shape == (1, 2)
assert w1_grad.shape == (2, 2)
assert torch.allclose(w1_grad, x.T @ h_grad, rtol=1e-4, atol=1e-5)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q5", 2, [r"""
## Question 5: turning autograd off (`torch.no_grad`, `detach`)

* Inside `with torch.no_grad():` nothing is recorded: results have `requires_grad == False`. Use it
  for predictions (추론) and evaluation: it is faster and uses less memory.
* `t.detach()` returns a tensor with the same values that is cut off from the graph: no gradient
  flows back through it. Use it for a value that should be treated as a constant target.

In *distillation* (지식 증류) a `student` network learns to copy a fixed `teacher`: the teacher's
output is the target and the teacher must receive **no** gradient.
""", r"""
**Implement** two functions (`model`, `student`, `teacher` are `nn.Module`s whose parameters
require grad):

* `predict(model, x)`: return `model(x)` computed under `torch.no_grad()` (so the result does not
  require grad). `model.eval()` does not turn autograd off, and `model(x).detach()` is not enough:
  the model itself must run under `torch.no_grad()`.
* `distill_backward(student, teacher, x)`: compute
  `loss = F.mse_loss(student(x), teacher(x).detach())`, call `loss.backward()`, and return
  `loss.item()` (a Python `float`). Afterwards the student's parameters have gradients and the
  teacher's `.grad` are still `None`.
"""], """\
def predict(model, x):
    # BEGIN SOLUTION
    with torch.no_grad():
        return model(x)
    # END SOLUTION


def distill_backward(student, teacher, x):
    # BEGIN SOLUTION
    loss = F.mse_loss(student(x), teacher(x).detach())
    loss.backward()
    return loss.item()
    # END SOLUTION""", ["""\
import contextlib, io
_ = torch.manual_seed(0)
student, teacher = nn.Linear(3, 2), nn.Linear(3, 2)
x = torch.randn(5, 3)
with contextlib.redirect_stdout(io.StringIO()):
    out = predict(student, x)
    loss = distill_backward(student, teacher, x)
assert not out.requires_grad and out.shape == (5, 2)
assert isinstance(loss, float)
assert student.weight.grad is not None and teacher.weight.grad is None"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q6", 2, [r"""
## Question 6: freezing parameters (`requires_grad_(False)`)

For fine-tuning (미세 조정) you often keep most of a pre-trained model fixed and train only the last
layer. A parameter with `requires_grad == False` is frozen (고정): it gets no gradient and an
optimizer leaves it alone. `p.requires_grad_(False)` freezes one parameter;
`module.requires_grad_(False)` freezes every parameter of a module. Setting an ordinary attribute
such as `module.requires_grad = False` does **nothing** to the parameters.

It is good practice to give the optimizer only the trainable parameters.
""", r"""
**Implement** two functions. `model` is an `nn.Sequential` of any length whose **last** module is
an `nn.Linear` (it may be the only module); the earlier ones may be `nn.Linear`, `nn.ReLU`,
`nn.Tanh`, ... Some parameters may already have `requires_grad == False` when you get the model.

* `freeze_all_but_last(model)`: set `requires_grad` to `False` for every parameter of every module
  except the last one, and to `True` for the parameters of the last module. Change `model` in place
  and return it.
* `trainable_parameters(model)`: return a `list` of the parameters of `model` that require grad, in
  the order of `model.parameters()` (e.g. to build `torch.optim.SGD(trainable_parameters(model), ...)`).

The grader then trains the model for a step: the frozen parameters must stay exactly as they were.
"""], """\
def freeze_all_but_last(model):
    # BEGIN SOLUTION
    model.requires_grad_(False)
    model[-1].requires_grad_(True)
    return model
    # END SOLUTION


def trainable_parameters(model):
    # BEGIN SOLUTION
    return [p for p in model.parameters() if p.requires_grad]
    # END SOLUTION""", ["""\
import contextlib, io
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
with contextlib.redirect_stdout(io.StringIO()):
    _ = freeze_all_but_last(net)
    trainable = trainable_parameters(net)
assert [p.requires_grad for p in net.parameters()] == [False, False, False, False, True, True]
assert isinstance(trainable, list) and len(trainable) == 2
assert trainable[0] is net[4].weight"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q7", 2, [r"""
## Question 7: gradient clipping (`clip_grad_norm_`)

Very large gradients can make training jump around or blow up (기울기 폭발). Gradient clipping
(그래디언트 클리핑) scales all gradients down together when their total norm is too large:
`torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)` computes the norm of all gradients
seen as one long vector, and if it is above `max_norm`, multiplies every `.grad` in place by
`max_norm / (norm + 1e-6)`; a norm of at most `max_norm` leaves the gradients as they are. It returns
the total norm **before** clipping.

The order matters: clipping must happen after `backward()` (the gradients exist) and **before**
`optimizer.step()` (which uses them). Clipping after the step changes nothing that was used.
""", r"""
**Implement** `clipped_step(model, optimizer, x, y, max_norm)`: one training step:

1. `optimizer.zero_grad()`,
2. `loss = F.mse_loss(model(x), y)` and `loss.backward()`,
3. `total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)`,
4. `optimizer.step()`.

Return `float(total)`, the gradient norm before clipping. The function is called repeatedly with
the same optimizer, once per batch, with gradients both above and below `max_norm`.
"""], """\
def clipped_step(model, optimizer, x, y, max_norm):
    # BEGIN SOLUTION
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return float(total)
    # END SOLUTION""", ["""\
import contextlib, io
_ = torch.manual_seed(0)
model = nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(8, 3), 100 * torch.randn(8, 1)
before = model.weight.detach().clone()
with contextlib.redirect_stdout(io.StringIO()):
    norm = clipped_step(model, optimizer, x, y, max_norm=1.0)
assert isinstance(norm, float) and norm > 1.0
# after clipping, the step moved the weights by at most lr * max_norm
assert (model.weight.detach() - before).norm() <= 0.1 * 1.0 + 1e-5"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q8", 2, [r"""
## Question 8: a manual SGD step (in place, under `no_grad`)

`optimizer.step()` for plain SGD does `p ← p − lr · p.grad` for every parameter. Doing it by hand
needs two things:

* the update must not be recorded by autograd, and PyTorch refuses an in-place change of a leaf
  that requires grad while recording: do it inside `with torch.no_grad():`;
* it must change the parameter **in place** (제자리 연산, `p -= ...` or `p.sub_(...)`):
  `p = p - lr * p.grad` only makes a new tensor and binds the local name `p` to it; the model's
  parameter is unchanged.

Afterwards reset the gradient so the next `backward()` starts fresh.
""", r"""
**Implement** `sgd_step(params, lr)`: `params` is a list of leaf tensors that require grad and
have a `.grad`. For each `p`: under `torch.no_grad()`, update `p` in place by `p -= lr * p.grad`;
then set `p.grad = None`. Return `None`. The tensors must stay the same objects (the same memory),
still leaves that require grad. The new values are compared with `p - lr * p.grad` as
`torch.allclose(new, expected, rtol=1e-5, atol=1e-6)`, so `p -= lr * p.grad` and
`p.sub_(p.grad, alpha=lr)`, which can differ in the last bit, are both accepted.
"""], """\
def sgd_step(params, lr):
    # BEGIN SOLUTION
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
    for p in params:
        p.grad = None
    # END SOLUTION""", ["""\
import contextlib, io
w = torch.tensor([1.0, 2.0], requires_grad=True)
(w ** 2).sum().backward()           # w.grad == [2., 4.]
with contextlib.redirect_stdout(io.StringIO()):
    sgd_step([w], lr=0.25)
assert torch.allclose(w.detach(), torch.tensor([0.5, 1.0]), rtol=1e-5, atol=1e-6)
assert w.requires_grad and w.is_leaf and w.grad is None"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q9", 3, [r"""
## Question 9: linear regression with `nn.Linear`, `nn.MSELoss` and an optimizer

Every PyTorch training loop (학습 루프) has the same five lines:

```python
optimizer.zero_grad()          # forget the previous gradients
pred = model(x)                # forward
loss = loss_fn(pred, target)   # compare
loss.backward()                # gradients
optimizer.step()               # update
```

Watch the shapes: `nn.Linear(D, 1)` returns shape `(N, 1)`. If the target has shape `(N,)`,
`nn.MSELoss` broadcasts (브로드캐스팅) `(N, 1)` against `(N,)` to `(N, N)` and computes the wrong
loss (PyTorch only warns). Make both the same shape, e.g. `model(x).squeeze(1)`.
""", r"""
**Implement** `fit_linear(x, y, lr=0.1, epochs=300)`:

* `x`: float32 `(N, D)`, `y`: float32 `(N,)`.
* `torch.manual_seed(0)`, then `model = nn.Linear(D, 1)`, `loss_fn = nn.MSELoss()`,
  `optimizer = torch.optim.SGD(model.parameters(), lr=lr)`.
* `epochs` times, one full-batch step on all of `x`: the five lines above, with the prediction of
  shape `(N,)` compared to `y`.
* Return the trained `model` (the `nn.Linear`).

The grader calls `fit_linear` with other sizes (`N` and `D` may be 1), other `lr` and `epochs`, and
after other code has drawn random numbers. After a few epochs the weights are compared with the same
training done by the grader (the default tolerance above); after many, with the least-squares
solution, within an absolute `5e-3` per value.
"""], """\
def fit_linear(x, y, lr=0.1, epochs=300):
    # BEGIN SOLUTION
    torch.manual_seed(0)
    model = nn.Linear(x.shape[1], 1)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        pred = model(x).squeeze(1)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
    return model
    # END SOLUTION""", ["""\
import contextlib, io
g = torch.Generator().manual_seed(1)
x = torch.randn(100, 2, generator=g)
y = x @ torch.tensor([2.0, -3.0]) + 0.5
with contextlib.redirect_stdout(io.StringIO()):
    model = fit_linear(x, y)
assert isinstance(model, nn.Linear)
assert torch.allclose(model.weight.detach(), torch.tensor([[2.0, -3.0]]), atol=1e-2)
assert torch.allclose(model.bias.detach(), torch.tensor([0.5]), atol=1e-2)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q10", 2, [r"""
## Question 10: reading coefficients from `state_dict`

`model.state_dict()` is an ordered dict from names to tensors: every parameter and persistent
buffer. In an `nn.Sequential` the names start with the position of the layer: for
`nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))` the keys are `0.weight`, `0.bias`,
`2.weight`, `2.bias` (the `ReLU` at position 1 has no parameters). The tensors are detached
(no grad). `t.tolist()` turns a tensor into Python numbers, `t.item()` a one-element tensor into one
number.
""", r"""
**Implement** `last_layer_coefficients(model)`: `model` is an `nn.Sequential` of any length whose
last module (at position `len(model) - 1`) is an `nn.Linear(K, 1)` (`K` may be 1). Using `model.state_dict()`, return the dict
`{"weight": [...], "bias": b}` where `"weight"` is the **list of K Python floats** of that layer's
weight and `"bias"` is its bias as one Python `float`.
"""], """\
def last_layer_coefficients(model):
    # BEGIN SOLUTION
    state = model.state_dict()
    last = len(model) - 1
    return {"weight": state[f"{last}.weight"].flatten().tolist(),
            "bias": state[f"{last}.bias"].item()}
    # END SOLUTION""", ["""\
import contextlib, io
net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
with torch.no_grad():
    _ = net[2].weight.copy_(torch.tensor([[1.0, 2.0, 3.0]]))
    _ = net[2].bias.fill_(-1.0)
with contextlib.redirect_stdout(io.StringIO()):
    coefficients = last_layer_coefficients(net)
assert coefficients == {"weight": [1.0, 2.0, 3.0], "bias": -1.0}"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q11", 2, [r"""
## Question 11: saving and loading weights (`torch.save`, `torch.load`, `load_state_dict`)

The recommended way to save a model (모델 저장) is to save its `state_dict`, not the whole model
object: `torch.save(model.state_dict(), path)`. To load, build a model of the same architecture
and copy the saved tensors into it: `model.load_state_dict(torch.load(path))`.
`load_state_dict` changes the model in place; it returns a report of missing and unexpected keys,
**not** the model.
""", r"""
**Implement** two functions (`path` is a file name such as `"weights.pt"`, in the working
directory):

* `save_weights(model, path)`: save `model.state_dict()` to `path` with `torch.save`. Return `None`.
* `load_weights(model, path)`: load the state dict saved at `path` with `torch.load` and copy it
  into `model` with `load_state_dict`. Return `model`.
"""], """\
def save_weights(model, path):
    # BEGIN SOLUTION
    torch.save(model.state_dict(), path)
    # END SOLUTION


def load_weights(model, path):
    # BEGIN SOLUTION
    model.load_state_dict(torch.load(path))
    return model
    # END SOLUTION""", ["""\
import contextlib, io, os
a, b = nn.Linear(3, 2), nn.Linear(3, 2)
with contextlib.redirect_stdout(io.StringIO()):
    save_weights(a, "check_weights.pt")
    returned = load_weights(b, "check_weights.pt")
assert isinstance(torch.load("check_weights.pt"), dict)
assert returned is b
assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
os.remove("check_weights.pt")"""]))


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

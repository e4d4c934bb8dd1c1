"""Builds tensor_basics.ipynb, the otter-assign master notebook of this assignment.

    .venv/bin/python solutions/tensor_basics/build_notebook.py

Each question below is written once (explanation, solution, public tests) and turned into otter's
raw-cell layout.  The points are checked against assignment.toml so the two never drift apart.
Then `otter assign tensor_basics.ipynb dist` makes the student and autograder notebooks.
"""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "tensor_basics.ipynb"

CONFIG = """\
# ASSIGNMENT CONFIG
name: tensor_basics
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
# Tensor basics

Creation, dtypes, indexing, `view`/`reshape`, `permute`/`contiguous`, `squeeze`/`unsqueeze`,
`expand`/`repeat`, `cat`/`stack`/`chunk`, matrix products, `gather`/`index_select` and `clamp`.

**How this notebook is graded**

* Every question says exactly which functions to define, their arguments and what they return
  (type, shape, dtype). Keep those names and signatures: the grader calls them.
* The public tests under each answer check one small, fixed example. The hidden tests use other
  shapes and random values, and also check *how* the result is stored (shared storage 메모리 공유,
  strides, in-place changes). Write code that works in general, not just for the example.
* No question builds on another: each is graded on its own, and an error in one answer does not
  cost you points in any other.
* Where a question asks for a Python `int`, `float` or `bool`, it means exactly that type: a
  `numpy.int64`, `numpy.float64`, `numpy.bool_` or a 0-dim tensor is not accepted (use `.item()`).
* Results are compared exactly, except where a question states a tolerance.
* Printing inside your functions (for debugging) is fine: no test looks at what your code prints.
* You may import the standard library, `numpy`, `torch` and `matplotlib` (for your own plots);
  do not install or import other packages.
* Before you submit, restart the kernel and run all cells from top to bottom."""

SETUP = """\
import numpy as np
import torch

torch.manual_seed(0)"""


def q(name, points, explanation, solution, tests):
    return {"name": name, "points": points, "explanation": explanation,
            "solution": solution, "tests": tests}


QUESTIONS = []

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q1", 2, [r"""
## Question 1: creating tensors (텐서 생성, dtype)

`torch.tensor(data, dtype=...)` **copies** a Python list (or array) into a new tensor. Without a
`dtype`, a list of Python ints becomes `int64` and a list of floats `float32`, but a NumPy array of
floats is `float64`, and models expect `float32` (32비트 실수).

`torch.from_numpy(arr)` does **not** copy: the tensor and the array share the same memory
(메모리 공유), so changing one changes the other.

`t.numel()` is the number of elements as a Python `int`; `t.shape` is a `torch.Size` (a tuple).
""", r"""
**Implement**

* `as_float32(values)`: `values` is a (nested) Python list of numbers; return a new tensor with
  those values and dtype `torch.float32`.
* `share_numpy(arr)`: `arr` is a NumPy array; return a tensor that **shares memory** with `arr`
  (same dtype as `arr`).
* `count_elements(t)`: return the number of elements of tensor `t` as a plain Python `int`
  (not a tensor).
"""], """\
def as_float32(values):
    return torch.tensor(values, dtype=torch.float32)  # SOLUTION


def share_numpy(arr):
    return torch.from_numpy(arr)  # SOLUTION


def count_elements(t):
    return t.numel()  # SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    t = as_float32([[1, 2], [3, 4]])
    a = np.arange(3.0)
    s = share_numpy(a)
    a[0] = 10.0
    n = count_elements(torch.zeros(2, 3))
assert type(t) is torch.Tensor and t.dtype == torch.float32 and t.tolist() == [[1., 2.], [3., 4.]]
assert type(s) is torch.Tensor and s[0].item() == 10.0
assert type(n) is int and n == 6"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q2", 2, [r"""
## Question 2: indexing that keeps dimensions (인덱싱, 슬라이싱)

An integer index **removes** a dimension: for `x` of shape `(R, C)`, `x[i]` has shape `(C,)` and
`x[:, j]` has shape `(R,)`. A slice of length one **keeps** it: `x[i:i+1]` has shape `(1, C)` and
`x[:, j:j+1]` has shape `(R, 1)`. Keeping the dimension matters for broadcasting (브로드캐스팅)
later. Basic slicing returns a view (뷰): no data is copied.
""", r"""
**Implement**

* `row_keepdim(x, i)`: `x` has shape `(R, C)`; return row `i` with shape `(1, C)`.
* `col_keepdim(x, j)`: return column `j` with shape `(R, 1)`.
* `every_other_row(x)`: return rows `0, 2, 4, ...` of `x` (shape `(ceil(R/2), C)`), as a view of
  `x` that shares its memory (no copy; basic slicing gives a view, a list of indices copies).
"""], """\
def row_keepdim(x, i):
    return x[i:i + 1]  # SOLUTION


def col_keepdim(x, j):
    return x[:, j:j + 1]  # SOLUTION


def every_other_row(x):
    return x[::2]  # SOLUTION""", ["""\
import contextlib, io
x = torch.arange(12).view(3, 4)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    r, c, e = row_keepdim(x, 1), col_keepdim(x, 2), every_other_row(x)
assert r.shape == (1, 4) and r.tolist() == [[4, 5, 6, 7]]
assert c.shape == (3, 1) and c.tolist() == [[2], [6], [10]]
assert e.shape == (2, 4) and e.tolist() == [[0, 1, 2, 3], [8, 9, 10, 11]]"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q3", 2, [r"""
## Question 3: `view` vs `reshape`, strides and contiguity (연속성)

A tensor is a block of memory (storage, 저장소) plus a shape and **strides** (스트라이드): `stride(d)` is
how many elements you jump in memory to move one step along dimension `d`. A tensor is
*contiguous* (`is_contiguous()`) when its elements lie in memory in row-major order.

`x.view(shape)` never copies: the result shares storage with `x`, and it raises a `RuntimeError`
when the new shape cannot be expressed with strides on the same memory (e.g. after a transpose).
`x.reshape(shape)` returns a view when it can and **silently copies** otherwise, so writing into
the result may or may not change `x`.
""", r"""
**Implement**

* `merge_last_two(x)`: `x` has shape `(A, B, C)`; return a tensor of shape `(A, B*C)` that
  **always shares storage** with `x`. If that is impossible without a copy, it must raise a
  `RuntimeError` (do not copy silently).
* `layout(x)`: return a dict `{"shape": ..., "stride": ..., "contiguous": ...}` where `shape` and
  `stride` are tuples of Python ints (a `torch.Size`, which is a tuple, is accepted too; a list is
  not) and `contiguous` is a Python `bool`.
"""], """\
def merge_last_two(x):
    # BEGIN SOLUTION
    a, b, c = x.shape
    return x.view(a, b * c)
    # END SOLUTION


def layout(x):
    # BEGIN SOLUTION
    return {"shape": tuple(x.shape), "stride": x.stride(), "contiguous": x.is_contiguous()}
    # END SOLUTION""", ["""\
import contextlib, io
x = torch.arange(24).view(2, 3, 4)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    m = merge_last_two(x)
    d, dt = layout(x), layout(x.transpose(0, 2))
assert m.shape == (2, 12) and m.data_ptr() == x.data_ptr()
assert d == {"shape": (2, 3, 4), "stride": (12, 4, 1), "contiguous": True}
assert dt["contiguous"] is False"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q4", 2, [r"""
## Question 4: `permute`, then `contiguous` (차원 순서 바꾸기)

`x.transpose(d0, d1)` swaps two dimensions and `x.permute(*dims)` reorders all of them. Neither
copies data: they only change the strides, so the result is usually **not contiguous** and a
following `.view(...)` fails. Call `.contiguous()` first (it copies into row-major order).
`.reshape(...)` also gives the right shape, but it returns a view whenever it can, and that view need
not be contiguous (with `N == 1`, `x.permute(0, 2, 3, 1).reshape(-1, C)` is a non-contiguous view),
so here it does not replace `.contiguous()`.

Images are often stored `(N, C, H, W)` (channels first). Many operations want one row per pixel
with its `C` channel values.
""", r"""
**Implement** `pixels_as_rows(x)`: `x` has shape `(N, C, H, W)`; return a **contiguous** tensor
of shape `(N*H*W, C)` whose row number `n*H*W + h*W + w` is `x[n, :, h, w]`, for every size
(also `N == 1`, `C == 1`, `H == 1` or `W == 1`). "Contiguous" is PyTorch's `is_contiguous()`.
"""], """\
def pixels_as_rows(x):
    # BEGIN SOLUTION
    n, c, h, w = x.shape
    return x.permute(0, 2, 3, 1).contiguous().view(n * h * w, c)
    # END SOLUTION""", ["""\
import contextlib, io
x = torch.arange(24.).view(1, 2, 3, 4)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    r = pixels_as_rows(x)
assert r.shape == (12, 2) and r.is_contiguous()
assert r[5].tolist() == [5.0, 17.0]"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q5", 2, [r"""
## Question 5: `squeeze` and `unsqueeze` with an explicit dim (차원 추가/제거)

`x.unsqueeze(d)` inserts a dimension of size 1 at position `d`; `x.squeeze(d)` removes dimension
`d` if it has size 1. `x.squeeze()` **without** a dim removes *every* size-1 dimension, including a
batch dimension that happens to be 1, a classic bug when the last batch has one sample. Always pass
the dim.
""", r"""
**Implement**

* `drop_channel(x)`: `x` has shape `(N, 1, L)`; return shape `(N, L)`, also when `N == 1` or
  `L == 1`.
* `add_batch(x)`: `x` has shape `(C, H, W)`; return shape `(1, C, H, W)` with the same values.
"""], """\
def drop_channel(x):
    return x.squeeze(1)  # SOLUTION


def add_batch(x):
    return x.unsqueeze(0)  # SOLUTION""", ["""\
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    a, b = drop_channel(torch.zeros(4, 1, 5)), add_batch(torch.zeros(3, 2, 2))
assert a.shape == (4, 5) and b.shape == (1, 3, 2, 2)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q6", 2, [r"""
## Question 6: `expand` (no copy) vs `repeat` (copy)

`v.expand(n, D)` makes a size-1 dimension look `n` times bigger **without copying**: the new
dimension gets stride 0, so every row is the same memory. It is cheap, but you must not write into
it. `v.repeat(n, 1)` **copies** the data `n` times into new memory; each row can then be changed
independently. Broadcasting (브로드캐스팅) uses the same trick as `expand` internally.
""", r"""
**Implement** for `v` of shape `(D,)` and an int `n`:

* `broadcast_rows(v, n)`: return shape `(n, D)` where every row equals `v`, **without copying**
  (it shares storage with `v`: when `n > 1` the row stride is 0; for `n == 1` PyTorch keeps a
  size-1 dimension's stride as it is, and any stride is accepted there).
* `tile_rows(v, n)`: return shape `(n, D)` where every row equals `v`, as a **new contiguous
  tensor** that does not share memory with `v`.
"""], """\
def broadcast_rows(v, n):
    return v.unsqueeze(0).expand(n, v.shape[0])  # SOLUTION


def tile_rows(v, n):
    return v.repeat(n, 1)  # SOLUTION""", ["""\
import contextlib, io
v = torch.tensor([1., 2., 3.])
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    b, t = broadcast_rows(v, 4), tile_rows(v, 4)
assert b.shape == (4, 3) and b.stride(0) == 0 and b.data_ptr() == v.data_ptr()
assert t.shape == (4, 3) and t.is_contiguous() and t.data_ptr() != v.data_ptr()
assert b.tolist() == t.tolist() == [[1., 2., 3.]] * 4"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q7", 2, [r"""
## Question 7: `cat`, `stack` and `chunk` (합치기, 나누기)

`torch.cat(tensors, dim)` joins tensors along an **existing** dimension; `torch.stack(tensors, dim)`
creates a **new** dimension (all tensors must have the same shape). `x.chunk(k, dim)` splits `x`
into `k` pieces along `dim` (the last piece may be smaller) and returns a tuple of views.
""", r"""
**Implement**

* `make_batch(samples)`: `samples` is a list of tensors of the same shape `S`; return one tensor
  of shape `(len(samples), *S)`.
* `join_rows(parts)`: `parts` is a list of 2-D tensors with the same number of columns; return them
  one under the other (shape `(sum of rows, C)`).
* `split_features(x, k)`: `x` has shape `(N, k*F)`; return a `tuple` (what `chunk` and `split`
  return; a list is not accepted) of `k` tensors of shape `(N, F)`: the first `F` columns, the
  next `F`, and so on.
"""], """\
def make_batch(samples):
    return torch.stack(samples, dim=0)  # SOLUTION


def join_rows(parts):
    return torch.cat(parts, dim=0)  # SOLUTION


def split_features(x, k):
    return tuple(x.chunk(k, dim=1))  # SOLUTION""", ["""\
import contextlib, io
a, b = torch.zeros(2, 3), torch.ones(2, 3)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    batch, rows = make_batch([a, b]), join_rows([a, torch.ones(1, 3)])
    parts = split_features(torch.arange(8.).view(2, 4), 2)
assert batch.shape == (2, 2, 3) and rows.shape == (3, 3)
assert type(parts) is tuple and len(parts) == 2 and parts[1].tolist() == [[2., 3.], [6., 7.]]"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q8", 2, [r"""
## Question 8: `dot`, `mm`, `matmul` and `bmm` (행렬 곱)

* `torch.dot(a, b)`: 1-D · 1-D, a 0-dim tensor.
* `torch.mm(A, B)`: 2-D only, `(n, m) @ (m, p) -> (n, p)`.
* `torch.bmm(A, B)`: 3-D only, a batch of matrix products `(b, n, m) @ (b, m, p) -> (b, n, p)`.
* `torch.matmul(A, B)` (or `A @ B`): any number of dims; the last two are multiplied and the leading
  (batch) dims are broadcast (브로드캐스팅), so `(b, n, m) @ (m, p)` works.

`k.transpose(1, 2)` swaps the last two dims of a 3-D tensor (never use `view` for that: it keeps
the memory order and scrambles the values).
""", r"""
**Implement**

Float results here are compared with a tolerance: a value `y` is accepted for the exact value `e`
when `|y - e| <= 1e-5 + 1e-4 * |e|` (so the order of the additions does not matter).

* `dot_value(a, b)`: dot product of two 1-D float tensors, as a Python `float`.
* `attention_scores(q, k)`: `q` has shape `(B, T, D)`, `k` shape `(B, S, D)`; return `(B, T, S)`
  with `out[b, t, s] = sum_d q[b, t, d] * k[b, s, d]`.
* `project(x, W)`: `x` has shape `(B, N, D)`, `W` shape `(D, E)`; return `x @ W`, shape `(B, N, E)`.
"""], """\
def dot_value(a, b):
    return torch.dot(a, b).item()  # SOLUTION


def attention_scores(q, k):
    return torch.bmm(q, k.transpose(1, 2))  # SOLUTION


def project(x, W):
    return torch.matmul(x, W)  # SOLUTION""", ["""\
import contextlib, io
q_, k_ = torch.ones(2, 3, 4), torch.ones(2, 5, 4)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    d = dot_value(torch.tensor([1., 2.]), torch.tensor([3., 4.]))
    s, p = attention_scores(q_, k_), project(torch.ones(2, 3, 4), torch.ones(4, 6))
assert type(d) is float and abs(d - 11.0) <= 1e-5 + 1e-4 * 11.0
assert s.shape == (2, 3, 5) and p.shape == (2, 3, 6)"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q9", 2, [r"""
## Question 9: `gather` and `index_select` (인덱스로 값 고르기)

`out = x.gather(dim, index)` picks one element per position: the result has **the shape of
`index`**, and for `dim=1` on a 2-D `x`, `out[i, j] = x[i, index[i, j]]`. `index` must be an
`int64` tensor with as many dims as `x`. For a 3-D `x` and `dim=2`,
`out[b, i, j] = x[b, i, index[b, i, j]]`.

`x.index_select(dim, idx)` keeps whole slices: with `dim=0` it returns the rows `idx` (in that
order, repeats allowed) as a new tensor.
""", r"""
**Implement**

* `pick_scores(scores, labels)`: `scores` shape `(N, C)` float, `labels` shape `(N,)` int64;
  return shape `(N,)` with `out[i] = scores[i, labels[i]]`. It must call `gather`
  (`scores.gather(...)` or `torch.gather(...)`); the grader checks that it does, so advanced
  indexing such as `scores[rows, labels]` gives the right values but does not count.
* `batch_diagonals(x)`: `x` shape `(B, M, M)`; return shape `(B, M)` with `out[b, i] = x[b, i, i]`
  (any correct method: `gather`, `torch.diagonal`, ...).
* `select_rows(x, idx)`: `x` shape `(R, C)`, `idx` 1-D int64; return rows `idx` of `x`, shape
  `(len(idx), C)`. It must call `index_select` (`x.index_select(...)` or `torch.index_select(...)`);
  `x[idx]` gives the right values but does not count.

Every size may be 1 (`N`, `C`, `B`, `M`, `R`, `len(idx)`).
"""], """\
def pick_scores(scores, labels):
    return scores.gather(1, labels.unsqueeze(1)).squeeze(1)  # SOLUTION


def batch_diagonals(x):
    # BEGIN SOLUTION
    b, m, _ = x.shape
    idx = torch.arange(m).view(1, m, 1).expand(b, m, 1)
    return x.gather(2, idx).squeeze(2)
    # END SOLUTION


def select_rows(x, idx):
    return x.index_select(0, idx)  # SOLUTION""", ["""\
import contextlib, io
s = torch.tensor([[0.1, 0.9], [0.8, 0.2]])
x = torch.arange(8.).view(2, 2, 2)
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    p, d = pick_scores(s, torch.tensor([1, 0])), batch_diagonals(x)
    r = select_rows(torch.arange(6).view(3, 2), torch.tensor([2, 0]))
assert torch.equal(p, torch.tensor([0.9, 0.8]))
assert d.tolist() == [[0., 3.], [4., 7.]]
assert r.tolist() == [[4, 5], [0, 1]]"""]))

# ---------------------------------------------------------------------------------------------
QUESTIONS.append(q("q10", 2, [r"""
## Question 10: `clamp` vs `clamp_` (in-place 연산)

`x.clamp(lo, hi)` returns a **new** tensor with every value limited to `[lo, hi]`; `x` itself is
unchanged, so `x.clamp(0, 1)` on its own line does nothing useful: you must use its result.
`x.clamp_(lo, hi)` (trailing underscore) changes `x` **in place** and returns `x` itself.
""", r"""
**Implement**

`x` is a float tensor of any shape (1-D, 2-D, 3-D, ..., also a single value) and `lo < hi` are
Python floats.

* `clipped(x, lo, hi)`: return a new tensor with the values of `x` clamped to `[lo, hi]`; `x` must
  stay unchanged.
* `clip_inplace(x, lo, hi)`: clamp `x` itself in place and return `x` (the same tensor object).
"""], """\
def clipped(x, lo, hi):
    return x.clamp(lo, hi)  # SOLUTION


def clip_inplace(x, lo, hi):
    # BEGIN SOLUTION
    x.clamp_(lo, hi)
    return x
    # END SOLUTION""", ["""\
import contextlib, io
x = torch.tensor([-2., 0.5, 3.])
with contextlib.redirect_stdout(io.StringIO()):  # what your code prints is not checked
    y = clipped(x, 0., 1.)
assert y.tolist() == [0., 0.5, 1.] and x.tolist() == [-2., 0.5, 3.]
with contextlib.redirect_stdout(io.StringIO()):
    z = clip_inplace(x, 0., 1.)
assert z is x and x.tolist() == [0., 0.5, 1.]"""]))


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

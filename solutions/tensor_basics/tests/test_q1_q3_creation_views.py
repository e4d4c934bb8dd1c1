"""Q1-Q3: creation and dtypes, indexing that keeps dims, view vs reshape and strides."""

import math

import torch

from grader.testing import assert_tensor, expect, probe, question, tensors_equal


# ---------------------------------------------------------------------------------------------- q1
@probe
def creation(ns, values, shape, marker):
    import numpy as np

    t = ns.as_float32(values)
    arr = np.arange(1, 1 + math.prod(shape), dtype=np.float64).reshape(shape)
    s = ns.share_numpy(arr)
    before = s.clone() if isinstance(s, torch.Tensor) else None
    arr[(0,) * len(shape)] = marker          # a tensor sharing the array's memory sees this
    return {"t": t, "s": before, "s_after": s.clone() if isinstance(s, torch.Tensor) else None}


@probe
def counting(ns, shape):
    n = ns.count_elements(torch.zeros(shape))
    return {"n": n} if type(n) in (int, bool) else {"type": type(n).__name__}


def nested(rng, shape):
    """A nested Python list of ints of `shape` (any depth)."""
    if not shape:
        return rng.randint(-50, 50)
    return [nested(rng, shape[1:]) for _ in range(shape[0])]


@question("q1", points=1)
def test_creation(student):
    # (shape of the nested list, shape of the NumPy array): the smallest, the example's, far ones
    for vshape, ashape in student.cases(([1], [1]), ([2, 2], [3]),
                                        draw=lambda rng: ([rng.randint(1, 4) for _ in range(rng.randint(3, 4))],
                                                          [rng.randint(2, 5) for _ in range(rng.randint(2, 3))])):
        values = nested(student.rng, vshape)
        marker = -100.0 - student.rng.randint(1, 999) / 8
        r = student.probe(creation, values=values, shape=ashape, marker=marker)
        tensors_equal(r["t"], torch.tensor(values, dtype=torch.float32), name="as_float32(values)")
        expected = torch.arange(1, 1 + math.prod(ashape), dtype=torch.float64).reshape(ashape)
        tensors_equal(r["s"], expected, name="share_numpy(arr)")
        expected.view(-1)[0] = marker
        assert_tensor(r["s_after"], name="share_numpy(arr)")
        expect(torch.equal(r["s_after"], expected), "share_numpy(arr) copies the array: changing the array "
                                                    "afterwards does not change your tensor, but they should "
                                                    "share memory.")


@question("q1", points=1)
def test_count_elements(student):
    for shape in student.cases([1], [2, 3], [],
                               draw=lambda rng: [rng.randint(1, 6) for _ in range(rng.randint(2, 4))]):
        r = student.probe(counting, shape=shape)
        n = r.get("n")
        expect(type(n) is int, "count_elements should return a Python int, but it returned "
                               f"{r.get('type') or type(n).__name__}.")
        expect(n == math.prod(shape), "count_elements returns the wrong number.")


# ---------------------------------------------------------------------------------------------- q2
@probe
def keepdims(ns, x, i, j, shift):
    r, c = ns.row_keepdim(x, i), ns.col_keepdim(x, j)
    e = ns.every_other_row(x)
    out = {"row": r.clone() if isinstance(r, torch.Tensor) else type(r).__name__,
           "col": c.clone() if isinstance(c, torch.Tensor) else type(c).__name__,
           "even": e.clone() if isinstance(e, torch.Tensor) else type(e).__name__}
    x.add_(shift)                            # a view of x sees this, a copy does not
    out["even_after"] = e.clone() if isinstance(e, torch.Tensor) else None
    return out


@question("q2", points=1)
def test_row_and_column(student):
    def far(rng):
        rows, cols = rng.randint(8, 15), rng.randint(8, 15)
        return rows, cols, rng.randrange(rows), rng.randrange(cols)

    # one row and column, the notebook's example (row 1, column 2 of a 3x4), then far from it
    for rows, cols, i, j in student.cases((1, 1, 0, 0), (3, 4, 1, 2), (3, 4, 2, 0), draw=far):
        x = torch.randn(rows, cols, generator=student.generator)
        r = student.probe(keepdims, x=x, i=i, j=j, shift=1.0)
        tensors_equal(r["row"], x[i:i + 1], name=f"row_keepdim(x, {i}) of a {rows}x{cols} x")
        tensors_equal(r["col"], x[:, j:j + 1], name=f"col_keepdim(x, {j}) of a {rows}x{cols} x")


@question("q2", points=1)
def test_every_other_row(student):
    x = torch.randn(student.rng.randint(3, 9), student.rng.randint(2, 5), generator=student.generator)
    shift = student.rng.randint(2, 9) + 0.5
    r = student.probe(keepdims, x=x, i=0, j=0, shift=shift)
    tensors_equal(r["even"], x[::2], name="every_other_row(x)")
    assert_tensor(r["even_after"], name="every_other_row(x)")
    expect(torch.equal(r["even_after"], (x + shift)[::2]),
           "every_other_row(x) copies the data; it should be a view of x (basic slicing).")


# ---------------------------------------------------------------------------------------------- q3
@probe
def merging(ns, shape, shift):
    x = torch.arange(math.prod(shape), dtype=torch.float32).view(*shape)
    m = ns.merge_last_two(x)
    out = {"m": m.clone() if isinstance(m, torch.Tensor) else type(m).__name__}
    x.add_(shift)                            # a view of x sees this, a copy does not
    out["m_after"] = m.clone() if isinstance(m, torch.Tensor) else None
    y = x.transpose(0, 1)
    try:
        ns.merge_last_two(y)
        out["error"] = "none"
    except RuntimeError:
        out["error"] = "RuntimeError"
    except Exception as e:
        out["error"] = type(e).__name__
    return out


@probe
def layouts(ns, shape, dims):
    x = torch.zeros(shape).permute(*dims)
    d = ns.layout(x)
    if not isinstance(d, dict):
        return {"type": type(d).__name__}
    return {"type": "dict", **{key: d.get(key) for key in ("shape", "stride", "contiguous")}}


def int_tuple(value) -> list | None:
    """The judge's reading of a reported shape or stride: a tuple (or torch.Size) of Python ints."""
    if not isinstance(value, tuple) or not all(type(v) is int for v in value):
        return None
    return list(value)


def shape3(student):
    return [student.rng.randint(2, 5), student.rng.randint(2, 5), student.rng.randint(2, 5)]


@question("q3", points=1)
def test_merge_last_two(student):
    def far(rng):
        return [rng.randint(6, 9), rng.randint(6, 9), rng.randint(6, 9)]

    # sizes of 1, the notebook's example, then far from it
    for shape in student.cases([1, 1, 1], [1, 3, 1], [2, 3, 4], draw=far):
        check_merge(student, shape)


def check_merge(student, shape):
    shift = student.rng.randint(2, 9) + 0.25
    r = student.probe(merging, shape=shape, shift=shift)
    x = torch.arange(shape[0] * shape[1] * shape[2], dtype=torch.float32).view(*shape)
    name = f"merge_last_two(x) for x of shape {tuple(shape)}"
    tensors_equal(r["m"], x.view(shape[0], -1), name=name)
    assert_tensor(r["m_after"], name=name)
    expect(torch.equal(r["m_after"], (x + shift).view(shape[0], -1)),
           "merge_last_two(x) does not share storage with x (did you use reshape or a copy?).")
    try:                              # whether view itself raises here is the judge's to decide
        x.transpose(0, 1).view(shape[1], -1)
        expected = "none"
    except RuntimeError:
        expected = "RuntimeError"
    expect(r["error"] == expected,
           "merge_last_two on a transposed (non-contiguous) tensor should do what view does: raise a "
           "RuntimeError where the dimensions cannot be merged without a copy; yours "
           + ("returned a copy silently (reshape?)." if r["error"] == "none" else
              f"raised {r['error']}." if expected == "RuntimeError" else "raised where view does not."))


@question("q3", points=1)
def test_layout(student):
    shape = shape3(student)
    dims = student.rng.choice([[0, 1, 2], [2, 0, 1], [1, 0, 2], [0, 2, 1]])
    r = student.probe(layouts, shape=shape, dims=dims)
    expect(r["type"] == "dict", f"layout(x) should return a dict, not {r['type']}.")
    x = torch.zeros(shape).permute(*dims)
    expect(int_tuple(r.get("shape")) == list(x.shape),
           "layout(x)['shape'] should be the shape as a tuple of ints.")
    expect(int_tuple(r.get("stride")) == list(x.stride()),
           "layout(x)['stride'] should be the strides as a tuple of ints.")
    expect(type(r.get("contiguous")) is bool, "layout(x)['contiguous'] should be a Python bool.")
    expect(r.get("contiguous") == x.is_contiguous(), "layout(x)['contiguous'] is wrong.")

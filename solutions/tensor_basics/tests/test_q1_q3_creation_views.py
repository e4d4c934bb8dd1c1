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
    def call(fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # one wrong function must not cost the other test
            return "raised " + type(e).__name__

    def plain(value):
        return value.clone() if isinstance(value, torch.Tensor) else (value if type(value) is str
                                                                      else "returned " + type(value).__name__)

    r, c = call(ns.row_keepdim, x, i), call(ns.col_keepdim, x, j)
    e = call(ns.every_other_row, x)
    out = {"row": plain(r), "col": plain(c), "even": plain(e)}
    x.add_(shift)                            # a view of x sees this, a copy does not
    out["even_after"] = e.clone() if isinstance(e, torch.Tensor) else None
    return out


def not_raised(value, name):
    """A probe turned an exception into "raised <Type>" and a value that is not a tensor into
    "returned <type>": say so to the student."""
    expect(not (type(value) is str and value.startswith(("raised ", "returned "))), f"{name} {value}.")


@question("q2", points=1)
def test_row_and_column(student):
    def far(rng):
        rows, cols = rng.randint(8, 15), rng.randint(8, 15)
        return rows, cols, rng.randrange(rows), rng.randrange(cols)

    # one row and column, the notebook's example (row 1, column 2 of a 3x4), then far from it
    for rows, cols, i, j in student.cases((1, 1, 0, 0), (3, 4, 1, 2), (3, 4, 2, 0), draw=far):
        x = torch.randn(rows, cols, generator=student.generator)
        r = student.probe(keepdims, x=x, i=i, j=j, shift=1.0)
        not_raised(r["row"], f"row_keepdim(x, {i})")
        not_raised(r["col"], f"col_keepdim(x, {j})")
        tensors_equal(r["row"], x[i:i + 1], name=f"row_keepdim(x, {i}) of a {rows}x{cols} x")
        tensors_equal(r["col"], x[:, j:j + 1], name=f"col_keepdim(x, {j}) of a {rows}x{cols} x")


@question("q2", points=1)
def test_every_other_row(student):
    def far(rng):
        return rng.randint(9, 20), rng.randint(5, 9)

    # one row, two rows, the notebook's example (3x4), then far from it
    for rows, cols in student.cases((1, 1), (2, 3), (3, 4), draw=far):
        x = torch.randn(rows, cols, generator=student.generator)
        shift = student.rng.randint(2, 9) + 0.5
        r = student.probe(keepdims, x=x, i=0, j=0, shift=shift)
        name = f"every_other_row(x) of a {rows}x{cols} x"
        not_raised(r["even"], name)
        tensors_equal(r["even"], x[::2], name=name)
        assert_tensor(r["even_after"], name=name)
        expect(torch.equal(r["even_after"], (x + shift)[::2]),
               f"{name} copies the data; it should be a view of x (basic slicing).")


# ---------------------------------------------------------------------------------------------- q3
@probe
def merging(ns, shape, shift):
    x = torch.arange(math.prod(shape), dtype=torch.float32).view(*shape)
    m = ns.merge_last_two(x)
    out = {"m": m.clone() if isinstance(m, torch.Tensor) else "returned " + type(m).__name__}
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
    not_raised(r["m"], name)
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
    def far(rng):
        shape = [rng.randint(5, 9), rng.randint(5, 9), rng.randint(5, 9)]
        return shape, rng.choice([[2, 0, 1], [1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 2, 0]])

    # (shape before the permute, the permutation): all sizes 1, a size-1 dim moved (still contiguous
    # for PyTorch), the notebook's example and its transpose(0, 2), then far from it
    for shape, dims in student.cases(([1, 1, 1], [0, 1, 2]), ([2, 1, 3], [0, 2, 1]), ([2, 3, 4], [0, 1, 2]),
                                     ([2, 3, 4], [2, 1, 0]), draw=far):
        r = student.probe(layouts, shape=shape, dims=dims)
        x = torch.zeros(shape).permute(*dims)
        name = f"layout(x) for x = torch.zeros{tuple(shape)}.permute{tuple(dims)}"
        expect(r["type"] == "dict", f"{name} should return a dict, not {r['type']}.")
        expect(int_tuple(r.get("shape")) == list(x.shape),
               f"{name}: its 'shape' should be the shape as a tuple of ints.")
        expect(int_tuple(r.get("stride")) == list(x.stride()),
               f"{name}: its 'stride' should be the strides as a tuple of ints.")
        expect(type(r.get("contiguous")) is bool, f"{name}: its 'contiguous' should be a Python bool.")
        expect(r.get("contiguous") == x.is_contiguous(), f"{name}: its 'contiguous' is wrong.")

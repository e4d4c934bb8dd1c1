"""Q4-Q7: permute + contiguous, squeeze/unsqueeze, expand vs repeat, cat/stack/chunk."""

import torch

from grader.testing import assert_tensor, expect, probe, question, tensors_equal




def not_raised(value, name):
    """A probe's call() turned an exception into "raised <Type>": say so to the student."""
    expect(not (type(value) is str and value.startswith("raised ")), f"{name} {value}.")

# ---------------------------------------------------------------------------------------------- q4
@probe
def pixel_rows(ns, x):
    r = ns.pixels_as_rows(x)
    if not isinstance(r, torch.Tensor):
        return {"r": type(r).__name__, "stride": None}
    return {"r": r.clone(), "stride": list(r.stride())}


def is_contiguous(shape, stride) -> bool:
    """Whether a tensor of `shape` with the reported `stride` is contiguous, decided by the judge
    (PyTorch's rule: row-major strides, size-1 dimensions ignored)."""
    if not (isinstance(stride, list) and len(stride) == len(shape) and all(type(s) is int for s in stride)):
        return False
    expected = 1
    for size, step in reversed(list(zip(shape, stride))):
        if size != 1 and step != expected:
            return False
        expected *= size
    return True


def pixel_shape(rng):
    h = rng.randint(2, 7)
    return rng.randint(2, 4), rng.randint(3, 6), h, rng.choice([w for w in range(2, 8) if w != h])


@question("q4", points=2)
def test_pixels_as_rows(student):
    # all sizes 1, the example's (1, 2, 3, 4), a batch of one with H == 1, and larger ones
    for n, c, h, w in student.cases((1, 1, 1, 1), (1, 2, 3, 4), (1, 3, 1, 5), draw=pixel_shape):
        x = torch.randn(n, c, h, w, generator=student.generator)
        r = student.probe(pixel_rows, x=x)
        tensors_equal(r["r"], x.permute(0, 2, 3, 1).reshape(-1, c), name="pixels_as_rows(x)")
        expect(is_contiguous(r["r"].shape, r["stride"]),
               "pixels_as_rows(x) should return a contiguous tensor.")


# ---------------------------------------------------------------------------------------------- q5
@probe
def squeezing(ns, x, y):
    def call(fn, arg):
        try:
            return fn(arg)
        except Exception as e:  # one wrong function must not cost the other test
            return "raised " + type(e).__name__

    a, b = call(ns.drop_channel, x), call(ns.add_batch, y)
    return {"a": a.clone() if isinstance(a, torch.Tensor) else (a if type(a) is str else type(a).__name__),
            "b": b.clone() if isinstance(b, torch.Tensor) else (b if type(b) is str else type(b).__name__)}


@question("q5", points=1)
def test_drop_channel_batch_of_one(student):
    length = student.rng.randint(2, 6)
    for n in (1, student.rng.randint(2, 5)):
        x = torch.randn(n, 1, length, generator=student.generator)
        r = student.probe(squeezing, x=x, y=torch.zeros(2, 2, 2))
        not_raised(r["a"], "drop_channel(x)")
        tensors_equal(r["a"], x[:, 0, :], name=f"drop_channel(x) for a batch of {n}")
    x = torch.randn(3, 1, 1, generator=student.generator)
    r = student.probe(squeezing, x=x, y=torch.zeros(2, 2, 2))
    tensors_equal(r["a"], x[:, 0, :], name="drop_channel(x) with L == 1")


@question("q5", points=1)
def test_add_batch(student):
    y = torch.randn(student.rng.randint(1, 4), student.rng.randint(2, 5), student.rng.randint(2, 5),
                    generator=student.generator)
    r = student.probe(squeezing, x=torch.zeros(2, 1, 2), y=y)
    not_raised(r["b"], "add_batch(x)")
    tensors_equal(r["b"], y.unsqueeze(0), name="add_batch(x)")


# ---------------------------------------------------------------------------------------------- q6
@probe
def expanding(ns, v, n, shift):
    b, t = ns.broadcast_rows(v, n), ns.tile_rows(v, n)
    out = {}
    for key, value in (("b", b), ("t", t)):
        tensor = isinstance(value, torch.Tensor)
        out[key] = value.clone() if tensor else type(value).__name__
        out[key + "_stride"] = list(value.stride()) if tensor else None
    v.add_(shift)                            # a view of v sees this, a copy does not
    for key, value in (("b", b), ("t", t)):
        out[key + "_after"] = value.clone() if isinstance(value, torch.Tensor) else None
    return out


def vector_cases(student):
    """(v, n) pairs: the smallest (D == 1, n == 1), n == 1, the example's (D == 3, n == 4), far ones."""
    sizes = student.cases((1, 1), (4, 1), (3, 4), draw=lambda rng: (rng.randint(5, 9), rng.randint(5, 9)))
    return [(torch.randn(d, generator=student.generator), n) for d, n in sizes]


def shift(student) -> float:
    return student.rng.randint(2, 9) + 0.5


@question("q6", points=1)
def test_broadcast_rows(student):
    for v, n in vector_cases(student):
        k = shift(student)
        r = student.probe(expanding, v=v, n=n, shift=k)
        tensors_equal(r["b"], v.expand(n, -1), name="broadcast_rows(v, n)")
        assert_tensor(r["b_after"], name="broadcast_rows(v, n)")
        stride = r["b_stride"]
        expect(torch.equal(r["b_after"], (v + k).expand(n, -1)) and isinstance(stride, list)
               and len(stride) == 2 and (n == 1 or stride[0] == 0),
               "broadcast_rows(v, n) copies the data; it should be an expanded view of v (row stride 0), "
               "not a repeated copy.")


@question("q6", points=1)
def test_tile_rows(student):
    for v, n in vector_cases(student):
        r = student.probe(expanding, v=v, n=n, shift=shift(student))
        tensors_equal(r["t"], v.repeat(n, 1), name="tile_rows(v, n)")
        assert_tensor(r["t_after"], name="tile_rows(v, n)")
        expect(torch.equal(r["t_after"], v.repeat(n, 1)) and is_contiguous([n, v.numel()], r["t_stride"]),
               "tile_rows(v, n) should be a new contiguous tensor that does not share memory with v.")


# ---------------------------------------------------------------------------------------------- q7
@probe
def joining(ns, samples, parts, x, k):
    b, j, s = ns.make_batch(samples), ns.join_rows(parts), ns.split_features(x, k)
    out = {"b": b.clone() if isinstance(b, torch.Tensor) else type(b).__name__,
           "j": j.clone() if isinstance(j, torch.Tensor) else type(j).__name__,
           "s_type": type(s).__name__}
    if isinstance(s, (tuple, list)):
        pieces = [p.clone() if isinstance(p, torch.Tensor) else type(p).__name__ for p in s]
        out["s"] = tuple(pieces) if type(s) is tuple else pieces     # the wire keeps tuple and list apart
    return out


@question("q7", points=1)
def test_make_batch_and_join_rows(student):
    g = student.generator
    # (number of samples, sample shape, rows of each part, columns): one of each, the example's, far ones
    for count, shape, rows, cols in student.cases(
            (1, [1], [1], 1), (2, [2, 3], [2, 1], 3),
            draw=lambda rng: (rng.randint(3, 6), [rng.randint(1, 4) for _ in range(rng.randint(1, 3))],
                              [rng.randint(1, 5) for _ in range(rng.randint(3, 5))], rng.randint(2, 6))):
        rows = rows if len(set(rows)) > 1 or len(rows) == 1 else rows[:-1] + [rows[-1] + 1]
        samples = [torch.randn(*shape, generator=g) for _ in range(count)]
        parts = [torch.randn(n, cols, generator=g) for n in rows]
        r = student.probe(joining, samples=samples, parts=parts, x=torch.zeros(2, 4), k=2)
        tensors_equal(r["b"], torch.stack(samples), name="make_batch(samples)")
        tensors_equal(r["j"], torch.cat(parts), name="join_rows(parts)")


@question("q7", points=1)
def test_split_features(student):
    k = student.rng.randint(2, 4)
    f = student.rng.choice([v for v in range(2, 6) if v != k])  # split(k) would work when f == k
    x = torch.randn(student.rng.randint(2, 5), k * f, generator=student.generator)
    r = student.probe(joining, samples=[torch.zeros(2)], parts=[torch.zeros(1, 2)], x=x, k=k)
    expect(type(r.get("s")) is tuple, f"split_features should return a tuple, not {r['s_type']}.")
    expect(len(r["s"]) == k, "split_features(x, k) should return exactly k pieces.")
    for i, (got, want) in enumerate(zip(r["s"], x.chunk(k, dim=1))):
        tensors_equal(got, want, name=f"piece {i} of split_features(x, k)")

"""Q4-Q7: permute + contiguous, squeeze/unsqueeze, expand vs repeat, cat/stack/chunk."""

import torch

from grader.testing import assert_tensor, expect, probe, question, tensors_equal


def not_raised(value, name):
    """A probe turned an exception into "raised <Type>" and a value that is not a tensor into
    "returned <type>": say so to the student."""
    expect(not (type(value) is str and value.startswith(("raised ", "returned "))), f"{name} {value}.")

# ---------------------------------------------------------------------------------------------- q4
@probe
def pixel_rows(ns, x):
    r = ns.pixels_as_rows(x)
    if not isinstance(r, torch.Tensor):
        return {"r": "returned " + type(r).__name__, "stride": None}
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
        not_raised(r["r"], "pixels_as_rows(x)")
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

    def plain(value):
        return value.clone() if isinstance(value, torch.Tensor) else (value if type(value) is str
                                                                      else "returned " + type(value).__name__)

    a, b = call(ns.drop_channel, x), call(ns.add_batch, y)
    return {"a": plain(a), "b": plain(b)}


@question("q5", points=1)
def test_drop_channel_batch_of_one(student):
    def far(rng):
        return rng.randint(6, 12), rng.randint(6, 12)

    # (N, L): both 1, a batch of one, the notebook's example (4, 5), L == 1, then far from it
    for n, length in student.cases((1, 1), (1, 5), (4, 5), (3, 1), draw=far):
        x = torch.randn(n, 1, length, generator=student.generator)
        r = student.probe(squeezing, x=x, y=torch.zeros(2, 2, 2))
        name = f"drop_channel(x) for x of shape {tuple(x.shape)}"
        not_raised(r["a"], name)
        tensors_equal(r["a"], x[:, 0, :], name=name)


@question("q5", points=1)
def test_add_batch(student):
    def far(rng):
        return rng.randint(4, 8), rng.randint(5, 9), rng.randint(5, 9)

    # (C, H, W): all 1, the notebook's example (3, 2, 2), then far from it
    for c, h, w in student.cases((1, 1, 1), (3, 2, 2), (1, 4, 3), draw=far):
        y = torch.randn(c, h, w, generator=student.generator)
        r = student.probe(squeezing, x=torch.zeros(2, 1, 2), y=y)
        name = f"add_batch(x) for x of shape {tuple(y.shape)}"
        not_raised(r["b"], name)
        tensors_equal(r["b"], y.unsqueeze(0), name=name)


# ---------------------------------------------------------------------------------------------- q6
@probe
def expanding(ns, v, n, shift):
    def call(fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # one wrong function must not cost the other test
            return "raised " + type(e).__name__

    vb, vt = v.clone(), v.clone()            # each function gets its own v
    b, t = call(ns.broadcast_rows, vb, n), call(ns.tile_rows, vt, n)
    out = {}
    for key, value in (("b", b), ("t", t)):
        tensor = isinstance(value, torch.Tensor)
        out[key] = value.clone() if tensor else (value if type(value) is str
                                                 else "returned " + type(value).__name__)
        out[key + "_stride"] = list(value.stride()) if tensor else None
    vb.add_(shift)                           # a view of its v sees this, a copy does not
    vt.add_(shift)
    for key, value in (("b", b), ("t", t)):
        out[key + "_after"] = value.clone() if isinstance(value, torch.Tensor) else None
    return out


def vector_cases(student):
    """(v, n) pairs: the smallest (D == 1, n == 1), n == 1, the example's (D == 3, n == 4), far ones."""
    sizes = student.cases((1, 1), (4, 1), (3, 4), draw=lambda rng: (rng.randint(6, 12), rng.randint(6, 12)))
    return [(torch.randn(d, generator=student.generator), n) for d, n in sizes]


def shift(student) -> float:
    return student.rng.randint(2, 9) + 0.5


@question("q6", points=1)
def test_broadcast_rows(student):
    for v, n in vector_cases(student):
        k = shift(student)
        r = student.probe(expanding, v=v, n=n, shift=k)
        name = f"broadcast_rows(v, {n}) for v of shape {tuple(v.shape)}"
        not_raised(r["b"], name)
        tensors_equal(r["b"], v.expand(n, -1), name=name)
        assert_tensor(r["b_after"], name=name)
        stride = r["b_stride"]
        expect(torch.equal(r["b_after"], (v + k).expand(n, -1)) and isinstance(stride, list)
               and len(stride) == 2 and (n == 1 or stride[0] == 0),
               f"{name} copies the data; it should be an expanded view of v (row stride 0), "
               "not a repeated copy.")


@question("q6", points=1)
def test_tile_rows(student):
    for v, n in vector_cases(student):
        r = student.probe(expanding, v=v, n=n, shift=shift(student))
        name = f"tile_rows(v, {n}) for v of shape {tuple(v.shape)}"
        not_raised(r["t"], name)
        tensors_equal(r["t"], v.repeat(n, 1), name=name)
        assert_tensor(r["t_after"], name=name)
        expect(torch.equal(r["t_after"], v.repeat(n, 1)) and is_contiguous([n, v.numel()], r["t_stride"]),
               f"{name} should be a new contiguous tensor that does not share memory with v.")


# ---------------------------------------------------------------------------------------------- q7
@probe
def joining(ns, samples, parts, x, k):
    def call(fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # one wrong function must not cost the other test
            return "raised " + type(e).__name__

    def plain(value):
        return value.clone() if isinstance(value, torch.Tensor) else (value if type(value) is str
                                                                      else "returned " + type(value).__name__)

    b, j, s = call(ns.make_batch, samples), call(ns.join_rows, parts), call(ns.split_features, x, k)
    out = {"b": plain(b), "j": plain(j), "s_type": s if type(s) is str else type(s).__name__}
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
        not_raised(r["b"], "make_batch(samples)")
        not_raised(r["j"], "join_rows(parts)")
        tensors_equal(r["b"], torch.stack(samples), name="make_batch(samples)")
        tensors_equal(r["j"], torch.cat(parts), name="join_rows(parts)")


@question("q7", points=1)
def test_split_features(student):
    def far(rng):
        k = rng.randint(3, 5)
        return rng.randint(5, 9), k, rng.choice([f for f in range(2, 7) if f != k])  # split(k) works if F == k

    # (N, k, F): all 1, the notebook's example (2, 2, 2), then far from it
    for n, k, f in student.cases((1, 1, 1), (2, 2, 2), (1, 3, 2), draw=far):
        x = torch.randn(n, k * f, generator=student.generator)
        r = student.probe(joining, samples=[torch.zeros(2)], parts=[torch.zeros(1, 2)], x=x, k=k)
        name = f"split_features(x, {k}) for x of shape {tuple(x.shape)}"
        not_raised(r["s_type"], name)
        expect(type(r.get("s")) is tuple, f"{name} should return a tuple, not {r['s_type']}.")
        expect(len(r["s"]) == k, f"{name} should return exactly k = {k} piece(s).")
        for i, (got, want) in enumerate(zip(r["s"], x.chunk(k, dim=1))):
            tensors_equal(got, want, name=f"piece {i} of {name}")

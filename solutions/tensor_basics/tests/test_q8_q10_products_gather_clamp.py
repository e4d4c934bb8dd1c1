"""Q8-Q10: dot/mm/matmul/bmm, gather and index_select, clamp vs clamp_."""

import math

import torch

from grader.testing import expect, expect_calls, probe, question, tensors_close, tensors_equal, torch_calls

RTOL, ATOL = 1e-4, 1e-5                  # the tolerance Q8's text states


def not_raised(value, name):
    """A probe turned an exception into "raised <Type>" and a value that is not a tensor into
    "returned <type>": say so to the student."""
    expect(not (type(value) is str and value.startswith(("raised ", "returned "))), f"{name} {value}.")

# ---------------------------------------------------------------------------------------------- q8
@probe
def products(ns, a, b, q, k, x, W):
    def call(fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # one wrong function must not cost the other test
            return "raised " + type(e).__name__

    def plain(value):
        return value.clone() if isinstance(value, torch.Tensor) else (value if type(value) is str
                                                                      else "returned " + type(value).__name__)

    d = call(ns.dot_value, a, b)
    s, p = call(ns.attention_scores, q, k), call(ns.project, x, W)
    return {"d_type": type(d).__name__, "d": d if type(d) in (float, int, bool) else None,
            "d_note": d if type(d) is str else "",
            "s": plain(s), "p": plain(p)}


def product_inputs(student, sizes):
    g = student.generator
    n, bsz, t, s, d, e = sizes
    return dict(a=torch.randn(n, generator=g), b=torch.randn(n, generator=g),
                q=torch.randn(bsz, t, d, generator=g), k=torch.randn(bsz, s, d, generator=g),
                x=torch.randn(bsz, t, d, generator=g), W=torch.randn(d, e, generator=g))


def product_cases(student):
    """(n, B, T, S, D, E): all sizes 1, the notebook's example (S != D), and larger draws."""
    def draw(rng):
        s, d = rng.randint(5, 12), rng.randint(5, 12)
        return rng.randint(10, 200), rng.randint(3, 6), rng.randint(5, 9), s, d + (d == s), rng.randint(5, 9)
    return student.cases((1, 1, 1, 1, 1, 1), (2, 2, 3, 5, 4, 6), draw=draw)


@question("q8", points=1)
def test_dot_value(student):
    for sizes in product_cases(student):
        inputs = product_inputs(student, sizes)
        r = student.probe(products, **inputs)
        not_raised(r["d_note"], "dot_value(a, b)")
        expect(type(r["d"]) is float, f"dot_value should return a Python float, not {r['d_type']}.")
        exact = torch.dot(inputs["a"].double(), inputs["b"].double()).item()
        expect(math.isfinite(r["d"]) and abs(r["d"] - exact) <= ATOL + RTOL * abs(exact),
               "dot_value returns the wrong value.")


@question("q8", points=1)
def test_attention_and_project(student):
    for sizes in product_cases(student):
        inputs = product_inputs(student, sizes)
        r = student.probe(products, **inputs)
        not_raised(r["s"], "attention_scores(q, k)")
        not_raised(r["p"], "project(x, W)")
        tensors_close(r["s"], torch.einsum("btd,bsd->bts", inputs["q"].double(), inputs["k"].double()).float(),
                      rtol=RTOL, atol=ATOL, name="attention_scores(q, k)")
        tensors_close(r["p"], torch.einsum("bnd,de->bne", inputs["x"].double(), inputs["W"].double()).float(),
                      rtol=RTOL, atol=ATOL, name="project(x, W)")


# ---------------------------------------------------------------------------------------------- q9
@probe(uses=[torch_calls])
def gathering(ns, scores, labels, x, rows, idx):
    def call(fn, *args):
        try:
            return torch_calls(fn, *args)    # the value and the torch calls of this function alone
        except Exception as e:  # one wrong function must not cost the other test
            return "raised " + type(e).__name__, []

    def plain(value):
        return value.clone() if isinstance(value, torch.Tensor) else (value if type(value) is str
                                                                      else "returned " + type(value).__name__)

    (p, p_calls), (d, _) = call(ns.pick_scores, scores, labels), call(ns.batch_diagonals, x)
    s, s_calls = call(ns.select_rows, rows, idx)
    return {"p": plain(p), "d": plain(d), "s": plain(s), "p_calls": p_calls, "s_calls": s_calls}


def gather_inputs(student, sizes):
    g = student.generator
    n, c, b, m, r, cols, k = sizes
    return dict(scores=torch.randn(n, c, generator=g), labels=torch.randint(0, c, (n,), generator=g),
                x=torch.randn(b, m, m, generator=g), rows=torch.randn(r, cols, generator=g),
                idx=torch.randint(0, r, (k,), generator=g))


def gather_cases(student):
    """(N, C, B, M, R, cols, len(idx)): all sizes 1, the notebook's example, and larger draws."""
    return student.cases((1, 1, 1, 1, 1, 1, 1), (2, 2, 2, 2, 3, 2, 2),
                         draw=lambda rng: (rng.randint(5, 12), rng.randint(3, 9), rng.randint(3, 5),
                                           rng.randint(3, 6), rng.randint(3, 7), rng.randint(2, 5),
                                           rng.randint(3, 9)))


@question("q9", points=1)
def test_pick_scores(student):
    for sizes in gather_cases(student):
        inp = gather_inputs(student, sizes)
        r = student.probe(gathering, **inp)
        name = f"pick_scores(scores, labels) for scores of shape {tuple(inp['scores'].shape)}"
        not_raised(r["p"], name)
        tensors_equal(r["p"], inp["scores"][torch.arange(len(inp["labels"])), inp["labels"]], name=name)
        expect_calls(r["p_calls"], "gather", what=name)


@question("q9", points=1)
def test_diagonals_and_select(student):
    for sizes in gather_cases(student):
        inp = gather_inputs(student, sizes)
        r = student.probe(gathering, **inp)
        diagonals = f"batch_diagonals(x) for x of shape {tuple(inp['x'].shape)}"
        select = (f"select_rows(x, idx) for x of shape {tuple(inp['rows'].shape)} "
                  f"and idx of length {len(inp['idx'])}")
        not_raised(r["d"], diagonals)
        not_raised(r["s"], select)
        tensors_equal(r["d"], torch.diagonal(inp["x"], dim1=1, dim2=2), name=diagonals)
        tensors_equal(r["s"], inp["rows"][inp["idx"]], name=select)
        expect_calls(r["s_calls"], "index_select", what=select)


# --------------------------------------------------------------------------------------------- q10
@probe
def clamping(ns, x, lo, hi, shift):
    def call(fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # one wrong function must not cost the other test
            return "raised " + type(e).__name__

    def plain(value):
        return value.clone() if isinstance(value, torch.Tensor) else (value if type(value) is str
                                                                      else "returned " + type(value).__name__)

    original = x.clone()
    y = call(ns.clipped, x, lo, hi)
    out = {"y": plain(y)}
    if isinstance(y, torch.Tensor):
        y.add_(shift)                        # x changes too if y is x or a view of it
    out["x_after"] = x.clone()
    z = original.clone()
    w = call(ns.clip_inplace, z, lo, hi)
    out["w"] = w if type(w) is str else type(w).__name__
    out["z"] = z.clone()
    if isinstance(w, torch.Tensor):
        w.add_(shift)                        # z sees this only if w is z (or a view of it)
    out["z_after"] = z.clone()
    return out


def clamp_cases(student):
    """(x, lo, hi, shift): one value, the notebook's example (3 values in [0, 1]), then far from it
    (2-D and 3-D, other bounds)."""
    def far(rng):
        shape = [rng.randint(6, 12) for _ in range(rng.randint(2, 3))]
        lo = rng.uniform(-1.5, -0.2)
        return shape, lo, lo + rng.uniform(0.5, 2.0)

    out = []
    for shape, lo, hi in student.cases(([1], -0.5, 0.25), ([3], 0.0, 1.0), ([1, 1], 0.5, 2.0), draw=far):
        x = torch.randn(*shape, generator=student.generator) * 3
        out.append((x, lo, hi, student.rng.randint(2, 9) + 0.5))
    return out


@question("q10", points=1)
def test_clipped(student):
    for x, lo, hi, k in clamp_cases(student):
        r = student.probe(clamping, x=x, lo=lo, hi=hi, shift=k)
        name = f"clipped(x, {lo:g}, {hi:g}) for x of shape {tuple(x.shape)}"
        not_raised(r["y"], name)
        tensors_equal(r["y"], x.clamp(lo, hi), name=name)
        expect(torch.equal(r["x_after"], x), f"{name} changes x; it should return a new tensor.")


@question("q10", points=1)
def test_clip_inplace(student):
    for x, lo, hi, k in clamp_cases(student):
        r = student.probe(clamping, x=x, lo=lo, hi=hi, shift=k)
        name = f"clip_inplace(x, {lo:g}, {hi:g}) for x of shape {tuple(x.shape)}"
        not_raised(r["w"], name)
        clamped = x.clamp(lo, hi)
        tensors_equal(r["z"], clamped, name=f"x after {name}")
        expect(torch.equal(r["z_after"], clamped + k),
               f"{name} should return x itself (the same tensor object).")

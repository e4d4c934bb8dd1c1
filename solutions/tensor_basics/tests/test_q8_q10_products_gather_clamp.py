"""Q8-Q10: dot/mm/matmul/bmm, gather and index_select, clamp vs clamp_."""

import math

import torch

from grader.testing import expect, probe, question, tensors_close, tensors_equal

RTOL, ATOL = 1e-4, 1e-5                  # the tolerance Q8's text states


def not_raised(value, name):
    """A probe's call() turned an exception into "raised <Type>": say so to the student."""
    expect(not (type(value) is str and value.startswith("raised ")), f"{name} {value}.")

# ---------------------------------------------------------------------------------------------- q8
@probe
def products(ns, a, b, q, k, x, W):
    def call(fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # one wrong function must not cost the other test
            return "raised " + type(e).__name__

    d = call(ns.dot_value, a, b)
    s, p = call(ns.attention_scores, q, k), call(ns.project, x, W)
    return {"d_type": type(d).__name__, "d": d if type(d) in (float, int, bool) else None,
            "d_note": d if type(d) is str else "",
            "s": s.clone() if isinstance(s, torch.Tensor) else (s if type(s) is str else type(s).__name__),
            "p": p.clone() if isinstance(p, torch.Tensor) else (p if type(p) is str else type(p).__name__)}


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
@probe
def gathering(ns, scores, labels, x, rows, idx):
    def call(fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # one wrong function must not cost the other test
            return "raised " + type(e).__name__

    p, d = call(ns.pick_scores, scores, labels), call(ns.batch_diagonals, x)
    s = call(ns.select_rows, rows, idx)
    return {k: (v.clone() if isinstance(v, torch.Tensor) else (v if type(v) is str else type(v).__name__))
            for k, v in (("p", p), ("d", d), ("s", s))}


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
        not_raised(r["p"], "pick_scores(scores, labels)")
        tensors_equal(r["p"], inp["scores"][torch.arange(len(inp["labels"])), inp["labels"]],
                      name="pick_scores")


@question("q9", points=1)
def test_diagonals_and_select(student):
    for sizes in gather_cases(student):
        inp = gather_inputs(student, sizes)
        r = student.probe(gathering, **inp)
        not_raised(r["d"], "batch_diagonals(x)")
        not_raised(r["s"], "select_rows(x, idx)")
        tensors_equal(r["d"], torch.diagonal(inp["x"], dim1=1, dim2=2), name="batch_diagonals(x)")
        tensors_equal(r["s"], inp["rows"][inp["idx"]], name="select_rows(x, idx)")


# --------------------------------------------------------------------------------------------- q10
@probe
def clamping(ns, x, lo, hi, shift):
    original = x.clone()
    y = ns.clipped(x, lo, hi)
    out = {"y": y.clone() if isinstance(y, torch.Tensor) else type(y).__name__}
    if isinstance(y, torch.Tensor):
        y.add_(shift)                        # x changes too if y is x or a view of it
    out["x_after"] = x.clone()
    z = original.clone()
    w = ns.clip_inplace(z, lo, hi)
    out["z"] = z.clone()
    if isinstance(w, torch.Tensor):
        w.add_(shift)                        # z sees this only if w is z (or a view of it)
    out["z_after"] = z.clone()
    return out


def clamp_inputs(student):
    x = torch.randn(student.rng.randint(3, 6), student.rng.randint(3, 6), generator=student.generator) * 3
    lo = student.rng.uniform(-1.5, -0.2)
    return dict(x=x, lo=lo, hi=lo + student.rng.uniform(0.5, 2.0), shift=student.rng.randint(2, 9) + 0.5)


@question("q10", points=1)
def test_clipped(student):
    inp = clamp_inputs(student)
    r = student.probe(clamping, **inp)
    tensors_equal(r["y"], inp["x"].clamp(inp["lo"], inp["hi"]), name="clipped(x, lo, hi)")
    expect(torch.equal(r["x_after"], inp["x"]), "clipped(x, lo, hi) changes x; it should return a new tensor.")


@question("q10", points=1)
def test_clip_inplace(student):
    inp = clamp_inputs(student)
    r = student.probe(clamping, **inp)
    clamped = inp["x"].clamp(inp["lo"], inp["hi"])
    tensors_equal(r["z"], clamped, name="x after clip_inplace(x, lo, hi)")
    expect(torch.equal(r["z_after"], clamped + inp["shift"]),
           "clip_inplace(x, lo, hi) should return x itself (the same tensor object).")

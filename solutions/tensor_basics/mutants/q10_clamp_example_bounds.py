# mutant: clipped clamps to the example's bounds [0, 1] and ignores lo and hi
# cell: def clipped(x, lo, hi):
# loses: q10
def clipped(x, lo, hi):
    return x.clamp(0.0, 1.0)


def clip_inplace(x, lo, hi):
    x.clamp_(lo, hi)
    return x

# mutant: clip_inplace clamps element by element with Python's min and max, which works only for a 1-D x like the example's
# cell: def clipped(x, lo, hi):
# loses: q10
def clipped(x, lo, hi):
    return x.clamp(lo, hi)


def clip_inplace(x, lo, hi):
    for i in range(len(x)):
        x[i] = min(max(x[i], lo), hi)
    return x

# mutant: clip_inplace calls x.clamp(lo, hi) and throws the result away
# cell: def clipped(x, lo, hi):
# loses: q10
def clipped(x, lo, hi):
    return x.clamp(lo, hi)


def clip_inplace(x, lo, hi):
    x.clamp(lo, hi)
    return x

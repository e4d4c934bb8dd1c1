# mutant: clip_inplace returns x.clamp(lo, hi), a new tensor, and leaves x as it was
# cell: def clipped(x, lo, hi):
# loses: q10
def clipped(x, lo, hi):
    return x.clamp(lo, hi)


def clip_inplace(x, lo, hi):
    return x.clamp(lo, hi)

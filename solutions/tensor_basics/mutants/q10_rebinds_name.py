# mutant: clip_inplace writes x = x.clamp(lo, hi), which only rebinds the local name
# cell: def clipped(x, lo, hi):
# loses: q10
def clipped(x, lo, hi):
    return x.clamp(lo, hi)


def clip_inplace(x, lo, hi):
    x = x.clamp(lo, hi)
    return x

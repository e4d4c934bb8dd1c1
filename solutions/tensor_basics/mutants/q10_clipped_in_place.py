# mutant: clipped uses clamp_, which changes the input x
# cell: def clipped(x, lo, hi):
# loses: q10
def clipped(x, lo, hi):
    return x.clamp_(lo, hi)


def clip_inplace(x, lo, hi):
    x.clamp_(lo, hi)
    return x

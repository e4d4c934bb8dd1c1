# mutant: pixels_as_rows uses reshape after permute, which is a non-contiguous view when N == 1
# cell: def pixels_as_rows(x):
# loses: q4
def pixels_as_rows(x):
    n, c, h, w = x.shape
    return x.permute(0, 2, 3, 1).reshape(n * h * w, c)

# mutant: pixels_as_rows returns a transposed view that is not contiguous
# cell: def pixels_as_rows(x):
# loses: q4
def pixels_as_rows(x):
    n, c, h, w = x.shape
    return x.permute(1, 0, 2, 3).reshape(c, n * h * w).t()

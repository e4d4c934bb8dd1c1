# mutant: pixels_as_rows uses transpose(1, 3), which gives (N, W, H, C): the pixels come out in the wrong order
# cell: def pixels_as_rows(x):
# loses: q4
def pixels_as_rows(x):
    n, c, h, w = x.shape
    return x.transpose(1, 3).contiguous().view(n * h * w, c)

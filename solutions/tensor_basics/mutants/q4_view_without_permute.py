# mutant: pixels_as_rows only reshapes (x.view(-1, C)) and never moves the channels
# cell: def pixels_as_rows(x):
# loses: q4
def pixels_as_rows(x):
    n, c, h, w = x.shape
    return x.reshape(n * h * w, c)

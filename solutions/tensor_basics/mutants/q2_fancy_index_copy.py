# mutant: every_other_row uses a list of indices (fancy indexing), which copies
# cell: def row_keepdim(x, i):
# loses: q2
def row_keepdim(x, i):
    return x[i:i + 1]


def col_keepdim(x, j):
    return x[:, j:j + 1]


def every_other_row(x):
    return x[list(range(0, x.shape[0], 2))]

# mutant: col_keepdim uses x[:, j], which drops the column dimension
# cell: def row_keepdim(x, i):
# loses: q2
def row_keepdim(x, i):
    return x[i:i + 1]


def col_keepdim(x, j):
    return x[:, j]


def every_other_row(x):
    return x[::2]

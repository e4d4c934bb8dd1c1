# mutant: row_keepdim uses x[i], which drops the row dimension
# cell: def row_keepdim(x, i):
# loses: q2
def row_keepdim(x, i):
    return x[i]


def col_keepdim(x, j):
    return x[:, j:j + 1]


def every_other_row(x):
    return x[::2]

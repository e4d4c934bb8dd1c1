# mutant: row_keepdim hard-codes row 1 of the visible example
# cell: def row_keepdim(x, i):
# loses: q2
def row_keepdim(x, i):
    return x[1:2]


def col_keepdim(x, j):
    return x[:, j:j + 1]


def every_other_row(x):
    return x[::2]

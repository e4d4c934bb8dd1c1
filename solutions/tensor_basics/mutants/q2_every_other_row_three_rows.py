# mutant: every_other_row slices x[0:3:2], which is right only for the example's three rows (or four)
# cell: def row_keepdim(x, i):
# loses: q2
def row_keepdim(x, i):
    return x[i:i + 1]


def col_keepdim(x, j):
    return x[:, j:j + 1]


def every_other_row(x):
    return x[0:3:2]

# mutant: broadcast_rows uses repeat, which copies, where expand was asked
# cell: def broadcast_rows(v, n):
# loses: q6
def broadcast_rows(v, n):
    return v.repeat(n, 1)


def tile_rows(v, n):
    return v.repeat(n, 1)

# mutant: tile_rows repeats the example's four rows whatever n is
# cell: def broadcast_rows(v, n):
# loses: q6
def broadcast_rows(v, n):
    return v.unsqueeze(0).expand(n, v.shape[0])


def tile_rows(v, n):
    return v.repeat(4, 1)

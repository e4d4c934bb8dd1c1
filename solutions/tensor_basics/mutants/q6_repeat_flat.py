# mutant: tile_rows calls v.repeat(n), which gives one long vector of n*D values
# cell: def broadcast_rows(v, n):
# loses: q6
def broadcast_rows(v, n):
    return v.unsqueeze(0).expand(n, v.shape[0])


def tile_rows(v, n):
    return v.repeat(n)

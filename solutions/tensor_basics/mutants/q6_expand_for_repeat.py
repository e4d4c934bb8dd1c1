# mutant: tile_rows uses expand, so the rows share memory with v
# cell: def broadcast_rows(v, n):
# loses: q6
def broadcast_rows(v, n):
    return v.unsqueeze(0).expand(n, v.shape[0])


def tile_rows(v, n):
    return v.expand(n, -1)

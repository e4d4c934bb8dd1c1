# mutant: tile_rows copies with .contiguous() of an expand, which for n == 1 is v's own memory, not a copy
# cell: def broadcast_rows(v, n):
# loses: q6
def broadcast_rows(v, n):
    return v.unsqueeze(0).expand(n, v.shape[0])


def tile_rows(v, n):
    return v.unsqueeze(0).expand(n, v.shape[0]).contiguous()

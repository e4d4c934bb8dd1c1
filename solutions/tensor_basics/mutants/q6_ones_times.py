# mutant: broadcast_rows multiplies by a tensor of ones, which allocates new memory
# cell: def broadcast_rows(v, n):
# loses: q6
def broadcast_rows(v, n):
    return torch.ones(n, 1) * v


def tile_rows(v, n):
    return v.repeat(n, 1)

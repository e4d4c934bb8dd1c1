# mutant: as_float32 converts row by row, so it works only for a list of lists (two levels of nesting)
# cell: def as_float32(values):
# loses: q1
def as_float32(values):
    return torch.tensor([[float(v) for v in row] for row in values])


def share_numpy(arr):
    return torch.from_numpy(arr)


def count_elements(t):
    return t.numel()

# mutant: share_numpy uses torch.tensor(arr), which copies instead of sharing memory
# cell: def as_float32(values):
# loses: q1
def as_float32(values):
    return torch.tensor(values, dtype=torch.float32)


def share_numpy(arr):
    return torch.tensor(arr)


def count_elements(t):
    return t.numel()

# mutant: count_elements returns a tensor holding the count instead of a Python int
# cell: def as_float32(values):
# loses: q1
def as_float32(values):
    return torch.tensor(values, dtype=torch.float32)


def share_numpy(arr):
    return torch.from_numpy(arr)


def count_elements(t):
    return torch.tensor(t.numel())

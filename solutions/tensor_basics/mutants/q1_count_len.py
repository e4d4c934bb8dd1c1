# mutant: count_elements uses len(t), the size of the first dimension only
# cell: def as_float32(values):
# loses: q1
def as_float32(values):
    return torch.tensor(values, dtype=torch.float32)


def share_numpy(arr):
    return torch.from_numpy(arr)


def count_elements(t):
    return len(t)

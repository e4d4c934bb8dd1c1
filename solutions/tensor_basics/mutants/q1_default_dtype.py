# mutant: as_float32 builds the tensor without dtype=torch.float32, so a list of ints gives int64
# cell: def as_float32(values):
# loses: q1
def as_float32(values):
    return torch.tensor(values)


def share_numpy(arr):
    return torch.from_numpy(arr)


def count_elements(t):
    return t.numel()

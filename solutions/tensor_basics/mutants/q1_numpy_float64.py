# mutant: as_float32 goes through a NumPy array, which is float64, and never converts to float32
# cell: def as_float32(values):
# loses: q1
def as_float32(values):
    return torch.from_numpy(np.array(values, dtype=np.float64))


def share_numpy(arr):
    return torch.from_numpy(arr)


def count_elements(t):
    return t.numel()

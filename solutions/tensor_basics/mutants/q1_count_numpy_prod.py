# mutant: count_elements multiplies the shape with NumPy, which returns a numpy.int64, not a Python int
# cell: def as_float32(values):
# loses: q1
def as_float32(values):
    return torch.tensor(values, dtype=torch.float32)


def share_numpy(arr):
    return torch.from_numpy(arr)


def count_elements(t):
    return np.prod(t.shape, dtype=np.int64)

# mutant: dot_value goes through NumPy and returns a numpy.float32, not a Python float
# cell: def dot_value(a, b):
# loses: q8
def dot_value(a, b):
    return np.dot(a.numpy(), b.numpy())


def attention_scores(q, k):
    return torch.bmm(q, k.transpose(1, 2))


def project(x, W):
    return torch.matmul(x, W)

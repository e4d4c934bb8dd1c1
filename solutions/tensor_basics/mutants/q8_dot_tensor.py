# mutant: dot_value returns the 0-dim tensor instead of a Python float
# cell: def dot_value(a, b):
# loses: q8
def dot_value(a, b):
    return torch.dot(a, b)


def attention_scores(q, k):
    return torch.bmm(q, k.transpose(1, 2))


def project(x, W):
    return torch.matmul(x, W)

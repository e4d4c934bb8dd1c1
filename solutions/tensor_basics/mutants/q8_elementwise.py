# mutant: project multiplies element by element (x * W) instead of a matrix product
# cell: def dot_value(a, b):
# loses: q8
def dot_value(a, b):
    return torch.dot(a, b).item()


def attention_scores(q, k):
    return torch.bmm(q, k.transpose(1, 2))


def project(x, W):
    return (x.unsqueeze(-1) * W).sum(-1)

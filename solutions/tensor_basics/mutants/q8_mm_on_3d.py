# mutant: project uses torch.mm, which only accepts 2-D matrices
# cell: def dot_value(a, b):
# loses: q8
def dot_value(a, b):
    return torch.dot(a, b).item()


def attention_scores(q, k):
    return torch.bmm(q, k.transpose(1, 2))


def project(x, W):
    return torch.mm(x, W)

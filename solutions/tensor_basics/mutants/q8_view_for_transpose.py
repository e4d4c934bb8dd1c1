# mutant: attention_scores uses view to swap the last two dims of k, which scrambles the values
# cell: def dot_value(a, b):
# loses: q8
def dot_value(a, b):
    return torch.dot(a, b).item()


def attention_scores(q, k):
    return torch.bmm(q, k.view(k.shape[0], k.shape[2], k.shape[1]))


def project(x, W):
    return torch.matmul(x, W)

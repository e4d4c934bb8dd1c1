# mutant: make_batch uses cat, which joins along dim 0 instead of adding a new batch dim
# cell: def make_batch(samples):
# loses: q7
def make_batch(samples):
    return torch.cat(samples, dim=0)


def join_rows(parts):
    return torch.cat(parts, dim=0)


def split_features(x, k):
    return tuple(x.chunk(k, dim=1))

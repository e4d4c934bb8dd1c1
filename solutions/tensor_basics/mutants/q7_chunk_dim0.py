# mutant: split_features chunks along dim 0 (the rows) instead of the features
# cell: def make_batch(samples):
# loses: q7
def make_batch(samples):
    return torch.stack(samples, dim=0)


def join_rows(parts):
    return torch.cat(parts, dim=0)


def split_features(x, k):
    return tuple(x.chunk(k, dim=0))

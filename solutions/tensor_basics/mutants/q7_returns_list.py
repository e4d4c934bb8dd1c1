# mutant: split_features returns a list instead of a tuple
# cell: def make_batch(samples):
# loses: q7
def make_batch(samples):
    return torch.stack(samples, dim=0)


def join_rows(parts):
    return torch.cat(parts, dim=0)


def split_features(x, k):
    return list(x.chunk(k, dim=1))

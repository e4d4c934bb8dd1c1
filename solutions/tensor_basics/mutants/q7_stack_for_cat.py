# mutant: join_rows uses stack, which adds a new dimension (and fails for parts of different lengths)
# cell: def make_batch(samples):
# loses: q7
def make_batch(samples):
    return torch.stack(samples, dim=0)


def join_rows(parts):
    return torch.stack(parts, dim=0)


def split_features(x, k):
    return tuple(x.chunk(k, dim=1))

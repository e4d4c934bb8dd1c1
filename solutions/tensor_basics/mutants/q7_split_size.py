# mutant: split_features uses split(k), which makes pieces of k columns instead of k pieces
# cell: def make_batch(samples):
# loses: q7
def make_batch(samples):
    return torch.stack(samples, dim=0)


def join_rows(parts):
    return torch.cat(parts, dim=0)


def split_features(x, k):
    return tuple(x.split(k, dim=1))

# mutant: split_features always chunks into the example's two pieces, whatever k is
# cell: def make_batch(samples):
# loses: q7
def make_batch(samples):
    return torch.stack(samples, dim=0)


def join_rows(parts):
    return torch.cat(parts, dim=0)


def split_features(x, k):
    return tuple(x.chunk(2, dim=1))

# mutant: join_rows stacks and then views, which works only when every part has the same number of rows
# cell: def make_batch(samples):
# loses: q7
def make_batch(samples):
    return torch.stack(samples, dim=0)


def join_rows(parts):
    return torch.stack(parts, dim=0).view(-1, parts[0].shape[1])


def split_features(x, k):
    return tuple(x.chunk(k, dim=1))

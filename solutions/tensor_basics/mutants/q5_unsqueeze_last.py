# mutant: add_batch inserts the new dim at the end (unsqueeze(-1))
# cell: def drop_channel(x):
# loses: q5
def drop_channel(x):
    return x.squeeze(1)


def add_batch(x):
    return x.unsqueeze(-1)

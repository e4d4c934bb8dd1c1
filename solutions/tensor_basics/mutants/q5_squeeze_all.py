# mutant: drop_channel uses squeeze() without a dim, which also drops a batch of 1
# cell: def drop_channel(x):
# loses: q5
def drop_channel(x):
    return x.squeeze()


def add_batch(x):
    return x.unsqueeze(0)

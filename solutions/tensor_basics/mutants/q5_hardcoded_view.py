# mutant: add_batch hard-codes the visible example's shape
# cell: def drop_channel(x):
# loses: q5
def drop_channel(x):
    return x.squeeze(1)


def add_batch(x):
    return x.view(1, 3, 2, 2)

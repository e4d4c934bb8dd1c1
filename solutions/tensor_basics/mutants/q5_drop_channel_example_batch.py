# mutant: drop_channel views the result with the example's batch of four rows
# cell: def drop_channel(x):
# loses: q5
def drop_channel(x):
    return x.view(4, -1)


def add_batch(x):
    return x.unsqueeze(0)

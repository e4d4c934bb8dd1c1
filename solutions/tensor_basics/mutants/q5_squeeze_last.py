# mutant: drop_channel squeezes the last dim instead of the channel dim
# cell: def drop_channel(x):
# loses: q5
def drop_channel(x):
    return x.squeeze(-1)


def add_batch(x):
    return x.unsqueeze(0)

# mutant: batch_diagonals builds its index for the example's batch of two
# cell: def pick_scores(scores, labels):
# loses: q9
def pick_scores(scores, labels):
    return scores.gather(1, labels.unsqueeze(1)).squeeze(1)


def batch_diagonals(x):
    m = x.shape[1]
    idx = torch.arange(m).view(1, m, 1).expand(2, m, 1)
    return x.gather(2, idx).squeeze(2)


def select_rows(x, idx):
    return x.index_select(0, idx)

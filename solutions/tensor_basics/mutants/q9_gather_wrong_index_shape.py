# mutant: pick_scores passes labels with shape (1, N) to gather instead of (N, 1)
# cell: def pick_scores(scores, labels):
# loses: q9
def pick_scores(scores, labels):
    return scores.gather(1, labels.unsqueeze(0)).squeeze(0)


def batch_diagonals(x):
    b, m, _ = x.shape
    idx = torch.arange(m).view(1, m, 1).expand(b, m, 1)
    return x.gather(2, idx).squeeze(2)


def select_rows(x, idx):
    return x.index_select(0, idx)

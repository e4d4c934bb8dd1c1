# mutant: batch_diagonals gathers along dim 1 instead of dim 2, so it returns the first column of each matrix
# cell: def pick_scores(scores, labels):
# loses: q9
def pick_scores(scores, labels):
    return scores.gather(1, labels.unsqueeze(1)).squeeze(1)


def batch_diagonals(x):
    b, m, _ = x.shape
    idx = torch.arange(m).view(1, m, 1).expand(b, m, 1)
    return x.gather(1, idx).squeeze(2)


def select_rows(x, idx):
    return x.index_select(0, idx)

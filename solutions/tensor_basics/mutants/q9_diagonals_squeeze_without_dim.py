# mutant: batch_diagonals squeezes without a dim, so a batch of one matrix (or 1x1 matrices) loses a dimension
# cell: def pick_scores(scores, labels):
# loses: q9
def pick_scores(scores, labels):
    return scores.gather(1, labels.unsqueeze(1)).squeeze(1)


def batch_diagonals(x):
    b, m, _ = x.shape
    idx = torch.arange(m).view(1, m, 1).expand(b, m, 1)
    return x.gather(2, idx).squeeze()


def select_rows(x, idx):
    return x.index_select(0, idx)

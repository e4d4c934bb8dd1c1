# mutant: batch_diagonals uses torch.diagonal(x) with its default dims 0 and 1
# cell: def pick_scores(scores, labels):
# loses: q9
def pick_scores(scores, labels):
    return scores.gather(1, labels.unsqueeze(1)).squeeze(1)


def batch_diagonals(x):
    b, m, _ = x.shape
    idx = torch.arange(m).view(1, m, 1).expand(b, m, 1)
    return torch.diagonal(x).T


def select_rows(x, idx):
    return x.index_select(0, idx)

# mutant: pick_scores uses advanced indexing scores[torch.arange(N), labels]: the right values, but gather was asked
# cell: def pick_scores(scores, labels):
# loses: q9
def pick_scores(scores, labels):
    return scores[torch.arange(scores.shape[0]), labels]


def batch_diagonals(x):
    b, m, _ = x.shape
    idx = torch.arange(m).view(1, m, 1).expand(b, m, 1)
    return x.gather(2, idx).squeeze(2)


def select_rows(x, idx):
    return x.index_select(0, idx)

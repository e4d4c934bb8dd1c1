# mutant: pick_scores squeezes without a dim, so a batch of one sample becomes a 0-dim tensor
# cell: def pick_scores(scores, labels):
# loses: q9
def pick_scores(scores, labels):
    return scores.gather(1, labels.unsqueeze(1)).squeeze()


def batch_diagonals(x):
    b, m, _ = x.shape
    idx = torch.arange(m).view(1, m, 1).expand(b, m, 1)
    return x.gather(2, idx).squeeze(2)


def select_rows(x, idx):
    return x.index_select(0, idx)

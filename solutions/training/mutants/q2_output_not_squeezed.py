# mutant: LogisticRegression returns shape (N, 1) instead of (N,)
# cell: def bce_loss(logits, targets):
# loses: q2
def bce_loss(logits, targets):
    return nn.BCEWithLogitsLoss()(logits, targets.to(logits.dtype))


class LogisticRegression(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x):
        return self.linear(x)

# mutant: LogisticRegression squeezes without a dim, so a batch of one example gives shape () instead of (1,)
# cell: def bce_loss(logits, targets):
# loses: q2
def bce_loss(logits, targets):
    return nn.BCEWithLogitsLoss()(logits, targets.to(logits.dtype))


class LogisticRegression(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x):
        return self.linear(x).squeeze()

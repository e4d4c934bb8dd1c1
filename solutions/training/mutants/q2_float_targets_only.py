# mutant: passes the targets unchanged, so integer targets make BCEWithLogitsLoss fail
# cell: def bce_loss(logits, targets):
# loses: q2
def bce_loss(logits, targets):
    return F.binary_cross_entropy_with_logits(logits, targets)


class LogisticRegression(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x):
        return self.linear(x).squeeze(1)

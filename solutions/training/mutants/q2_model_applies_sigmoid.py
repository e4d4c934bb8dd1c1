# mutant: LogisticRegression's forward returns probabilities (sigmoid) instead of logits
# cell: def bce_loss(logits, targets):
# loses: q2
def bce_loss(logits, targets):
    return nn.BCEWithLogitsLoss()(logits, targets.to(logits.dtype))


class LogisticRegression(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x).squeeze(1))

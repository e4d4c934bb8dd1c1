# mutant: the targets are converted with .float(), so float64 logits give a float32 loss
# cell: def bce_loss(logits, targets):
# loses: q2
def bce_loss(logits, targets):
    return nn.BCEWithLogitsLoss()(logits, targets.float())


class LogisticRegression(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x):
        return self.linear(x).squeeze(1)

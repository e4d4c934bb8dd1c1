# mutant: sigmoid followed by BCELoss: wrong (clamped) for very large logits
# cell: def bce_loss(logits, targets):
# loses: q2
def bce_loss(logits, targets):
    return nn.BCELoss()(torch.sigmoid(logits), targets.float())


class LogisticRegression(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x):
        return self.linear(x).squeeze(1)

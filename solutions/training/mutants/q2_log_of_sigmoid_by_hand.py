# mutant: the binary cross-entropy written by hand as log(sigmoid), which gives inf for large logits
# cell: def bce_loss(logits, targets):
# loses: q2
def bce_loss(logits, targets):
    t = targets.to(logits.dtype)
    p = torch.sigmoid(logits)
    return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()


class LogisticRegression(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x):
        return self.linear(x).squeeze(1)

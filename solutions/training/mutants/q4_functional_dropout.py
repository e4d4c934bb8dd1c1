# mutant: F.dropout(x, p) without training=self.training: dropout stays active in eval mode
# cell: class MLP(nn.Module):
# loses: q4
class MLP(nn.Module):
    def __init__(self, n_features, n_hidden, n_classes, p_drop=0.2):
        super().__init__()
        self.fc1 = nn.Linear(n_features, n_hidden)
        self.dropout = nn.Dropout(p_drop)
        self.fc2 = nn.Linear(n_hidden, n_classes)

    def forward(self, x):
        return self.fc2(F.dropout(torch.relu(self.fc1(x)), self.dropout.p))

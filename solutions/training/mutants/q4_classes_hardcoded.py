# mutant: the output layer has 3 classes hard-coded (the penguins' species) instead of n_classes
# cell: class MLP(nn.Module):
# loses: q4
class MLP(nn.Module):
    def __init__(self, n_features, n_hidden, n_classes, p_drop=0.2):
        super().__init__()
        self.fc1 = nn.Linear(n_features, n_hidden)
        self.dropout = nn.Dropout(p_drop)
        self.fc2 = nn.Linear(n_hidden, 3)

    def forward(self, x):
        return self.fc2(self.dropout(torch.relu(self.fc1(x))))

# mutant: fc2 is created before fc1 (the parameters are registered in the wrong order)
# cell: class MLP(nn.Module):
# loses: q4, q8
class MLP(nn.Module):
    def __init__(self, n_features, n_hidden, n_classes, p_drop=0.2):
        super().__init__()
        self.fc2 = nn.Linear(n_hidden, n_classes)
        self.dropout = nn.Dropout(p_drop)
        self.fc1 = nn.Linear(n_features, n_hidden)

    def forward(self, x):
        return self.fc2(self.dropout(torch.relu(self.fc1(x))))

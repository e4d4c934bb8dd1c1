# mutant: the MLP ends with softmax, so CrossEntropyLoss would apply softmax twice
# cell: class MLP(nn.Module):
# loses: q4
class MLP(nn.Module):
    def __init__(self, n_features, n_hidden, n_classes, p_drop=0.2):
        super().__init__()
        self.fc1 = nn.Linear(n_features, n_hidden)
        self.dropout = nn.Dropout(p_drop)
        self.fc2 = nn.Linear(n_hidden, n_classes)

    def forward(self, x):
        return torch.softmax(self.fc2(self.dropout(torch.relu(self.fc1(x)))), dim=1)

# mutant: Heads always creates the two heads of the visible example ('cls' with 3 outputs, 'box' with 4) and ignores head_sizes
# cell: class Stack(nn.Module):
# loses: q2
class Stack(nn.Module):
    def __init__(self, n_layers, width):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(n_layers)])

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x


class Heads(nn.Module):
    def __init__(self, in_features, head_sizes):
        super().__init__()
        self.heads = nn.ModuleDict({"cls": nn.Linear(in_features, 3), "box": nn.Linear(in_features, 4)})

    def forward(self, x, name):
        return self.heads[name](x)

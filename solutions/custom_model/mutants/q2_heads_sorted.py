# mutant: Heads builds its ModuleDict with the names sorted, instead of in the order of head_sizes
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
        self.heads = nn.ModuleDict({name: nn.Linear(in_features, head_sizes[name]) for name in sorted(head_sizes)})

    def forward(self, x, name):
        return self.heads[name](x)

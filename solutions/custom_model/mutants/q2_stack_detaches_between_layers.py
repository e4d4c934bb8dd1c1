# mutant: Stack passes each layer a detached copy of the previous output, so the output is right but gradients reach only the last layer
# cell: class Stack(nn.Module):
# loses: q2
class Stack(nn.Module):
    def __init__(self, n_layers, width):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(n_layers)])

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x.detach()))
        return x


class Heads(nn.Module):
    def __init__(self, in_features, head_sizes):
        super().__init__()
        self.heads = nn.ModuleDict({name: nn.Linear(in_features, size) for name, size in head_sizes.items()})

    def forward(self, x, name):
        return self.heads[name](x)

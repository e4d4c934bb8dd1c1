# mutant: bias=False is ignored: a bias parameter is always created
# cell: class MyLinear(nn.Module):
# loses: q1
class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x):
        return torch.addmm(self.bias, x, self.weight.T)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias=True"

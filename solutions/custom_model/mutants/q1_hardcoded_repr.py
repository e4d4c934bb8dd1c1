# mutant: extra_repr returns the text of the visible example (4, 3, True) for every layer
# cell: class MyLinear(nn.Module):
# loses: q1
class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_features))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        if self.bias is None:
            return x @ self.weight.T
        return torch.addmm(self.bias, x, self.weight.T)

    def extra_repr(self):
        return "in_features=4, out_features=3, bias=True"

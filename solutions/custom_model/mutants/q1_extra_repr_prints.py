# mutant: extra_repr prints the text instead of returning it (so it returns None)
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
        print(f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}")

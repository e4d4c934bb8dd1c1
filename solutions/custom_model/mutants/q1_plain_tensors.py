# mutant: weight and bias are plain tensors with requires_grad=True instead of nn.Parameter, so the module registers no parameters
# cell: class MyLinear(nn.Module):
# loses: q1
class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = torch.randn(out_features, in_features, requires_grad=True)
        if bias:
            self.bias = torch.zeros(out_features, requires_grad=True)
        else:
            self.bias = None

    def forward(self, x):
        if self.bias is None:
            return x @ self.weight.T
        return torch.addmm(self.bias, x, self.weight.T)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

# mutant: forward computes x @ weight.T + bias with a matrix product and an addition instead of one call of torch.addmm
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
        return x @ self.weight.T + self.bias

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
